"""The contract every command keeps (scripts/README.md says it in prose; tests check both).

- Each check is one line, `STATUS name: message`, with STATUS one of OK, WARN, FAIL, SKIP; a
  report ends with `<prog>: all checks passed (...)` or `<prog>: problems found (...)`.
- Bad usage or input is one line on stderr, `<prog>: error: <what, and the fix>`, and exit 2;
  a check that finds a problem exits 1; an internal error is one line and exit 1; success
  exits 0. No traceback, unless --debug asks for it.
- --json prints exactly one JSON object on stdout, and nothing else there: the command's fields
  plus "ok", "exit_code" and "error" (null, or the error line's message).
- A reader that closes stdout early (`| head`) gets no traceback.
- Every line and document is masked: a password never shows, only ***.
"""

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TextIO

from _lib.urls import redact, secrets_in

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
STATUS_WORDS = {OK: "OK", WARN: "WARN", FAIL: "FAIL", SKIP: "SKIP"}
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
ERROR_PREFIX = "{prog}: error: "


class UsageError(Exception):
    """Bad usage or input: the command prints this one line and exits 2."""


@dataclass
class Check:
    """One line of a report: which check, how it went, and what to do."""

    name: str
    status: str
    message: str
    details: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        return f"{STATUS_WORDS[self.status]:<4} {self.name}: {' '.join(self.message.split())}"

    def document(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status, "message": self.message, **self.details}


def exit_code(checks: list[Check]) -> int:
    """1 when a check failed or warned, else 0."""
    return EXIT_PROBLEM if any(c.status in {FAIL, WARN} for c in checks) else EXIT_OK


def summary(prog: str, checks: list[Check]) -> str:
    """The report's last line: the verdict and how many checks ended in each status."""
    counts = {status: sum(c.status == status for c in checks) for status in STATUS_WORDS}
    tally = ", ".join(f"{n} {STATUS_WORDS[s].lower()}" for s, n in counts.items() if n)
    verdict = "all checks passed" if exit_code(checks) == EXIT_OK else "problems found"
    return f"{prog}: {verdict} ({tally})"


class Parser(argparse.ArgumentParser):
    """argparse with the shared options, the script's docstring as --help, and usage errors
    raised as UsageError (one line, exit 2) instead of argparse's usage text."""

    def __init__(self, prog: str, doc: str | None, *, json_option: bool = True) -> None:
        super().__init__(
            prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        # listed after the command's own options, under a heading of their own
        shared = self.add_argument_group("options the skill's commands share (scripts/README.md)")
        if json_option:
            shared.add_argument(
                "--json",
                action="store_true",
                help="print one JSON document on stdout instead of lines (default: off)",
            )
        shared.add_argument(
            "--debug",
            action="store_true",
            help="show the traceback of an error (default: off)",
        )

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def emit(text: str, file: TextIO | None = None) -> bool:
    """Print text and flush; False, and no traceback, when the reader closed the pipe."""
    stream = sys.stdout if file is None else file
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        # later prints and Python's flush at exit go to /dev/null instead of raising again
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        return False
    return True


def _masked(value: Any, secrets: dict[str, str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item, secrets) for item in value]
    return value


class Output:
    """Where a command's lines and its JSON document go, with every known password masked."""

    def __init__(self, prog: str, as_json: bool) -> None:
        self.prog = prog
        self.as_json = as_json
        # the command's own JSON fields, filled as it learns them
        self.document: dict[str, Any] = {}
        self._secrets: dict[str, str] = {}

    def hide(self, *urls: str | None) -> None:
        """Mask the passwords of these URLs wherever they appear in the output."""
        for url in urls:
            if url:
                self._secrets.update(secrets_in(url))

    def mask(self, text: str) -> str:
        return redact(text, self._secrets)

    def line(self, text: str) -> None:
        """A line of the text report; --json prints only the document."""
        if not self.as_json:
            emit(self.mask(text))

    def finish(self, code: int, error: str | None = None) -> int:
        """Print the JSON document (with --json) and return the exit code."""
        if self.as_json:
            document = {**self.document, "ok": code == EXIT_OK, "exit_code": code, "error": error}
            emit(json.dumps(_masked(document, self._secrets), indent=2))
        return code

    def fail(self, code: int, message: str) -> int:
        """The one error line on stderr, then the document; returns the exit code."""
        message = self.mask(" ".join(message.split()))
        print(ERROR_PREFIX.format(prog=self.prog) + message, file=sys.stderr, flush=True)
        return self.finish(code, message)


def run(
    parser: Parser, argv: list[str] | None, command: Callable[[argparse.Namespace, Output], int]
) -> int:
    """Parse argv and run the command under the contract: exit codes, error line, JSON, masks."""
    argv = sys.argv[1:] if argv is None else argv
    out = Output(parser.prog, "--json" in argv)
    # a URL given where argparse refuses it is echoed in the error line: masked there too
    out.hide(*(arg for arg in argv if "://" in arg))
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return out.fail(EXIT_USAGE, str(exc))
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        return command(args, out)
    except Exception as exc:
        if args.debug:
            print(out.mask(traceback.format_exc()), file=sys.stderr, end="")
        if isinstance(exc, UsageError):
            return out.fail(EXIT_USAGE, str(exc))
        return out.fail(
            EXIT_PROBLEM,
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
        )
