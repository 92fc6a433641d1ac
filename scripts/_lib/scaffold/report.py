"""What scaffold.py reports: the next steps in order, and the summary as text or JSON."""

from dataclasses import asdict
from pathlib import Path
from typing import Any

from _lib import ASSETS
from _lib.project import Tool, install_steps
from _lib.scaffold import steps as _steps
from _lib.scaffold.layout import Layout
from _lib.scaffold.plan import EXAMPLES, Plan
from _lib.scaffold.rewrite import AppChanges, Target, app_changes

CONFLICT_STATES = {
    "written": "yours kept, ours {verb} {proposed}",
    "pending": "yours kept, ours still in {proposed} from an earlier run",
    "blocked": "yours kept; {proposed} holds other content, left as it is",
}


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")


def build_steps(
    layout: Layout, target: Target, plan: Plan, no_examples: bool, tool: Tool
) -> tuple[list[dict[str, str]], AppChanges]:
    main_source = (ASSETS / "app" / "main.py").read_text(encoding="utf-8")
    dropped = {Path(r).stem for r in EXAMPLES} if no_examples else set()
    user_source = layout.app.path.read_text(encoding="utf-8")
    has_lifespan = layout.app.lifespan is not None
    factory = layout.app.factory
    inside = (factory.variable, factory.indent) if factory else None
    changes = app_changes(main_source, user_source, target, has_lifespan, dropped, inside)
    ignore = _steps.gitignore_step(layout.root)
    steps = [*install_steps(tool, layout.root, not no_examples), *([ignore] if ignore else [])]
    steps += [*_steps.app_steps(layout, changes), _steps.pytest_step(layout)]
    merge = _steps.conflict_step(plan.conflicts, layout.root, plan.edited)
    steps += [merge] if merge else []
    if not no_examples:
        steps.append(_steps.examples_step(layout))
    if plan.revision_copied:
        revisions = sorted(ASSETS.glob("migrations/versions/*.py"))
        steps += [_steps.example_revision_step(path.name, tool) for path in revisions[:1]]
    steps += [_steps.migration_step(plan.revision_copied, tool), _steps.test_step(tool)]
    return steps, changes


def document(
    layout: Layout,
    plan: Plan,
    db: str,
    steps: list[dict[str, str]],
    changes: AppChanges,
    dry: bool,
) -> dict[str, Any]:
    root, app = layout.root, layout.app
    factory = app.factory
    return {
        "package": layout.package,
        "package_dir": _rel(layout.package_dir, root),
        "app": f"{app.path.relative_to(root).as_posix()}:{app.variable}",
        "db": db,
        "dry_run": dry,
        # a folder ends with "/", whether it exists yet (dry run) or not
        "created": [p.relative_to(root).as_posix() + "/" * (c is None) for p, c in plan.create],
        "unchanged": [_rel(p, root) for p in plan.unchanged],
        "conflicts": [
            {
                "path": _rel(p, root),
                "proposed": _rel(n, root),
                "state": state,
                # yours starts as ours: edited since an earlier run wrote it, nothing to merge
                "edited": p in plan.edited,
            }
            for p, n, state in plan.conflicts
        ],
        "next_steps": steps,
        # the same app edits as next_steps, one field per place in the app module
        "app_changes": {
            "module": app.path.relative_to(root).as_posix(),
            "variable": app.variable,
            "line": app.line,
            # the function that builds the app, when there is one: after_app goes inside it
            "factory": (
                {
                    "name": factory.name,
                    "variable": factory.variable,
                    "return_line": factory.return_line,
                }
                if factory
                else None
            ),
            **asdict(changes),
        },
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
        + (" (you edited ours: nothing to do unless you want the new one)" if c["edited"] else "")
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
