"""check_db.py reads the app's settings the way the app does: the project's own settings class
(or the skill's), inside the project's folder, through pydantic-settings; the two agree on every
.env file, however it is written."""

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import check_db
from _lib.urls import mask
from app.db.config import DatabaseSettings, SettingsError
from tests.helpers import ASSETS
from tests.scripts.support import PASSWORD, line, run

PG_DOWN = "postgresql+asyncpg://app:{password}@127.0.0.1:1/app"

# (.env text, environment): each is read by the app and by check_db, which must agree
DOTENV_CASES = {
    "inline-comment": (f"DATABASE_URL={PG_DOWN.format(password=PASSWORD)}  # production\n", {}),
    "export": ("export DATABASE_URL=sqlite+aiosqlite:///./exported.db\n", {}),
    "single-quotes": ("DATABASE_URL='sqlite+aiosqlite:///./single.db'\n", {}),
    "double-quotes": ('DATABASE_URL="sqlite+aiosqlite:///./double.db"\n', {}),
    "spaces-around-equals": ("DATABASE_URL = sqlite+aiosqlite:///./spaced.db\n", {}),
    "lower-case-name": ("database_url=sqlite+aiosqlite:///./lower.db\n", {}),
    "empty-value": ("DATABASE_URL=\nDB_POOL_SIZE=\n", {}),
    "hash-inside-quotes": (f'DATABASE_URL="{PG_DOWN.format(password="p#" + PASSWORD)}"\n', {}),
    "environment-over-dotenv": (
        "DATABASE_URL=sqlite+aiosqlite:///./from-dotenv.db\nDB_MAX_OVERFLOW=3\n",
        {"DATABASE_URL": "sqlite+aiosqlite:///./from-environment.db", "DB_MAX_OVERFLOW": "4"},
    ),
    "number-with-comment": ("DB_POOL_SIZE=7 # seven\n", {}),
    "number-in-words": ("DB_POOL_SIZE=seven\n", {}),
    "boolean-words": ("DB_PGBOUNCER=y\nDB_ECHO=off\nDB_POOL_PRE_PING=0\n", {}),
    "production-without-url": ("APP_ENV=production\n", {}),
    "url-that-does-not-parse": (f"DATABASE_URL=postgresql+asyncpg//app:{PASSWORD}@db/app\n", {}),
}


def app_reads(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any] | str:
    """What the app's own settings make of the folder's .env: values, URLs masked, or the error."""
    with monkeypatch.context() as patch:
        patch.chdir(folder)
        try:
            values = DatabaseSettings.load().model_dump(mode="json")
        except SettingsError as exc:
            return str(exc)
    return {k: mask(v) if k.endswith("_url") and v else v for k, v in values.items()}


def check_db_reads(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """check_db's JSON document for the folder, and its settings entry."""
    check_db.main(["--project", str(folder), "--json", "--timeout", "2"])
    out = capsys.readouterr().out
    assert PASSWORD not in out
    document = json.loads(out)
    return document, next(c for c in document["checks"] if c["name"] == "settings")


def project_with_settings(folder: Path, config: str | None = None) -> Path:
    """A project whose shop/db/config.py is the skill's settings module, or the text given."""
    target = folder / "shop" / "db" / "config.py"
    target.parent.mkdir(parents=True)
    source = (ASSETS / "app" / "db" / "config.py").read_text(encoding="utf-8")
    target.write_text(config if config is not None else source, encoding="utf-8")
    return folder


@pytest.mark.parametrize("layout", ["project-settings", "skill-settings"])
@pytest.mark.parametrize("case", list(DOTENV_CASES))
def test_read_dotenv_as_the_app_does(
    case: str,
    layout: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    if layout == "project-settings":
        project_with_settings(folder)
    dotenv, environment = DOTENV_CASES[case]
    (folder / ".env").write_text(dotenv, encoding="utf-8")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    app = app_reads(folder, monkeypatch)
    document, settings = check_db_reads(folder, capsys)

    if layout == "project-settings":
        assert settings["origin"] == "shop/db/config.py"
    else:
        assert settings["origin"].startswith("the skill's assets/app/db/config.py")
    if isinstance(app, str):
        assert settings["status"] == "fail"
        assert settings["message"].startswith(f"{app}: the app would not start")
        assert settings["settings"] is None
    else:
        assert settings["status"] == "ok", settings["message"]
        assert settings["settings"] == app
        assert document["url"] == app["database_url"]


def test_read_the_project_settings_class_not_the_skill_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (ASSETS / "app" / "db" / "config.py").read_text(encoding="utf-8")
    changed = source.replace("sqlite+aiosqlite:///./app.db", "sqlite+aiosqlite:///./shop.db")
    changed = changed.replace("db_pool_size: PositiveInt = 10", "db_pool_size: PositiveInt = 3")
    assert changed.count("shop.db") == 1 and "= 3\n" in changed
    folder = project_with_settings(tmp_path / "project" / "src", changed).parent
    # importing the package would run the app's code; the settings module is read on its own
    (folder / "src" / "shop" / "__init__.py").write_text("raise RuntimeError('imported')\n")
    document, settings = check_db_reads(folder, capsys)
    assert settings["origin"] == "src/shop/db/config.py"
    assert settings["settings"]["db_pool_size"] == 3
    assert document["url"] == "sqlite+aiosqlite:///./shop.db"
    assert document["source"] == "app default: DATABASE_URL is not set"


def test_report_settings_module_that_does_not_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project_with_settings(tmp_path / "project", "import no_such_module\n")
    code, output = run(check_db.main, capsys, "--project", str(folder))
    assert code == 1
    assert line(output, "settings") == (
        "FAIL settings: cannot import shop/db/config.py: No module named 'no_such_module': the "
        "app would not start either"
    )


def test_name_dotenv_as_the_url_source(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"# settings\nexport DATABASE_URL='postgres://app:{PASSWORD}@127.0.0.1:1/app'\n",
        encoding="utf-8",
    )
    code, output = run(check_db.main, capsys)
    assert code == 1
    assert line(output, "url") == (
        f"OK   url: postgres://app:***@127.0.0.1:1/app (from DATABASE_URL in {tmp_path}/.env)"
    )


def test_leave_working_directory_and_import_path_as_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project_with_settings(tmp_path / "project")
    before = (os.getcwd(), list(sys.path), set(sys.modules))
    check_db_reads(folder, capsys)
    assert (os.getcwd(), sys.path) == before[:2]
    assert not [name for name in set(sys.modules) - before[2] if "settings" in name]


def naive_reader(text: str) -> dict[str, str]:
    """The hand-written .env reader check_db had before: KEY=VALUE lines, quotes, ` #` comments."""
    values = {}
    for raw in text.splitlines():
        key, _, value = raw.strip().removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value.split(" #", 1)[0].rstrip()
    return values


@pytest.mark.parametrize(
    ("case", "variable", "field", "naive"),
    [
        ("lower-case-name", "DATABASE_URL", "database_url", None),
        ("boolean-words", "DB_PGBOUNCER", "db_pgbouncer", "y"),
    ],
)
def test_hand_written_reader_disagrees_with_the_app(
    case: str,
    variable: str,
    field: str,
    naive: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # why check_db uses the app's own settings: a second parser read these two files otherwise
    dotenv = DOTENV_CASES[case][0]
    (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    app = app_reads(tmp_path, monkeypatch)
    assert isinstance(app, dict)
    assert naive_reader(dotenv).get(variable) == naive
    # the old check turned on PgBouncer mode for 1, true, yes and on only, and read upper case
    assert app[field] not in {None, False} and naive not in {"1", "true", "yes", "on"}
