"""The .env.example scaffold.py writes lists every setting the app reads, with its default and
comment, taken from the settings class itself so that it cannot fall behind it."""

import re
from pathlib import Path

import pytest

import scaffold
from _lib import app_settings
from app.db.config import DatabaseSettings
from tests.helpers import ASSETS
from tests.scripts import scaffold_projects as projects


def env_example(tmp_path: Path, *flags: str) -> str:
    project = projects.app_layout(tmp_path / "project")
    assert scaffold.main([str(project), *flags]) == 0
    return (project / ".env.example").read_text(encoding="utf-8")


def test_list_every_setting_of_the_settings_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = env_example(tmp_path)
    listed = re.findall(r"(?m)^(?:# )?([A-Z][A-Z_]+)=", text)
    assert listed == [name.upper() for name in DatabaseSettings.model_fields]
    assert "\nDATABASE_URL=sqlite+aiosqlite:///./app.db\n" in text
    assert "# the direct connection for Alembic when the app's URL goes through a pooler\n" in text


def test_load_defaults_from_every_line_uncommented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = env_example(tmp_path, "--db", "postgresql")
    folder = tmp_path / "uncommented"
    folder.mkdir()
    lines = [line.removeprefix("# ") for line in text.splitlines()]
    (folder / ".env").write_text(
        "\n".join(line for line in lines if re.match(r"[A-Z_]+=", line)), encoding="utf-8"
    )
    for name in DatabaseSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(folder)
    written = DatabaseSettings.load()
    defaults = DatabaseSettings.model_construct()
    assert written.database_url == "postgresql+asyncpg://USER:PASSWORD@127.0.0.1:5432/app"
    assert written.model_dump(exclude={"database_url"}) == defaults.model_dump(
        exclude={"database_url"}
    )


def test_list_a_field_added_to_the_settings_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.py"
    source = (ASSETS / "app" / "db" / "config.py").read_text(encoding="utf-8")
    added = "    # seconds a new field waits\n    db_new_timeout: PositiveFloat = Field(2.5)\n"
    config.write_text(source.replace("    @model_validator", added + "\n    @model_validator"))
    monkeypatch.setattr(app_settings, "CONFIG", config)
    setting = app_settings.settings()[-1]
    assert setting == app_settings.Setting("DB_NEW_TIMEOUT", "2.5", ("seconds a new field waits",))
