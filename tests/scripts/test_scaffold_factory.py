"""scaffold.py on an app built by a factory: the app's lines go inside create_app(), before its
return, and the copied tests import the module-level app the factory returns."""

import json
from pathlib import Path
from typing import Any

import pytest

import scaffold
from tests.scripts import scaffold_projects as projects


def scaffolded(project: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    assert scaffold.main([str(project), "--json", *flags]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_put_app_lines_inside_the_factory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.factory_layout(tmp_path)
    doc = scaffolded(project, capsys)
    changes = doc["app_changes"]
    assert doc["app"] == "app/main.py:app"
    assert changes["factory"] == {
        "name": "create_app",
        "variable": "application",
        "return_line": 13,
    }
    assert changes["line"] == 7 and changes["app_argument"] == "lifespan=lifespan"
    assert changes["after_app"].splitlines()[:3] == [
        "    application.include_router(users.router)",
        "    application.include_router(posts.router)",
        "    application.include_router(health.router)",
    ]
    titles = [step["title"] for step in doc["next_steps"]]
    assert any(
        t.startswith("Define this lifespan above `def create_app(` in app/main.py") for t in titles
    )
    assert any(
        t.startswith("Add these lines inside create_app(), before `return application` (line 13)")
        for t in titles
    )
    assert "from app.main import app\n" in (project / "tests" / "conftest.py").read_text()


def test_merge_into_the_factory_apps_own_lifespan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = projects.FACTORY_MAIN.replace(
        "from fastapi import FastAPI\n",
        "from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\n\n"
        "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    yield\n",
    ).replace('FastAPI(title="factory")', 'FastAPI(title="factory", lifespan=lifespan)')
    project = projects.write(tmp_path, {"app/__init__.py": "", "app/main.py": main})
    changes = scaffolded(project, capsys, "--dry-run")["app_changes"]
    assert changes["lifespan"] == "" and changes["app_argument"] == ""
    assert changes["lifespan_merge"].endswith("await engine.dispose()\n")
    assert changes["after_app"].startswith("    application.include_router(")
