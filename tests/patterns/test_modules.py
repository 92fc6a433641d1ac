"""Each module in assets/patterns/ is copied alone into a user's package: from the app it may
import only app.db, and it names itself in its docstring."""

import ast
from pathlib import Path

import pytest

PATTERNS = Path(__file__).resolve().parents[2] / "assets" / "patterns"
MODULES = sorted(PATTERNS.glob("*.py"))


def app_imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "app" or name.startswith("app.")}


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_pattern_module_imports_only_app_db(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    outside = {name for name in app_imports(tree) if not name.startswith("app.db")}
    assert not outside, f"{path.name} imports {sorted(outside)}: copy it alone and it breaks"
    assert ast.get_docstring(tree), f"{path.name} has no docstring saying what it is for"
