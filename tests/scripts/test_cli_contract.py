"""The contract in scripts/README.md, checked once for every command: run by path from a user's
project through a symlinked skill folder, exit codes, the error line, --json, a closed stdout,
masked passwords."""

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _lib import cli
from tests.helpers import ROOT, copy_asset_project, run_script, run_with_closed_stdout
from tests.scripts.support import PASSWORD
from tests.servers import free_port

WEB_MAIN = 'from fastapi import FastAPI\n\napp = FastAPI(title="web")\n'
TWO_HEADS = 'revision = "{rev}"\ndown_revision = "{first}"\n'


@dataclass(frozen=True)
class Command:
    name: str
    json: bool
    # arguments, from the user's project folder, that end in exit 0, 1 and 2
    ok: tuple[str, ...]
    problem: tuple[str, ...] | None
    usage: tuple[str, ...]


DOWN_URL = f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:{free_port()}/app"
COMMANDS = [
    Command("scaffold", True, ("web", "--dry-run"), ("blocked", "--dry-run"), ("no-such-folder",)),
    Command(
        "check_db",
        True,
        ("--url", "sqlite+aiosqlite://"),
        ("--url", DOWN_URL, "--timeout", "2"),
        ("--url", DOWN_URL, "--workers", "0"),
    ),
    Command(
        "check_migrations",
        True,
        ("migrated",),
        ("two-heads",),
        ("no-such-folder", "--url", DOWN_URL),
    ),
    Command("demo", False, (), None, ("--url", DOWN_URL)),
]
CHECKS = {"check_db", "check_migrations"}
CHECK_LINE = re.compile(r"(OK  |WARN|FAIL|SKIP) [a-z][a-z -]*: .+")


