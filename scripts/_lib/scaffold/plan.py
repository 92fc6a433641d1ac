"""What scaffold.py writes where: the asset files, their rewritten content, and conflicts."""

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from _lib import ASSETS, app_settings
from _lib.scaffold.layout import Layout, LayoutError
from _lib.scaffold.rewrite import Target, helpers_only, rewrite_imports, without

COPIED = ("app", "alembic.ini", "migrations", "tests")
# the user's package has its own __init__.py, and its own app module (edited by hand)
NOT_COPIED = {"app/__init__.py", "app/main.py"}
EXAMPLES = {
    "app/models.py",
    "app/schemas.py",
    "app/repository.py",
    "app/security.py",
    "app/api/routes/users.py",
    "app/api/routes/posts.py",
}
TESTS_WITHOUT_EXAMPLES = {"tests/conftest.py", "tests/test_health.py"}
# what the layer's own files hold for the examples only, left out with --no-examples:
# (definitions, words naming the statements to drop)
EXAMPLE_PARTS: dict[str, tuple[set[str], set[str]]] = {
    # the posts feed's cursor parameter
    "app/api/deps.py": ({"_valid_cursor", "CursorQuery"}, set()),
    # cheap argon2 hashing for the users' passwords in tests, and its marker
    "tests/conftest.py": ({"cheap_password_hashing"}, {"argon2", "production_hashing"}),
}
EMPTY_MODELS = '''"""The ORM models: subclass Base here; migrations/env.py imports this module."""

from {package}.db import Base

__all__ = ["Base"]
'''
SCHEMA_HELPERS_DOC = (
    "Request and response bodies. Build each input field from these helpers, as in\n"
    "`Annotated[str, _text(1, 100), AfterValidator(_storable)]`, so that text no database can\n"
    "store is a 422, not a 500."
)
ENV_URLS = {
    "sqlite": app_settings.default_url(),
    "postgresql": "postgresql+asyncpg://USER:PASSWORD@127.0.0.1:5432/{name}",
}
ENV_HEADER = (
    "The settings the app reads ({config}), each from the environment, else from .env in the "
    "folder the app starts in. Copy this file to .env and keep .env out of git; a line left "
    "commented out keeps the default shown."
)
SUFFIX = ".scaffold-new"


@dataclass
class Plan:
    create: list[tuple[Path, bytes | None]] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    # (user's file, proposed file, "written" | "pending" | "blocked")
    conflicts: list[tuple[Path, Path, str]] = field(default_factory=list)
    # the user's files among the conflicts that start as ours do: a file this command wrote on
    # an earlier run, edited since (models.py with the user's models): nothing to merge
    edited: set[Path] = field(default_factory=set)
    revision_copied: bool = False


def env_example(url: str, config: str) -> str:
    """.env.example: every setting of the app's settings class with its comment and default."""
    parts = [_comment(ENV_HEADER.format(config=config))]
    for setting in app_settings.settings():
        comment = _comment(" ".join(setting.comment))
        if setting.variable == "DATABASE_URL":
            line = f"DATABASE_URL={url}"
        else:
            line = f"# {setting.variable}={setting.default}"
        parts.append(f"{comment}\n{line}" if comment else line)
    return "\n\n".join(parts) + "\n"


def _comment(text: str) -> str:
    return textwrap.fill(text, width=96, initial_indent="# ", subsequent_indent="# ")


def _asset_sources(no_examples: bool) -> list[str]:
    names = []
    for top in COPIED:
        base = ASSETS / top
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for path in files:
            rel = path.relative_to(ASSETS).as_posix()
            if not path.is_file() or "__pycache__" in rel or path.suffix in {".pyc", ".db"}:
                continue
            if rel in NOT_COPIED or (no_examples and _is_example(rel)):
                continue
            names.append(rel)
    return names


def _is_example(rel: str) -> bool:
    if rel.startswith("tests/"):
        return rel not in TESTS_WITHOUT_EXAMPLES
    return rel in EXAMPLES or rel.startswith("migrations/versions/")


def _target(rel: str, layout: Layout) -> Path:
    if rel.startswith("app/"):
        return layout.package_dir / rel.removeprefix("app/")
    return layout.root / rel


