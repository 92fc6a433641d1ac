"""The prose of RESULTS.md: how to read the tables (the method), and what this run measured,
written from the run's own rows and environment, never from an earlier run's."""

import statistics
from collections.abc import Callable

from bench.cases.anatomy import (
    ASSET_NO_PING,
    ASSET_REQUEST,
    AUTOCOMMIT_GET,
    CHECKOUT_IDLE,
    CHECKOUT_OFF,
    CHECKOUT_PING,
    PREVIOUS_REQUEST,
)
from bench.cases.http import (
    ASSET_APP,
    ASSET_OVERFLOW,
    ASSET_TWO,
    GET,
    LIST,
    LIST_CORE,
    LIST_ORM,
    PREVIOUS,
    RAW,
)
from bench.fmt import fmt_num, fmt_ratio, fmt_ratios
from bench.runner import Row

HOW_TO_READ = """\
Each case runs its variants in interleaved repetitions (the order rotates every repetition),
so a load spike from another process on a shared machine hits both sides of a ratio.
**median** and **range** are over repetitions; **ratio to baseline** is the median of the
per-repetition ratios to the case's baseline (the first row of its group), and **ratio range**
their minimum and maximum. Absolute times drift with the machine's load (the environment
table gives the load average at the start and the end of the run); quote the ratios, and read
a wide ratio range as noise. The HTTP rows measure requests/s with separate load-generator
processes on the same cores as the servers, so their requests/s swing with the load; the
server's CPU time per request (`CPU ms/req`, from /proc, worker processes included) is the
steadier figure. `new connections per 1,000 req` counts the sessions the server opened during
the load (pg_stat_database); `cores busy` is the server's CPU seconds per second of load."""


def _find(rows: list[Row], case: str, variant: str) -> Row | None:
    return next((r for r in rows if r.case == case and r.variant == variant), None)


def _paired(a: Row, b: Row) -> tuple[float, float, float]:
    """Median, minimum and maximum of a/b over the repetitions both ran in."""
    ratios = [x / y for x, y in zip(a.samples, b.samples, strict=False) if y > 0]
    if not ratios:
        return float("nan"), float("nan"), float("nan")
    return statistics.median(ratios), min(ratios), max(ratios)


def _extra(row: Row, key: str) -> float:
    return float(row.extra[key])  # type: ignore[arg-type]


def _vs(row: Row) -> str:
    low, high = row.ratio_spread
    cpu_range = row.extra["CPU ratio range"]
    assert isinstance(cpu_range, tuple)
    cpu_low, cpu_high = cpu_range
    return (
        f"{fmt_ratio(row.ratio)} ({fmt_ratios(low, high)}) of the raw app's requests/s at "
        f"{fmt_ratio(_extra(row, 'CPU ratio'))} ({fmt_ratios(cpu_low, cpu_high)}) its CPU per "
        "request"
    )


def _read_path(rows: list[Row]) -> list[str]:
    def get(name: str) -> Row | None:
        return _find(rows, "HTTP", f"{GET}: {name}")

    raw, previous, asset, overflow, two = (
        get(n) for n in (RAW, PREVIOUS, ASSET_APP, ASSET_OVERFLOW, ASSET_TWO)
    )
    if raw is None or previous is None or asset is None:
        return []
    out = [
        f"**{GET} (PostgreSQL).** The asset app (a read session without BEGIN and COMMIT, a "
        f"ping only after idle, pool 10 + 0) served {_vs(asset)}. The previous read path (a "
        f"ping at every checkout, each read in BEGIN ... COMMIT, pool 5 + 10) served "
        f"{_vs(previous)}."
    ]
    churn = "new connections per 1,000 req"
    for row, what in ((asset, "the asset app"), (overflow, "its read path on pool 5 + 10")):
        if row is None:
            continue
        mid, low, high = _paired(row, previous)
        cpu = _extra(row, "CPU ms/req") / _extra(previous, "CPU ms/req")
        out.append(
            f"In the same repetitions {what} served {fmt_ratio(mid)} "
            f"({fmt_ratios(low, high)}) the previous read path's requests/s at "
            f"{fmt_ratio(cpu)} its CPU per request, opening "
            f"{fmt_num(_extra(row, churn))} new connections per 1,000 requests against "
            f"{fmt_num(_extra(previous, churn))}."
        )
    if two is not None:
        out.append(
            f"Two uvicorn workers (5 connections each) served {fmt_num(two.median)} req/s "
            f"against {fmt_num(asset.median)} for one worker, keeping "
            f"{fmt_num(_extra(two, 'cores busy'))} cores busy against "
            f"{fmt_num(_extra(asset, 'cores busy'))}; per core busy that is "
            f"{fmt_num(two.median / _extra(two, 'cores busy'))} against "
            f"{fmt_num(asset.median / _extra(asset, 'cores busy'))} req/s."
        )
    return [" ".join(out)]


