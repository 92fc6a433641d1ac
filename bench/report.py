"""The printed table and RESULTS.md: environment, targets met or not, one table per case."""

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version

from bench.cases import CASES
from bench.findings import HOW_TO_READ, findings
from bench.fmt import fmt_num, fmt_ratio, fmt_ratios
from bench.runner import Row
from bench.targets import evaluate

PACKAGES = ("sqlalchemy", "asyncpg", "aiosqlite", "fastapi", "pydantic", "uvicorn", "alembic")


def _fmt_extra(extra: dict[str, object]) -> str:
    parts = []
    for key, value in extra.items():
        if isinstance(value, dict):
            continue  # profiles get a table of their own in the findings
        if isinstance(value, tuple):
            text = fmt_ratios(value[0], value[1])
        elif isinstance(value, float):
            text = fmt_ratio(value) if "ratio" in key else fmt_num(value)
        else:
            text = str(value)
        parts.append(f"{key} {text}")
    return "; ".join(parts)


def _postgres_version() -> str:
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def environment() -> dict[str, str]:
    env = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "load average at start": load_average(),
        "python": platform.python_version(),
        "PostgreSQL": _postgres_version(),
        "SQLite": sqlite3.sqlite_version,
    }
    env.update({name: version(name) for name in PACKAGES})
    return env


def _case_table(rows: list[Row]) -> list[str]:
    lines = [
        "| backend | variant | median | range | ratio to baseline | ratio range | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        low, high = r.spread
        lines.append(
            f"| {r.backend} | {r.variant} | {fmt_num(r.median)} {r.unit} | "
            f"{fmt_num(low)}–{fmt_num(high)} | {fmt_ratio(r.ratio)} | "
            f"{fmt_ratios(*r.ratio_spread)} | {_fmt_extra(r.extra)} |"
        )
    return lines


def table(rows: list[Row]) -> str:
    lines = []
    for r in rows:
        lines.append(
            f"{r.case:15} {r.backend:10} {r.variant[:48]:48} {fmt_num(r.median):>9} {r.unit:6} "
            f"{fmt_ratio(r.ratio):>7}  {_fmt_extra(r.extra)}"
        )
    return "\n".join(lines)


def render(rows: list[Row], errors: list[str], env: dict[str, str], command: str) -> str:
    ran = {r.case for r in rows}
    sizes = " ".join(f"**{c.title}**: {c.about}" for c in CASES.values() if c.title in ran)
    out = ["# Benchmark results", "", f"Produced by `{command}`.", "", HOW_TO_READ, "", sizes, ""]
    out += ["## Environment", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in env.items()]
    out += ["", "## Targets", "", "| target | backend | measured | status |", "|---|---|---|---|"]
    out += [f"| {t.target} | {t.backend} | {t.measured} | {t.status} |" for t in evaluate(rows)]
    if errors:
        out += ["", "## Cases that failed", ""] + [f"- {e}" for e in errors]
    cases: dict[str, list[Row]] = {}
    for r in rows:
        cases.setdefault(r.case, []).append(r)
    for case, case_rows in cases.items():
        out += [
            "",
            f"## {case}",
            "",
            f"Baselines: {', '.join(dict.fromkeys(r.baseline for r in case_rows))}.",
            "",
        ]
        out += _case_table(case_rows)
    out += ["", findings(rows, env), ""]
    return "\n".join(out)
