#!/usr/bin/env python3
"""Add the skill's async database layer (SQLAlchemy 2 + Alembic) to an existing FastAPI project.

Finds the project's package (app/, src/<package>/, or the package pyproject.toml names) and the
module that creates FastAPI(...), then copies the skill's assets into it with the imports
rewritten to that package: db/ (settings, engine, sessions, declarative base), the example
models, schemas, repository and routes, alembic.ini + migrations/, the test fixtures and example
tests (tests/), and .env.example with a DATABASE_URL. Needs only the Python standard library.

It never changes a file you have: a file that exists with other content is kept byte for byte and
the proposed content is written beside it as NAME.scaffold-new, to merge. Your app module is not
edited either: the lines to add (routers, a lifespan that disposes the engine, the 503 handlers)
are printed, with the dependency command and the pytest settings. A second run changes nothing.

Usage:
  python3 <skill-dir>/scripts/scaffold.py [PROJECT_DIR] [--package NAME] [--db sqlite|postgresql]
                                          [--no-examples] [--dry-run] [--json] [--debug]

Examples:
  python3 .claude/skills/database/scripts/scaffold.py --dry-run
  python3 .claude/skills/database/scripts/scaffold.py . --db postgresql
  python3 ~/skills/database/scripts/scaffold.py ~/code/shop --package shop --no-examples --json

Exit status: 0 done (conflicts, if any, are listed to merge); 1 nothing written because a target
cannot be written; 2 bad usage, or no FastAPI package or app found.
"""

import argparse
import json
import re
import sys
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _steps  # noqa: E402
from _layout import Layout, LayoutError, detect  # noqa: E402
from _rewrite import AppChanges, Target, app_changes, rewrite_imports  # noqa: E402
from _write import WriteError, write_all  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"
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
EMPTY_MODELS = '''"""The ORM models: subclass Base here; migrations/env.py imports this module."""

from {package}.db import Base

__all__ = ["Base"]
'''
ENV_URLS = {
    "sqlite": "sqlite+aiosqlite:///./app.db",
    "postgresql": "postgresql+asyncpg://USER:PASSWORD@127.0.0.1:5432/{name}",
}
ENV_EXAMPLE = """# the app and migrations/env.py read DATABASE_URL from the environment
# (optional: DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT, DB_POOL_RECYCLE, DB_ECHO)
DATABASE_URL={url}
"""
SUFFIX = ".scaffold-new"


@dataclass
class Plan:
    create: list[tuple[Path, bytes | None]] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    # (user's file, proposed file, "written" | "pending" | "blocked")
    conflicts: list[tuple[Path, Path, str]] = field(default_factory=list)
    revision_copied: bool = False


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


def _content(rel: str, layout: Layout, target: Target) -> bytes:
    text = (ASSETS / rel).read_text(encoding="utf-8")
    if rel.endswith(".py"):
        text = rewrite_imports(text, target)
    elif rel == "alembic.ini" and layout.import_root != layout.root:
        path = layout.import_root.relative_to(layout.root).as_posix()
        text = re.sub(r"(?m)^prepend_sys_path\s*=\s*\.\s*$", f"prepend_sys_path = {path}", text)
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
        wanted.append((_target(rel, layout), _content(rel, layout, target)))
    plan = Plan(revision_copied=bool(ours) and not skip_revisions)
    if no_examples:
        models = EMPTY_MODELS.format(package=layout.package).encode()
        wanted.append((layout.package_dir / "models.py", models))
    if not plan.revision_copied:
        wanted.append((versions, None))
    url = ENV_URLS[db].format(name=layout.package.split(".")[-1])
    wanted.append((layout.root / ".env.example", ENV_EXAMPLE.format(url=url).encode()))
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
    if not proposed.exists():
        plan.create.append((proposed, content))
        plan.conflicts.append((path, proposed, "written"))
    elif proposed.is_file() and proposed.read_bytes() == content:
        plan.conflicts.append((path, proposed, "pending"))
    else:
        plan.conflicts.append((path, proposed, "blocked"))


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")


