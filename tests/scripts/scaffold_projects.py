"""Small FastAPI projects for the scaffold tests, and what a user does after scaffolding them."""

import ast
import hashlib
import textwrap
from pathlib import Path
from typing import Any

SIMPLE_MAIN = """\
from fastapi import FastAPI

app = FastAPI(title="demo")


@app.get("/")
async def root() -> dict[str, str]:
    return {"hello": "world"}
"""

SRC_MAIN = '''\
"""The service's application."""

from fastapi import FastAPI

application = FastAPI(title="myservice")


@application.get("/ping")
async def ping() -> dict[str, str]:
    return {"ping": "pong"}
'''

EXISTING_MAIN = """\
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.routers import items


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.items = ["hammer"]
    yield
    app.state.items = []


app = FastAPI(title="inventory", lifespan=lifespan)
app.include_router(items.router)
"""

EXISTING_ROUTER = """\
from fastapi import APIRouter, Request

from app.models import Item

router = APIRouter(prefix="/items", tags=["items"])


@router.get("")
async def read_items(request: Request) -> list[Item]:
    return [Item(name=name) for name in request.app.state.items]
"""

EXISTING_MODELS = """\
from pydantic import BaseModel


class Item(BaseModel):
    name: str
"""

EXISTING_CONFTEST = """\
import pytest


@pytest.fixture
def expected_items() -> list[dict[str, str]]:
    return [{"name": "hammer"}]
"""

EXISTING_TEST = """\
from fastapi.testclient import TestClient

from app.main import app


def test_read_items(expected_items: list[dict[str, str]]) -> None:
    with TestClient(app) as client:
        response = client.get("/items")
    assert response.status_code == 200
    assert response.json() == expected_items
"""

FACTORY_MAIN = '''\
"""The service, built by a factory."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    application = FastAPI(title="factory")

    @application.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ping": "pong"}

    return application


app = create_app()
'''

NAMED_MAIN = """\
from fastapi import FastAPI

app = FastAPI()
"""

ITEM_MODEL = """

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
"""

ITEM_TEST = """\
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory_api.models import Item


async def test_create_item_and_read_it_back(session: AsyncSession) -> None:
    session.add(Item(name="hammer"))
    await session.commit()
    assert await session.scalar(select(Item.name)) == "hammer"


async def test_create_item_duplicate_name(session: AsyncSession) -> None:
    session.add(Item(name="saw"))
    await session.flush()
    session.add(Item(name="saw"))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Item)) == 0


async def test_read_health(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def app_layout(root: Path) -> Path:
    """The smallest project: app/main.py, no pyproject.toml."""
    return write(root, {"app/__init__.py": "", "app/main.py": SIMPLE_MAIN})


def src_layout(root: Path) -> Path:
    """src/myservice/main.py with a pyproject.toml, the app in a variable named application."""
    pyproject = '[project]\nname = "myservice"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    return write(
        root,
        {
            "pyproject.toml": pyproject,
            "src/myservice/__init__.py": "",
            "src/myservice/main.py": SRC_MAIN,
        },
    )


def existing_project(root: Path) -> Path:
    """An app with its own routes, lifespan, pydantic models.py, conftest and tests."""
    return write(
        root,
        {
            "app/__init__.py": "",
            "app/main.py": EXISTING_MAIN,
            "app/models.py": EXISTING_MODELS,
            "app/routers/__init__.py": "",
            "app/routers/items.py": EXISTING_ROUTER,
            "tests/conftest.py": EXISTING_CONFTEST,
            "tests/test_items.py": EXISTING_TEST,
        },
    )


def named_package(root: Path) -> Path:
    """A package at the top level that only pyproject.toml names (inventory-api)."""
    pyproject = '[project]\nname = "inventory-api"\nversion = "0.1.0"\n'
    return write(
        root,
        {
            "pyproject.toml": pyproject,
            "inventory_api/__init__.py": "",
            "inventory_api/server.py": NAMED_MAIN,
        },
    )


NOTES_MAIN = """\
from fastapi import FastAPI

app = FastAPI(title="notes")


@app.get("/notes")
async def list_notes() -> list[str]:
    return []
"""


def top_level_package(root: Path) -> Path:
    """notes_api/main.py beside requirements.txt: no app/, no src/, no pyproject.toml."""
    return write(
        root,
        {
            "requirements.txt": "fastapi==0.122.0\n",
            "notes_api/__init__.py": "",
            "notes_api/main.py": NOTES_MAIN,
            "scripts/seed.py": "print('seed')\n",
        },
    )


def factory_layout(root: Path) -> Path:
    """An app built by create_app(), with `app = create_app()` at module level."""
    return write(root, {"app/__init__.py": "", "app/main.py": FACTORY_MAIN})


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file and folder under root, with a hash of each file's bytes."""
    return {
        path.relative_to(root).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
        for path in sorted(root.rglob("*"))
    }


def apply_app_changes(root: Path, changes: dict[str, Any]) -> None:
    """Edit the app module as the printed next steps say, the way a user would."""
    path = root / changes["module"]
    lines = path.read_text().splitlines(keepends=True)
    tree = ast.parse("".join(lines))
    factory = changes["factory"]
    # bottom to top, so each insertion leaves the line numbers above it valid
    if factory:
        # the app's lines go inside the factory, before its return (printed indented)
        lines.insert(factory["return_line"] - 1, changes["after_app"] + "\n")
    app_at = changes["line"] - 1
    if changes["app_argument"]:
        lines[app_at] = lines[app_at].replace("FastAPI(", f"FastAPI({changes['app_argument']}, ")
        above = (
            next(
                (i for i, line in enumerate(lines) if line.startswith(f"def {factory['name']}(")),
                app_at,
            )
            if factory
            else app_at
        )
        lines.insert(above, changes["lifespan"] + "\n\n")
    if changes["lifespan_merge"]:
        at = next(i for i, line in enumerate(lines) if line.strip() == "yield")
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines.insert(at + 1, textwrap.indent(changes["lifespan_merge"], indent))
    last_import = max(
        node.end_lineno or 0 for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
    )
    lines.insert(last_import, "\n" + changes["imports"])
    path.write_text("".join(lines) + ("" if factory else "\n\n" + changes["after_app"]))


def merge_conflicts(root: Path, conflicts: list[dict[str, str]]) -> None:
    """Merge each NAME.scaffold-new into the user's file by appending it, then delete it."""
    for conflict in conflicts:
        proposed = root / conflict["proposed"]
        with (root / conflict["path"]).open("a") as handle:
            handle.write("\n\n" + proposed.read_text())
        proposed.unlink()


def add_pytest_settings(root: Path, next_steps: list[dict[str, str]]) -> None:
    """Write the printed [tool.pytest.ini_options] lines as the step says: a new pyproject.toml,
    or appended to the one there is."""
    step = next(s for s in next_steps if "[tool.pytest.ini_options]" in s["code"])
    pyproject = root / "pyproject.toml"
    if step["title"].startswith("Create pyproject.toml"):
        assert not pyproject.exists()
        pyproject.write_text(step["code"])
        return
    assert step["title"].startswith("Add these lines to pyproject.toml"), step["title"]
    pyproject.write_text(pyproject.read_text() + "\n" + step["code"])