def _lists(rows: list[Row]) -> list[str]:
    orm, core = (_find(rows, "HTTP", f"{LIST}: {name}") for name in (LIST_ORM, LIST_CORE))
    if orm is None or core is None:
        return []
    return [
        f"**{LIST}.** Core rows through `mappings()` served {fmt_ratio(core.ratio)} "
        f"({fmt_ratios(*core.ratio_spread)}) the requests/s of ORM objects, at "
        f"{fmt_ratio(_extra(core, 'CPU ratio'))} their CPU per request."
    ]


def _anatomy(rows: list[Row]) -> list[str]:
    cases = [r for r in rows if r.case == "request anatomy"]
    raw = next(iter(cases), None)
    previous = _find(rows, "request anatomy", PREVIOUS_REQUEST)
    asset = _find(rows, "request anatomy", ASSET_REQUEST)
    if raw is None or asset is None or previous is None:
        return []

    def median(name: str) -> float:
        row = _find(rows, "request anatomy", name)
        return row.median if row is not None else float("nan")

    ping = median(CHECKOUT_PING) - median(CHECKOUT_OFF)
    idle = median(CHECKOUT_IDLE) - median(CHECKOUT_OFF)
    txn = median(ASSET_NO_PING) - median(AUTOCOMMIT_GET)
    costs = ""
    if all(x == x for x in (ping, idle, txn)):
        costs = (
            f" By difference of medians, a ping at every checkout cost "
            f"{fmt_num(ping)} µs per request, the ping after idle {fmt_num(idle)} µs (a "
            f"connection reused at once is never pinged), and BEGIN with COMMIT "
            f"{fmt_num(txn)} µs."
        )
    out = [
        f"**Request anatomy.** In-process, the asset request cost {fmt_num(asset.median)} µs "
        f"of CPU ({fmt_ratio(asset.ratio)} the raw driver's {fmt_num(raw.median)} µs) and the "
        f"previous one {fmt_num(previous.median)} µs ({fmt_ratio(previous.ratio)}).{costs} "
        "Where each request's CPU went, as shares of its own CPU time under cProfile (the "
        "profiler inflates Python-heavy code, so read the shares, not the totals):",
        "",
        f"| library | {PREVIOUS_REQUEST} | {ASSET_REQUEST} |",
        "|---|---|---|",
    ]
    shares_a = previous.extra.get("profile", {})
    shares_p = asset.extra.get("profile", {})
    assert isinstance(shares_a, dict) and isinstance(shares_p, dict)
    for library in dict.fromkeys([*shares_a, *shares_p]):
        a, p = shares_a.get(library, 0.0), shares_p.get(library, 0.0)
        out.append(f"| {library} | {a:.0%} | {p:.0%} |")
    return ["\n".join(out)]


def _others(rows: list[Row]) -> list[str]:
    out = []
    for backend in ("sqlite", "postgresql"):
        mine = [r for r in rows if r.backend == backend]
        offsets = [r for r in mine if r.variant.startswith("OFFSET page")]
        keysets = [r for r in mine if r.variant.startswith("keyset page")]
        if offsets and keysets:
            out.append(
                f"On {backend} an OFFSET page took {fmt_num(offsets[0].median)} ms at depth "
                f"{offsets[0].variant.rsplit(' ', 1)[1]} and {fmt_num(offsets[-1].median)} ms "
                f"at {offsets[-1].variant.rsplit(' ', 1)[1]}; a keyset page "
                f"{fmt_num(keysets[0].median)} ms and {fmt_num(keysets[-1].median)} ms."
            )
        orm = _find(mine, "point read", "ORM session.get, one session")
        per_read = _find(mine, "point read", "ORM session per read (request pattern)")
        if orm is not None and per_read is not None:
            out.append(
                f"On {backend} an ORM point read cost {fmt_ratio(orm.ratio)} "
                f"({fmt_ratios(*orm.ratio_spread)}) the raw driver's time in one session, "
                f"{fmt_ratio(per_read.ratio)} with a session and transaction per read."
            )
    return [" ".join(out)] if out else []


SECTIONS: tuple[Callable[[list[Row]], list[str]], ...] = (_read_path, _lists, _anatomy, _others)


def findings(rows: list[Row], env: dict[str, str]) -> str:
    """The findings section, from this run's rows and environment only."""
    start = env.get("load average at start", "?")
    end = env.get("load average at end", "?")
    cores = env.get("cores", "?")
    parts = [
        "## What this run measured",
        "",
        f"The load average (1, 5 and 15 minutes) was {start} at the start and {end} at the "
        f"end, on {cores} cores: a load above the core count means other processes competed "
        "for the CPU, which widens every range above.",
    ]
    for section in SECTIONS:
        for paragraph in section(rows):
            parts += ["", paragraph]
    return "\n".join(parts)