def report(
    layout: Layout, plan: Plan, db: str, steps: tuple[list[dict[str, str]], AppChanges], dry: bool
) -> dict[str, Any]:
    root, app = layout.root, layout.app
    return {
        "package": layout.package,
        "package_dir": _rel(layout.package_dir, root),
        "app": f"{layout.app.path.relative_to(root).as_posix()}:{layout.app.variable}",
        "db": db,
        "dry_run": dry,
        "created": [_rel(p, root) for p, _ in plan.create],
        "unchanged": [_rel(p, root) for p in plan.unchanged],
        "conflicts": [
            {"path": _rel(p, root), "proposed": _rel(n, root), "state": state}
            for p, n, state in plan.conflicts
        ],
        "next_steps": steps[0],
        # the same app edits as next_steps, one field per place in the app module
        "app_changes": {
            "module": app.path.relative_to(root).as_posix(),
            "variable": app.variable,
            "line": app.line,
            **asdict(steps[1]),
        },
    }


def human(doc: dict[str, Any]) -> str:
    created, conflicts = doc["created"], doc["conflicts"]
    head = "Dry run, nothing written; it would" if doc["dry_run"] else "Scaffolded"
    lines = [
        f"{head}: package {doc['package']} ({doc['package_dir']}), app {doc['app']}, "
        f"database {doc['db']}"
    ]
    lines += [f"  {'would create' if doc['dry_run'] else 'created'}  {p}" for p in created]
    lines += [
        f"  conflict  {c['path']}: yours kept, ours in {c['proposed']} ({c['state']})"
        for c in conflicts
    ]
    if not created:
        lines.append(
            f"Nothing to change: all {len(doc['unchanged'])} files are already in place"
            + (f", {len(conflicts)} still to merge." if conflicts else ".")
        )
    else:
        lines.append(
            f"{len(created)} to create, {len(doc['unchanged'])} unchanged, "
            f"{len(conflicts)} conflicts."
        )
    return "\n".join(lines) + "\n\nNext steps:\n" + _steps.render(doc["next_steps"])


def build_steps(
    layout: Layout, target: Target, plan: Plan, db: str, no_examples: bool
) -> tuple[list[dict[str, str]], AppChanges]:
    main_source = (ASSETS / "app" / "main.py").read_text(encoding="utf-8")
    dropped = {Path(r).stem for r in EXAMPLES} if no_examples else set()
    user_source = layout.app.path.read_text(encoding="utf-8")
    has_lifespan = layout.app.lifespan is not None
    changes = app_changes(main_source, user_source, target, has_lifespan, dropped)
    steps = [_steps.dependency_step(db), *_steps.app_steps(layout, changes)]
    steps.append(_steps.pytest_step(layout))
    merge = _steps.conflict_step(plan.conflicts, layout.root)
    steps += [merge] if merge else []
    return steps + [_steps.migration_step(plan.revision_copied), _steps.test_step()], changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "project_dir",
        nargs="?",
        default=".",
        help="the FastAPI project's folder (default: the current folder)",
    )
    parser.add_argument(
        "--package",
        help="the package to scaffold into, e.g. myservice "
        "(default: found from app/, src/<package>/ or pyproject.toml)",
    )
    parser.add_argument(
        "--db",
        choices=sorted(ENV_URLS),
        default="sqlite",
        help="the backend for .env.example and the driver (default: sqlite)",
    )
    parser.add_argument(
        "--no-examples",
        action="store_true",
        help="leave out the example users/posts models, routes, tests and "
        "revision; keep db/ and migrations (default: copy them)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing; list what would be done (default: off)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON summary on stdout (default: text)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on unexpected errors (default: off)"
    )
    args = parser.parse_args(argv)
    root = Path(args.project_dir).resolve()
    if not root.is_dir():
        print(
            f"error: {args.project_dir} is not a folder: pass the project's folder", file=sys.stderr
        )
        return 2
    try:
        layout = detect(root, args.package)
        target = Target(layout.package, layout.app.module, layout.app.variable)
        plan = make_plan(layout, target, args.db, args.no_examples)
        steps = build_steps(layout, target, plan, args.db, args.no_examples)
        if not args.dry_run:
            write_all(plan.create)
    except LayoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WriteError as exc:
        print(f"error: cannot write into {root}: {exc}; nothing was written", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(
            f"error: {type(exc).__name__}: {exc} (rerun with --debug for details)", file=sys.stderr
        )
        return 1
    doc = report(layout, plan, args.db, steps, args.dry_run)
    print(json.dumps(doc, indent=2) if args.json else human(doc))
    return 1 if any(c[2] == "blocked" for c in plan.conflicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
