"""Run the benchmark cases, print a table, and write bench/RESULTS.md.

Every figure is a ratio to a baseline measured in the same run (repetitions interleaved), with
the median and the spread over repetitions; each case stops by itself at its repetition count
or its deadline. The PostgreSQL cases use a database of their own, created and dropped here.

Usage:
  uv run python -m bench [--backend sqlite|postgresql|both] [--smoke] [--case NAME ...]

Examples:
  uv run python -m bench                          # full run, both backends, writes RESULTS.md
  uv run python -m bench --backend sqlite --smoke # a few tiny repetitions, writes nothing
  uv run python -m bench --case loading --case pagination --output /tmp/r.md
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.cases import CASES
from bench.db import BACKENDS, SERVER_URL, close_backend, open_backend
from bench.report import environment, load_average, render, table
from bench.runner import Mode, Row

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


async def run_all(
    backends: list[str], cases: list[str], mode: Mode, server_url: str = SERVER_URL
) -> tuple[list[Row], list[str]]:
    """Run cases on backends; return the rows and one line per case that failed."""
    rows: list[Row] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for name in backends:
            backend = await open_backend(name, Path(tmp), server_url)
            try:
                for case in (CASES[c] for c in cases):
                    if name not in case.backends:
                        continue
                    started = time.monotonic()
                    try:
                        rows += await asyncio.wait_for(case.run(backend, mode), case.seconds)
                    except Exception as exc:  # noqa: BLE001 - one broken case must not hide the rest
                        errors.append(f"{case.name} on {name}: {type(exc).__name__}: {exc}")
                    took = time.monotonic() - started
                    print(f"{case.name} on {name}: {took:.1f} s", file=sys.stderr)
            finally:
                await close_backend(backend, server_url)
    return rows, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql", "both"],
        default="both",
        help="which database to measure (default: both)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes and two repetitions, to prove the cases run; "
        "writes no RESULTS.md unless --output is given (default: off)",
    )
    parser.add_argument(
        "--case",
        action="append",
        choices=list(CASES),
        dest="cases",
        help="run only this case; repeatable (default: every case)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the Markdown results (default: bench/RESULTS.md, none with --smoke)",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: rewrite the Markdown from a saved --json run (default: off)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the results as one JSON document on stdout (default: off)",
    )
    args = parser.parse_args(argv)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    cases = args.cases or list(CASES)
    mode = Mode(smoke=args.smoke)
    # the command that reproduces the measurements; output flags do not change them
    measured = [*(["--backend", args.backend] if args.backend != "both" else [])]
    measured += ["--smoke"] if args.smoke else []
    measured += [f"--case {c}" for c in args.cases or []]
    command = " ".join(["uv run python -m bench", *measured])
    if args.render:
        saved = json.loads(args.render.read_text())
        rows = [Row.from_dict(r) for r in saved["rows"]]
        env, errors, command = saved["environment"], saved["errors"], saved["command"]
    else:
        env = environment()
        started = time.monotonic()
        rows, errors = asyncio.run(run_all(backends, cases, mode))
        env["run time"] = f"{time.monotonic() - started:.0f} s"
        env["load average at end"] = load_average()
    output = args.output or (None if args.smoke else RESULTS)
    if output is not None:
        output.write_text(render(rows, errors, env, command.strip()))
        print(f"wrote {output}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "command": command.strip(),
                    "environment": env,
                    "errors": errors,
                    "rows": [r.as_dict() for r in rows],
                }
            )
        )
    else:
        print(table(rows))
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
