"""Every command the markdown shows for a script or for Alembic parses against the real options.

A script's command is parsed by the script's own argparse parser: its main() is called with the
shown arguments while ArgumentParser.parse_args is wrapped to stop right after parsing, so
nothing else runs. A script that does not exist fails the test.
"""

import argparse
import contextlib
import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic.config import CommandLine

from tests.docs._markdown import (
    ROOT,
    alembic_invocations,
    doc_files,
    linked_files,
    script_invocations,
    shell_lines,
)


class _Parsed(Exception):
    """Raised after a successful parse so that main() goes no further."""


def _script_commands() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in doc_files() + [p for p in linked_files() if p.name == "README.md"]:
        if not path.is_file():
            continue
        for where, line in shell_lines(path):
            for name, args in script_invocations(line):
                found.append((where, name, args))
    return found


def _alembic_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in doc_files():
        if path.is_file():
            for where, line in shell_lines(path):
                found += [(where, args) for args in alembic_invocations(line) if args]
    return found


SCRIPT_COMMANDS = _script_commands()
ALEMBIC_COMMANDS = _alembic_commands()


def load_script(name: str) -> ModuleType:
    path = ROOT / "scripts" / f"{name}.py"
    assert path.is_file(), f"scripts/{name}.py is shown in the docs but does not exist"
    spec = importlib.util.spec_from_file_location(f"docs_script_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def stop_after_parse() -> Iterator[list[argparse.Namespace]]:
    parsed: list[argparse.Namespace] = []
    original = argparse.ArgumentParser.parse_args

    def parse_args(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        namespace = original(self, *args, **kwargs)
        parsed.append(namespace)
        raise _Parsed

    argparse.ArgumentParser.parse_args = parse_args  # type: ignore[assignment,method-assign]
    try:
        yield parsed
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]


def parse_script_args(name: str, args: list[str]) -> tuple[bool, str]:
    """(parsed, error text) for `scripts/NAME.py args`, run through the script's parser."""
    module = load_script(name)
    assert hasattr(module, "main"), f"scripts/{name}.py has no main(argv)"
    stderr = io.StringIO()
    with stop_after_parse() as parsed, contextlib.redirect_stderr(stderr):
        try:
            module.main(args)
        except _Parsed:
            pass
        except SystemExit as exc:
            # --help exits 0 after printing; anything else is a parse error
            return exc.code in (0, None), stderr.getvalue().strip()
    return bool(parsed), stderr.getvalue().strip() or "main() returned without parsing argv"


def test_collect_script_commands() -> None:
    names = {name for _where, name, _args in SCRIPT_COMMANDS}
    assert {"scaffold", "check_db", "check_migrations"} <= names, names


@pytest.mark.parametrize(
    ("where", "name", "args"),
    SCRIPT_COMMANDS,
    ids=[f"{where}:{name}" for where, name, _ in SCRIPT_COMMANDS],
)
def test_script_command_parses(where: str, name: str, args: list[str]) -> None:
    ok, error = parse_script_args(name, args)
    assert ok, f"{where}: scripts/{name}.py {' '.join(args)}: {error}"


def test_parse_script_args_refuses_unknown_option(tmp_path: Path) -> None:
    for name in ("check_db", "scaffold", "check_migrations"):
        if (ROOT / "scripts" / f"{name}.py").is_file():
            ok, error = parse_script_args(name, ["--no-such-option-exists"])
            assert not ok
            assert "unrecognized arguments" in error or "error" in error
            return
    pytest.fail("no script to check the parser wrapper against")


@pytest.mark.parametrize(("where", "args"), ALEMBIC_COMMANDS, ids=[w for w, _ in ALEMBIC_COMMANDS])
def test_alembic_command_parses(where: str, args: list[str]) -> None:
    parser = CommandLine(prog="alembic").parser
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            assert exc.code == 0, f"{where}: alembic {' '.join(args)}: {stderr.getvalue()}"
