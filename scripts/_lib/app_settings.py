"""The skill's settings class (assets/app/db/config.py) read as data, for the commands that do
not import it: the development default URL, and each setting with its default and comment."""

import ast
from dataclasses import dataclass
from pathlib import Path

from _lib import ASSETS

CONFIG = ASSETS / "app" / "db" / "config.py"
CLASS_NAME = "DatabaseSettings"


@dataclass(frozen=True)
class Setting:
    """One field of the settings class, as a .env line would set it."""

    variable: str
    # the default as .env spells it: "5", "true", "" for None
    default: str
    # the comment lines written above the field, without "# "
    comment: tuple[str, ...]


def _module(path: Path) -> tuple[ast.Module, list[str]]:
    source = path.read_text(encoding="utf-8")
    return ast.parse(source, filename=str(path)), source.splitlines()


def _constants(tree: ast.Module) -> dict[str, tuple[object, int]]:
    """Module-level NAME = <literal> lines: the value and the line it is on."""
    found: dict[str, tuple[object, int]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = (node.value.value, node.lineno)
    return found


def _comment_above(lines: list[str], lineno: int) -> tuple[str, ...]:
    comment: list[str] = []
    at = lineno - 2
    while at >= 0 and lines[at].strip().startswith("#"):
        comment.insert(0, lines[at].strip().removeprefix("#").strip())
        at -= 1
    return tuple(comment)


def _spelled(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def default_url(path: Path | None = None) -> str:
    """The URL the app connects to when DATABASE_URL is not set (DEFAULT_URL in config.py)."""
    path = path or CONFIG
    value = _constants(_module(path)[0]).get("DEFAULT_URL", (None, 0))[0]
    if not isinstance(value, str):
        raise LookupError(f"{path} has no DEFAULT_URL = '...' line")
    return value


def settings(path: Path | None = None) -> list[Setting]:
    """Every field of the settings class, in the order written, with its default and comment."""
    path = path or CONFIG
    tree, lines = _module(path)
    constants = _constants(tree)
    found = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == CLASS_NAME), None
    )
    if found is None:
        raise LookupError(f"{path} has no class {CLASS_NAME}")
    result = []
    for node in found.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        name = node.target.id
        if name.startswith("_") or name == "model_config":
            continue
        default: ast.expr | None = node.value
        if isinstance(default, ast.Call) and ast.unparse(default.func).endswith("Field"):
            # Field(5, ...) or Field(default=5, ...)
            given = [k.value for k in default.keywords if k.arg == "default"]
            default = next(iter([*default.args, *given]), None)
        value: object = None
        comment = _comment_above(lines, node.lineno)
        if isinstance(default, ast.Constant):
            value = default.value
        elif isinstance(default, ast.Name) and default.id in constants:
            value, line = constants[default.id]
            # a default kept in a module constant carries its comment there
            comment = comment or _comment_above(lines, line)
        choices = _literal_choices(node.annotation)
        if choices:
            comment = (*comment, f"one of {', '.join(choices)}")
        result.append(Setting(name.upper(), _spelled(value), comment))
    return result


def _literal_choices(annotation: ast.expr) -> list[str]:
    if (
        isinstance(annotation, ast.Subscript)
        and ast.unparse(annotation.value).split(".")[-1] == "Literal"
    ):
        items = (
            annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        )
        return [str(item.value) for item in items if isinstance(item, ast.Constant)]
    return []
