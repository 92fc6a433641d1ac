"""Every command the markdown shows for a script or for Alembic parses against the real options.

A script's command is parsed by the script's own parser (build_parser(), which every command
in scripts/ has), so nothing else runs. A script that does not exist fails the test.
"""

import contextlib
import io

import pytest
from alembic.config import CommandLine

from _lib.cli import UsageError
from tests.helpers import SCRIPTS, load_script
from tests.markdown import (
    alembic_invocations,
    doc_files,
    linked_files,
    script_invocations,
    shell_lines,
)


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


def parse_script_args(name: str, args: list[str]) -> tuple[bool, str]:
    """(parsed, error text) for `scripts/NAME.py args`, run through the script's parser."""
    path = SCRIPTS / f"{name}.py"
    assert path.is_file(), f"scripts/{name}.py is shown in the docs but does not exist"
    module = load_script(name)
    assert hasattr(module, "build_parser"), f"scripts/{name}.py has no build_parser()"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        try:
            module.build_parser().parse_args(args)
        except UsageError as exc:
            return False, str(exc)
        except SystemExit as exc:  # --help printed its text
            return exc.code in (0, None), stdout.getvalue()
    return True, ""


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


@pytest.mark.parametrize("name", ["scaffold", "check_db", "check_migrations", "demo"])
def test_parse_script_args_refuses_unknown_option(name: str) -> None:
    ok, text = parse_script_args(name, ["--help"])
    assert ok and "Usage:" in text
    ok, error = parse_script_args(name, ["--no-such-option-exists"])
    assert not ok
    assert error.startswith("unrecognized arguments: --no-such-option-exists")


@pytest.mark.parametrize(("where", "args"), ALEMBIC_COMMANDS, ids=[w for w, _ in ALEMBIC_COMMANDS])
def test_alembic_command_parses(where: str, args: list[str]) -> None:
    parser = CommandLine(prog="alembic").parser
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            assert exc.code == 0, f"{where}: alembic {' '.join(args)}: {stderr.getvalue()}"
