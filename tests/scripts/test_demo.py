"""scripts/demo.py: the README's first command."""

import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import demo
from tests.helpers import run_script


# the demo's own mode is an embedded SQLite file; --url covers both backends below
@pytest.mark.sqlite
def test_demo_creates_and_reads_back_user_and_post_over_http(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    result = run_script("demo", "--database", str(database), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "POST /users -> 201" in lines
    assert "GET /users/1 -> 200" in lines
    assert "GET /posts -> 200" in lines
    assert "hashed_password" not in result.stdout
    assert "s3cret-pw" not in result.stdout
    feed = result.stdout.split("GET /posts -> 200\n", 1)[1].split("\ndatabase file kept", 1)[0]
    assert json.loads(feed)["data"][0]["title"] == "Hello"
    assert database.is_file()
    assert not (tmp_path / "app.db").exists()


def test_demo_runs_on_given_url_and_drops_its_tables(
    tmp_path: Path, empty_database_url: str
) -> None:
    result = run_script("demo", "--url", empty_database_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "GET /posts -> 200" in result.stdout
    again = run_script("demo", "--url", empty_database_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_demo_refuses_database_with_app_tables(tmp_path: Path, engine: AsyncEngine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    result = run_script("demo", "--url", url, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("demo.py: error: the database already has tables")


@pytest.mark.parametrize("case", ["exists", "no_folder"])
def test_demo_refuses_bad_database_path(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if case == "exists":
        target = tmp_path / "mine.db"
        target.write_bytes(b"user data")
    else:
        target = tmp_path / "missing" / "demo.db"
    assert demo.main(["--database", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("demo.py: error: ")
    if case == "exists":
        assert target.read_bytes() == b"user data"
