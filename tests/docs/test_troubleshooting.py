"""Every failure in references/troubleshooting.md, reproduced with the wrong pattern.

The tests are in tests/docs/test_troubleshooting_<topic>.py, one module per kind of failure,
each with a REPRODUCED map from section anchor to its tests; this module checks the document
against them.

Each test runs the mistake a section describes on the current library versions, on SQLite and
PostgreSQL unless the failure belongs to one driver (the test id names the backend), and checks
that the text the section quotes is what the user sees: the exception as a traceback prints it,
or the log or pytest output. Where the section's fix is code, a second test runs the fix and
shows the failure gone. The lines a ```diff block removes are lines of these tests, and the lines
it adds are lines of an asset, so the document cannot drift from what ran.
"""

import ast
import importlib
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path

from tests.helpers import ROOT
from tests.troubleshooting_doc import (
    DOC,
    diff_lines,
    quote_pattern,
    quoted_errors,
    sections,
    stripped_lines,
)

# the document itself


def reproduced() -> dict[str, list[Callable[..., object] | str]]:
    """The REPRODUCED of each tests/docs/test_troubleshooting_<topic>.py: section anchor -> the
    tests that reproduce it."""
    found: dict[str, list[Callable[..., object] | str]] = {}
    for path in sorted(Path(__file__).parent.glob("test_troubleshooting_*.py")):
        found |= importlib.import_module(f"tests.docs.{path.stem}").REPRODUCED
    return found


def source_of(test: Callable[..., object] | str) -> str:
    """A test's source: a function of this folder, or "path::function" in another, read from
    its file without importing it."""
    if not isinstance(test, str):
        return inspect.getsource(test)
    path, name = test.split("::")
    source = (ROOT / path).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return ast.get_source_segment(source, node) or ""
    raise AssertionError(f"{test} is not a test function")


def test_reproduce_every_section() -> None:
    documented = {s.anchor for s in sections()} - {"contents"}
    assert documented == set(reproduced()), "each error section needs a reproducing test here"


def test_match_every_quoted_error_in_a_test() -> None:
    tests = reproduced()
    for (section, index), _text in quoted_errors().items():
        sources = [source_of(test) for test in tests.get(section, [])]
        # assert_quoted(...) matches a failure; quote(...) compares with another test's pattern
        calls = (f'assert_quoted("{section}"', f'quote("{section}"')
        used = [
            s
            for s in sources
            if any(c in s for c in calls) and (index == 0 or f"index={index}" in s)
        ]
        if index > 0 and not used:
            used = [s for s in sources if any(c in s for c in calls) and "index=index" in s]
        assert used, f"```text block {index} under #{section} is not asserted by a test"


def test_list_every_section_in_contents() -> None:
    body = DOC.read_text(encoding="utf-8")
    for section in sections():
        if section.anchor != "contents":
            assert f"(#{section.anchor})" in body, f"#{section.anchor} is missing from Contents"


def test_diff_lines_come_from_tests_and_assets() -> None:
    wrong = stripped_lines(*Path(__file__).parent.glob("test_troubleshooting_*.py"))
    right = stripped_lines(*(p for p in (ROOT / "assets").rglob("*.py")))
    for block, sign, line in diff_lines():
        where = f"{block.id}: {sign}{line}"
        if sign == "-":
            assert line in wrong, f"{where} is not the wrong pattern a troubleshooting test runs"
        else:
            assert line in right, f"{where} is not a line of a file under assets/"


def test_quote_pattern_elides_varying_text() -> None:
    pattern = quote_pattern("Task <Task pending ...> got Future ... attached to a different loop")
    assert pattern.search(
        "Task <Task pending name='Task-6'> got Future <F x=1> attached to a different loop"
    )
    assert not pattern.search("got Future <F> attached to a different loop")
