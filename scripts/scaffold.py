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
are printed, with the dependency command, the .gitignore lines (app.db, .env) your .gitignore
lacks, and the pytest settings. A second run changes nothing.

The dependency command names both drivers, asyncpg and aiosqlite, whatever --db is: the app
connects to sqlite+aiosqlite:///./app.db when DATABASE_URL is not set, production is usually
PostgreSQL, and the copied tests run on both. --db only picks the URL in .env.example.

The examples (users and posts: models, schemas, repository, security.py, routes, tests) are
optional; --no-examples leaves them out. Only the posts feed pages by cursor (CursorQuery in
api/deps.py, the cursor functions in pagination.py). The example revision in
migrations/versions/ creates the example models' tables as copied: if you change or drop an
example model (say keep users, drop posts), edit the models first, delete that revision, then
run `alembic revision --autogenerate` before the first `alembic upgrade head`.

--json prints one document: package, package_dir, app, db, dry_run, created, unchanged,
conflicts [{path, proposed, state: written|pending|blocked}], next_steps [{title, code}],
app_changes (the app module's edits, one field each: imports, lifespan, app_argument,
lifespan_merge, after_app) and exit_code; on an error, {error, exit_code}.

Usage:
  python3 <skill-dir>/scripts/scaffold.py [PROJECT_DIR] [--package NAME] [--db sqlite|postgresql]
                                          [--no-examples] [--dry-run] [--json] [--debug]

Examples:
  python3 .claude/skills/database/scripts/scaffold.py --dry-run
  python3 .claude/skills/database/scripts/scaffold.py . --db postgresql
  python3 ~/skills/database/scripts/scaffold.py ~/code/shop --package shop --no-examples --json

Exit status: 0 done (conflicts, if any, are listed to merge); 1 a target cannot be written (then
nothing is written), or an earlier NAME.scaffold-new with other content is in the way; 2 bad
usage, or no FastAPI package or app found (nothing is written).
"""

import argparse
import json
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _scaffold_steps as _steps  # noqa: E402
from _cli import emit  # noqa: E402
from _scaffold_layout import Layout, LayoutError, detect  # noqa: E402
from _scaffold_plan import ASSETS, ENV_URLS, EXAMPLES, Plan, make_plan  # noqa: E402
from _scaffold_rewrite import AppChanges, Target, app_changes  # noqa: E402
from _scaffold_write import WriteError, write_all  # noqa: E402


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")


def report(
    layout: Layout,
    plan: Plan,
    db: str,
    steps: list[dict[str, str]],
    changes: AppChanges,
    dry: bool,
) -> dict[str, Any]:
    root, app = layout.root, layout.app
    return {
        "package": layout.package,
        "package_dir": _rel(layout.package_dir, root),
        "app": f"{layout.app.path.relative_to(root).as_posix()}:{layout.app.variable}",
        "db": db,
        "dry_run": dry,
        # a folder ends with "/", whether it exists yet (dry run) or not
        "created": [p.relative_to(root).as_posix() + "/" * (c is None) for p, c in plan.create],
        "unchanged": [_rel(p, root) for p in plan.unchanged],
        "conflicts": [
            {"path": _rel(p, root), "proposed": _rel(n, root), "state": state}
            for p, n, state in plan.conflicts
        ],
        "next_steps": steps,
        # the same app edits as next_steps, one field per place in the app module
        "app_changes": {
            "module": app.path.relative_to(root).as_posix(),
            "variable": app.variable,
            "line": app.line,
            **asdict(changes),
        },
    }


CONFLICT_STATES = {
    "written": "yours kept, ours {verb} {proposed}",
    "pending": "yours kept, ours still in {proposed} from an earlier run",
    "blocked": "yours kept; {proposed} holds other content, left as it is",
}


def human(doc: dict[str, Any]) -> str:
    created, conflicts, dry = doc["created"], doc["conflicts"], doc["dry_run"]
    head = "Dry run, nothing written. Would scaffold" if dry else "Scaffolded"
    lines = [
        f"{head} package {doc['package']} ({doc['package_dir']}) for the app in {doc['app']}, "
        f"database {doc['db']}:"
    ]
    lines += [f"  {'would create' if dry else 'created'}  {p}" for p in created]
    lines += [
        f"  conflict  {c['path']}: "
        + CONFLICT_STATES[c["state"]].format(verb="would go to" if dry else "written to", **c)
        for c in conflicts
    ]
    to_merge = f", {len(conflicts)} to merge" if conflicts else ""
    if created:
        verb = "to create" if dry else "created"
        lines.append(f"{len(created)} {verb}, {len(doc['unchanged'])} unchanged{to_merge}.")
    else:
        lines.append(
            f"Nothing to change: all {len(doc['unchanged'])} files are already in place{to_merge}."
        )
    return "\n".join(lines) + "\n\nNext steps:\n" + _steps.render(doc["next_steps"])


def build_steps(
    layout: Layout, target: Target, plan: Plan, no_examples: bool
) -> tuple[list[dict[str, str]], AppChanges]:
    main_source = (ASSETS / "app" / "main.py").read_text(encoding="utf-8")
    dropped = {Path(r).stem for r in EXAMPLES} if no_examples else set()
    user_source = layout.app.path.read_text(encoding="utf-8")
    has_lifespan = layout.app.lifespan is not None
    changes = app_changes(main_source, user_source, target, has_lifespan, dropped)
    ignore = _steps.gitignore_step(layout.root)
    steps = [_steps.dependency_step(), *([ignore] if ignore else [])]
    steps += [*_steps.app_steps(layout, changes), _steps.pytest_step(layout)]
    merge = _steps.conflict_step(plan.conflicts, layout.root)
    steps += [merge] if merge else []
    if not no_examples:
        steps.append(_steps.examples_step(layout))
    if plan.revision_copied:
        revisions = sorted(ASSETS.glob("migrations/versions/*.py"))
        steps += [_steps.example_revision_step(path.name) for path in revisions[:1]]
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
        metavar="NAME",
        help="the package to scaffold into, e.g. myservice "
        "(default: found from app/, src/<package>/ or pyproject.toml)",
    )
    parser.add_argument(
        "--db",
        choices=sorted(ENV_URLS),
        default="sqlite",
        help="the DATABASE_URL written to .env.example; the dependency command lists both "
        "drivers either way (default: sqlite)",
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
        return fail(f"{args.project_dir} is not a folder: pass the project's folder", 2, args.json)
    try:
        layout = detect(root, args.package)
        target = Target(layout.package, layout.app.module, layout.app.variable)
        plan = make_plan(layout, target, args.db, args.no_examples)
        steps, changes = build_steps(layout, target, plan, args.no_examples)
        if not args.dry_run:
            write_all(plan.create)
    except LayoutError as exc:
        return fail(str(exc), 2, args.json)
    except WriteError as exc:
        return fail(f"cannot write into {root}: {exc}; nothing was written", 1, args.json)
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        return fail(f"{type(exc).__name__}: {exc} (rerun with --debug for details)", 1, args.json)
    code = 1 if any(state == "blocked" for _, _, state in plan.conflicts) else 0
    doc = report(layout, plan, args.db, steps, changes, args.dry_run) | {"exit_code": code}
    emit(json.dumps(doc, indent=2) if args.json else human(doc))
    return code


def fail(message: str, code: int, as_json: bool) -> int:
    """One line on stderr; with --json also the one document on stdout."""
    print(f"error: {message}", file=sys.stderr)
    if as_json:
        emit(json.dumps({"error": message, "exit_code": code}, indent=2))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