def _content(rel: str, layout: Layout, target: Target, no_examples: bool) -> bytes:
    text = (ASSETS / rel).read_text(encoding="utf-8")
    if no_examples and rel in EXAMPLE_PARTS:
        text = without(text, *EXAMPLE_PARTS[rel])
    if rel.endswith(".py"):
        text = rewrite_imports(text, target)
    elif rel == "alembic.ini" and layout.import_root != layout.root:
        path = layout.import_root.relative_to(layout.root).as_posix()
        # "." (the working folder) or "%(here)s" (alembic.ini's folder), then the src/ below it
        text = re.sub(
            r"(?m)^(prepend_sys_path\s*=\s*)(\.|%\(here\)s)\s*$",
            lambda m: f"{m[1]}{path}" if m[2] == "." else f"{m[1]}{m[2]}/{path}",
            text,
        )
    return text.encode("utf-8")


def _check_shadowing(layout: Layout, rels: list[str]) -> None:
    for rel in rels:
        parts = Path(rel).parts
        if parts[0] != "app":
            continue
        for depth in range(2, len(parts)):
            module = layout.package_dir.joinpath(*parts[1:depth]).with_suffix(".py")
            if module.is_file():
                folder = Path(*parts[1:depth]).as_posix()
                raise LayoutError(
                    f"{module.relative_to(layout.root)} exists and the {folder}/ package this "
                    f"adds would shadow it: rename that module, then rerun"
                )


def _user_revisions(versions: Path, ours: set[str]) -> bool:
    return versions.is_dir() and any(p.name not in ours for p in versions.glob("*.py"))


def _without_examples(layout: Layout, target: Target) -> list[tuple[Path, bytes | None]]:
    """An empty models.py, and schemas.py with only the helpers every model's schemas use."""
    schemas = (ASSETS / "app" / "schemas.py").read_text(encoding="utf-8")
    return [
        (layout.package_dir / "models.py", EMPTY_MODELS.format(package=layout.package).encode()),
        (
            layout.package_dir / "schemas.py",
            helpers_only(schemas, target, SCHEMA_HELPERS_DOC).encode(),
        ),
    ]


def make_plan(layout: Layout, target: Target, db: str, no_examples: bool) -> Plan:
    rels = _asset_sources(no_examples)
    _check_shadowing(layout, rels)
    ours = {Path(r).name for r in rels if r.startswith("migrations/versions/")}
    versions = layout.root / "migrations" / "versions"
    skip_revisions = _user_revisions(versions, ours)
    wanted: list[tuple[Path, bytes | None]] = []
    for rel in rels:
        if rel.startswith("migrations/versions/") and skip_revisions:
            continue
        wanted.append((_target(rel, layout), _content(rel, layout, target, no_examples)))
    plan = Plan(revision_copied=bool(ours) and not skip_revisions)
    if no_examples:
        wanted += _without_examples(layout, target)
    if not plan.revision_copied:
        wanted.append((versions, None))
    url = ENV_URLS[db].format(name=layout.package.split(".")[-1])
    config = (layout.package_dir / "db" / "config.py").relative_to(layout.root).as_posix()
    wanted.append((layout.root / ".env.example", env_example(url, config).encode()))
    for path, content in wanted:
        _classify(plan, path, content)
    return plan


def _classify(plan: Plan, path: Path, content: bytes | None) -> None:
    if content is None:
        if path.is_dir():
            plan.unchanged.append(path)
        else:
            plan.create.append((path, None))
        return
    if not path.exists():
        plan.create.append((path, content))
        return
    existing = path.read_bytes() if path.is_file() else b""
    if existing == content or (
        path.name == ".env.example" and re.search(rb"(?m)^\s*DATABASE_URL\s*=", existing)
    ):
        plan.unchanged.append(path)
        return
    proposed = path.with_name(path.name + SUFFIX)
    first = existing.split(b"\n", 1)[0].strip()
    if first and first == content.split(b"\n", 1)[0].strip():
        plan.edited.add(path)
    if not proposed.exists():
        plan.create.append((proposed, content))
        plan.conflicts.append((path, proposed, "written"))
    elif proposed.is_file() and proposed.read_bytes() == content:
        plan.conflicts.append((path, proposed, "pending"))
    else:
        plan.conflicts.append((path, proposed, "blocked"))
