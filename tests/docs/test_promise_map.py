"""tests/README.md maps each promise to the test that proves it; these tests keep the map true.

A rule added under "## Rules" in SKILL.md without a row fails, as does a row whose key left its
source or whose test no longer exists. Rows are keyed by a phrase of the promise's own text (a
backticked token where the rule has a distinctive one), so rewording around it changes nothing.
"""

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import ROOT

MAP = ROOT / "tests" / "README.md"
_TEST_ID = re.compile(r"^(?P<path>tests/[\w/]+\.py)::(?P<name>test_\w+)(?:\[(?P<param>[^\]]+)\])?$")


@dataclass(frozen=True)
class Row:
    source: str
    key: str
    promise: str
    test: str


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cells(line: str) -> list[str]:
    # no key or promise holds a "|"; inline code is kept with its backticks
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def section(text: str, heading: str) -> list[str]:
    """The lines under `## heading`, up to the next heading of that level."""
    lines = text.splitlines()
    start = lines.index(f"## {heading}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


@cache
def rows() -> tuple[Row, ...]:
    table = [
        line
        for line in section(MAP.read_text(encoding="utf-8"), "Promise map")
        if line.startswith("|")
    ]
    assert _cells(table[0]) == ["source", "key", "promise", "test"], table[0]
    found = []
    for line in table[2:]:
        source, key, promise, test = _cells(line)
        found.append(Row(source, key, promise, test.strip("`")))
        assert not test.startswith("none:") or (
            source.startswith("references/") and len(test) > len("none: ")
        ), f"{line}: only a reference's advice may have no test, with the reason"
    return tuple(found)


def bullets(lines: list[str]) -> list[str]:
    """The markdown list items in lines, each joined with its continuation lines."""
    items: list[str] = []
    for line in lines:
        if line.startswith("- "):
            items.append(line[2:])
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
    return [_flat(item) for item in items]


def skill_rules() -> list[str]:
    return bullets(section((ROOT / "SKILL.md").read_text(encoding="utf-8"), "Rules"))


def readme_recipes() -> list[str]:
    """The rows of README's table of common recipes and what the user sees."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| common recipe |"))
    table = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        table.append(_flat(line))
    return table


def test_map_has_rows_for_skill_readme_and_references() -> None:
    sources = {row.source for row in rows()}
    assert {"SKILL.md", "README.md"} <= sources
    assert any(source.startswith("references/") for source in sources)


def test_map_row_for_every_skill_rule() -> None:
    rules = skill_rules()
    assert len(rules) >= 10, "the Rules section of SKILL.md was not found"
    keys = {row.key for row in rows() if row.source == "SKILL.md"}
    missing = [rule for rule in rules if not any(key in rule for key in keys)]
    assert not missing, f"rules in SKILL.md without a row in tests/README.md: {missing}"


def test_map_key_names_one_skill_rule() -> None:
    rules = skill_rules()
    for row in rows():
        if row.source == "SKILL.md":
            matched = [rule for rule in rules if row.key in rule]
            assert len(matched) == 1, f"{row.key!r} matches {len(matched)} rules of SKILL.md"


def test_map_row_for_every_readme_recipe() -> None:
    keys = {row.key for row in rows() if row.source == "README.md"}
    for recipe in readme_recipes():
        assert any(key in recipe for key in keys), f"README recipe without a row: {recipe}"


def test_map_key_is_in_its_source() -> None:
    for row in rows():
        path = ROOT / row.source
        assert path.is_file(), f"{row.source}: no such file"
        assert row.key in _flat(path.read_text(encoding="utf-8")), f"{row.source}: {row.key!r}"


def _module_file(module: str) -> Path | None:
    """The file `from module import *` reads, on the suite's pythonpath (., assets)."""
    relative = module.replace(".", "/") + ".py"
    return next((p for p in (ROOT / relative, ROOT / "assets" / relative) if p.is_file()), None)


def _functions(path: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module-level functions of a test file, star-imported ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.names[0].name == "*":
            source = _module_file(node.module)
            if source is not None:
                found |= _functions(source)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = node
    return found


def _literal_ids(node: ast.expr, tree: ast.Module) -> set[str]:
    """Ids of parametrize values written as literals, pytest.param(..., id=...), a module-level
    name bound to them, or sorted(...) of a module-level dict's keys."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        return _literal_ids(node.args[0], tree)
    if isinstance(node, ast.Name):
        for statement in tree.body:
            target = getattr(statement, "target", None)
            targets = getattr(statement, "targets", [target])
            value = getattr(statement, "value", None)
            if value is not None and any(
                isinstance(t, ast.Name) and t.id == node.id for t in targets
            ):
                return _literal_ids(value, tree)
        return set()
    elements = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
    ids = set()
    for element in elements:
        if isinstance(element, ast.Constant):
            ids.add(str(element.value))
        elif isinstance(element, ast.Call):
            ids |= {
                str(k.value.value)
                for k in element.keywords
                if k.arg == "id" and isinstance(k.value, ast.Constant)
            }
    return ids


def parametrize_ids(function: ast.FunctionDef | ast.AsyncFunctionDef, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ids: set[str] = set()
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and ast.unparse(decorator.func).endswith("mark.parametrize")
            and len(decorator.args) > 1
        ):
            ids |= _literal_ids(decorator.args[1], tree)
    return ids


def find_test(test_id: str) -> str:
    """The function name of test_id, after checking that the test and its parameter exist."""
    match = _TEST_ID.match(test_id)
    assert match, f"{test_id!r} is not path::test_function[param]"
    path = ROOT / match["path"]
    assert path.is_file(), f"{test_id}: no such file"
    function = _functions(path).get(match["name"])
    assert function is not None, f"{test_id}: no such test function"
    if match["param"] is not None:
        ids = parametrize_ids(function, path)
        assert match["param"] in ids, f"{test_id}: no parameter {match['param']!r} ({ids})"
    return function.name


def reference_rules(path: Path) -> list[str]:
    """The "## Why ..." headings of a reference, and the bold lead of each trap under "## Traps"
    (a `- **lead**` bullet or a `**lead**` paragraph)."""
    text = path.read_text(encoding="utf-8")
    found = [_flat(line[3:]) for line in text.splitlines() if line.startswith("## Why ")]
    if "## Traps" in text.splitlines():
        for line in section(text, "Traps"):
            lead = re.match(r"^(?:- )?\*\*(.+?)\*\*", line)
            if lead:
                found.append(_flat(lead[1]))
    return found


def test_map_row_for_every_reference_rule() -> None:
    references = sorted((ROOT / "references").glob("*.md"))
    every = {p.name: reference_rules(p) for p in references if p.name != "troubleshooting.md"}
    assert sum(len(rules) for rules in every.values()) >= 40, "no traps found in references/"
    for name, rules in every.items():
        keys = {row.key for row in rows() if row.source == f"references/{name}"}
        missing = [rule for rule in rules if not any(key in rule for key in keys)]
        assert not missing, f"references/{name}: no row in tests/README.md for {missing}"


@pytest.mark.parametrize(
    "test_id", sorted({row.test for row in rows() if not row.test.startswith("none:")})
)
def test_map_names_existing_test(test_id: str) -> None:
    assert find_test(test_id).startswith("test_")


def test_find_test_refuses_missing_function_and_parameter() -> None:
    with pytest.raises(AssertionError, match="no such test function"):
        find_test("tests/docs/test_promise_map.py::test_nothing_here")
    with pytest.raises(AssertionError, match="no parameter"):
        find_test("tests/docs/test_quoted_errors.py::test_quoted_error_matches_reproduction[x.md]")
    with pytest.raises(AssertionError, match="no such file"):
        find_test("tests/docs/test_gone.py::test_anything")


def test_reference_rules_read_why_headings_and_traps(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n## Why `x`\ntext\n## Traps\n\n- **A bullet.** more\n**A paragraph.** more\n"
        "plain **not a lead**\n## Next\n- **Elsewhere.**\n",
        encoding="utf-8",
    )
    assert reference_rules(page) == ["Why `x`", "A bullet.", "A paragraph."]


def test_skill_rules_parse_continuation_lines() -> None:
    lines = ["- first `a`", "  continued `b`", "", "- second", "not a bullet"]
    assert bullets(lines) == ["first `a` continued `b`", "second"]