@pytest.fixture(scope="module")
def user_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's folder with the skill symlinked at .agents/skills/database (as skill4agent
    installs it), and small projects the commands run on."""
    base = tmp_path_factory.mktemp("contract")
    store = base / "store" / "database"
    for folder in ("scripts", "assets"):
        ignore = shutil.ignore_patterns("__pycache__", "*.db")
        shutil.copytree(ROOT / folder, store / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", store / "pyproject.toml")
    work = base / "work"
    (work / ".agents" / "skills").mkdir(parents=True)
    (work / ".agents" / "skills" / "database").symlink_to(store, target_is_directory=True)
    for name in ("web", "blocked"):
        (work / name / "app").mkdir(parents=True)
        (work / name / "app" / "__init__.py").write_text("")
        (work / name / "app" / "main.py").write_text(WEB_MAIN)
    (work / "blocked" / "app" / "models.py").write_text("# mine\n")
    (work / "blocked" / "app" / "models.py.scaffold-new").write_text("# my notes\n")
    copy_asset_project(work / "migrated")
    versions = copy_asset_project(work / "two-heads") / "migrations" / "versions"
    first = next(versions.glob("*.py")).read_text().split('revision: str = "')[1][:12]
    for rev in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"):
        (versions / f"{rev}.py").write_text(TWO_HEADS.format(rev=rev, first=first))
    return work


def run(command: Command, args: tuple[str, ...], cwd: Path) -> Any:
    # a relative path through the symlink, as an agent in the user's project types it
    script = Path(".agents/skills/database/scripts") / f"{command.name}.py"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONPATH"}}
    result = run_script(cwd / script, *args, cwd=cwd, env=env)
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def error_line(command: Command, stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(cli.ERROR_PREFIX.format(prog=f"{command.name}.py")), stderr
    return stderr


def each(commands: list[Command]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("command", commands, ids=[c.name for c in commands])


WITH_JSON = [c for c in COMMANDS if c.json]
CAN_FIND_PROBLEMS = [c for c in COMMANDS if c.problem is not None]


@each(COMMANDS)
def test_print_help_with_usage_and_examples(command: Command, user_project: Path) -> None:
    result = run(command, ("--help",), user_project)
    assert (result.returncode, result.stderr) == (0, "")
    assert "Usage:" in result.stdout and "Examples:" in result.stdout


@each(COMMANDS)
def test_refuse_unknown_option_in_one_error_line(command: Command, user_project: Path) -> None:
    result = run(command, ("--no-such-option",), user_project)
    assert (result.returncode, result.stdout) == (2, "")
    assert error_line(command, result.stderr) == (
        f"{command.name}.py: error: unrecognized arguments: --no-such-option (see --help)\n"
    )


@each(COMMANDS)
def test_exit_2_on_bad_input_in_one_error_line(command: Command, user_project: Path) -> None:
    result = run(command, command.usage, user_project)
    assert (result.returncode, result.stdout) == (2, "")
    error_line(command, result.stderr)


@each(COMMANDS)
def test_mask_password_of_url_given_in_the_wrong_place(
    command: Command, user_project: Path
) -> None:
    # a URL without --url: argparse's error line, or the command's, would echo it
    result = run(command, (DOWN_URL,), user_project)
    assert (result.returncode, result.stdout) == (2, "")
    assert "app:***@127.0.0.1" in error_line(command, result.stderr)


@each(COMMANDS)
def test_succeed_with_exit_0(command: Command, user_project: Path) -> None:
    result = run(command, command.ok, user_project)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    if command.name in CHECKS:
        *checks, last = result.stdout.strip().splitlines()
        assert [
            c for c in checks if c.startswith("database: ") or CHECK_LINE.fullmatch(c)
        ] == checks
        assert last.startswith(f"{command.name}.py: all checks passed (")


@each(WITH_JSON)
def test_print_one_json_document_with_exit_code(command: Command, user_project: Path) -> None:
    cases = [(command.ok, 0), (command.problem, 1), (command.usage, 2), (("--bad",), 2)]
    for args, expected in cases:
        assert args is not None
        result = run(command, (*args, "--json"), user_project)
        document = json.loads(result.stdout)
        assert result.returncode == expected == document["exit_code"], result.stdout
        assert document["ok"] is (expected == 0)
        if expected == 2:
            assert error_line(command, result.stderr).endswith(f"{document['error']}\n")
        else:
            assert (result.stderr, document["error"]) == ("", None)
        if command.name in CHECKS:
            statuses = {check["status"] for check in document.get("checks", [])}
            assert statuses <= set(cli.STATUS_WORDS), statuses


@each(CAN_FIND_PROBLEMS)
def test_report_problem_with_exit_1(command: Command, user_project: Path) -> None:
    assert command.problem is not None
    result = run(command, command.problem, user_project)
    assert result.returncode == 1, result.stdout + result.stderr
    if command.name in CHECKS:
        assert (
            result.stdout.strip().splitlines()[-1].startswith(f"{command.name}.py: problems found")
        )
        assert any(line.startswith("FAIL ") for line in result.stdout.splitlines())


@each(COMMANDS)
def test_end_quietly_when_stdout_is_closed(command: Command, user_project: Path) -> None:
    script = user_project / ".agents/skills/database/scripts" / f"{command.name}.py"
    result = run_with_closed_stdout([sys.executable, str(script), *command.ok], cwd=user_project)
    assert (result.returncode, result.stderr) == (0, "")


def test_mask_password_in_error_line_and_debug_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql+asyncpg://app:{PASSWORD}@db.invalid/app"

    def broken(args: Any, out: cli.Output) -> int:
        out.hide(args.url)
        raise RuntimeError(f"cannot reach {args.url}")

    parser = cli.Parser("tool.py", "Usage: tool.py\nExamples: tool.py")
    parser.add_argument("--url")
    assert cli.run(parser, ["--url", url], broken) == 1
    assert capsys.readouterr().err == (
        "tool.py: error: internal error: RuntimeError: cannot reach "
        "postgresql+asyncpg://app:***@db.invalid/app (rerun with --debug for the traceback)\n"
    )
    assert cli.run(parser, ["--url", url, "--debug", "--json"], broken) == 1
    out, err = capsys.readouterr()
    assert "Traceback (most recent call last)" in err and 'raise RuntimeError(f"cannot' in err
    assert PASSWORD not in out + err
    assert json.loads(out)["error"].startswith("internal error: RuntimeError: cannot reach")


def test_write_the_contract_down_as_the_code_keeps_it() -> None:
    text = " ".join((ROOT / "scripts" / "README.md").read_text(encoding="utf-8").split())
    assert "`NAME.py: error: <what is wrong, and the fix>`" in text
    assert cli.ERROR_PREFIX.format(prog="NAME.py") == "NAME.py: error: "
    for word, json_word in zip(cli.STATUS_WORDS.values(), cli.STATUS_WORDS, strict=True):
        assert f"`{word}`" in text and f"`{json_word}`" in text
    assert "`0` done" in text and "`1` a check found a problem" in text and "`2` bad usage" in text
    for name in ('"ok"', '"exit_code"', '"error"'):
        assert f"`{name}`" in text or name in text
    commands = {p.stem for p in (ROOT / "scripts").glob("*.py")}
    assert commands == {c.name for c in COMMANDS}
    assert all(f"`{name}.py`" in text for name in commands)
