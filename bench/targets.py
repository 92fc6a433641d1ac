"""The issue's targets, each checked against the rows of one run: met, not met, or not run."""

from collections.abc import Callable
from dataclasses import dataclass

from bench.cases.http import ASSET_APP, GET, PREVIOUS
from bench.fmt import fmt_ratio
from bench.runner import Row


@dataclass
class Target:
    target: str
    backend: str
    measured: str
    status: str


def _find(rows: list[Row], backend: str, case: str, variant: str) -> Row | None:
    return next(
        (r for r in rows if r.backend == backend and r.case == case and r.variant == variant),
        None,
    )


_x = fmt_ratio


def _check(
    out: list[Target],
    text: str,
    backend: str,
    rows: list[Row | None],
    measure: Callable[..., tuple[str, bool]],
) -> None:
    if any(r is None for r in rows):
        out.append(Target(text, backend, "not run", "not run"))
        return
    measured, ok = measure(*rows)
    out.append(Target(text, backend, measured, "met" if ok else "**not met**"))


def _get_target(r: Row) -> tuple[str, bool]:
    cpu = float(r.extra["CPU ratio"])  # type: ignore[arg-type]
    low, high = r.ratio_spread
    stretch = " (stretch met)" if r.ratio >= 0.6 else ""
    measured = f"{_x(r.ratio)} ({_x(low)}–{_x(high)}) req/s{stretch}, {_x(cpu)} CPU/request"
    return measured, r.ratio >= 0.5 and cpu <= 2.0


def evaluate(rows: list[Row]) -> list[Target]:
    out: list[Target] = []
    for b in sorted({r.backend for r in rows}, reverse=True):
        if b == "postgresql":
            for variant in (PREVIOUS, ASSET_APP):
                _check(
                    out,
                    f"{GET}, {variant}: >= 0.5x raw asyncpg req/s (stretch 0.6x), "
                    "<= 2x CPU/request",
                    b,
                    [_find(rows, b, "HTTP", f"{GET}: {variant}")],
                    _get_target,
                )
        orm = _find(rows, b, "point read", "ORM session.get, one session")
        _check(
            out,
            "ORM point read <= 2.5x the raw driver",
            b,
            [orm],
            lambda r: (_x(r.ratio), r.ratio <= 2.5),
        )
        taught = _find(rows, b, "bulk insert", "session.execute(insert(Post), dicts)")
        add_all = _find(rows, b, "bulk insert", "add_all + flush")
        if b == "postgresql":
            _check(
                out,
                "insert(Model) with dicts <= 3x COPY",
                b,
                [taught],
                lambda r: (_x(r.ratio), r.ratio <= 3.0),
            )
        _check(
            out,
            "insert(Model) with dicts >= 4x faster than add_all",
            b,
            [taught, add_all],
            lambda t, a: (_x(a.median / t.median), a.median / t.median >= 4.0),
        )
        pages = [r for r in rows if r.backend == b and r.variant.startswith("keyset page")]
        _check(
            out,
            "keyset page < 2 ms at every depth",
            b,
            list(pages) or [None],
            lambda *ps: (
                f"slowest {max(p.median for p in ps):.2f} ms",
                max(p.median for p in ps) < 2.0,
            ),
        )
        deep = [r for r in rows if r.backend == b and r.variant.startswith("OFFSET page")]
        _check(
            out,
            "keyset >= 100x faster than OFFSET at the deepest page",
            b,
            [deep[-1] if deep else None],
            lambda r: (
                f"{_x(r.ratio)} ({r.variant.removeprefix('OFFSET page at ')})",
                r.ratio >= 100,
            ),
        )
        loads = [
            _find(rows, b, "loading", v)
            for v in ("selectinload", "joinedload", "lazy loading in a loop")
        ]
        _check(
            out,
            "selectinload 2 statements, joinedload 1, lazy 101",
            b,
            loads,
            lambda s, j, lz: (
                f"{s.extra['statements']} / {j.extra['statements']} / {lz.extra['statements']}",
                (s.extra["statements"], j.extra["statements"], lz.extra["statements"])
                == (2, 1, 101),
            ),
        )
        helper = _find(rows, b, "pagination", "count helper (subquery, ORDER BY dropped)")
        _check(
            out,
            "count helper drops ORDER BY from its subquery",
            b,
            [helper],
            lambda r: (
                f"ORDER BY in SQL: {r.extra['ORDER BY in SQL']}",
                r.extra["ORDER BY in SQL"] == "no",
            ),
        )
        sp = _find(rows, b, "test isolation", "savepoint rollback (asset fixtures)")
        _check(
            out,
            "savepoint isolation <= 1 ms per test",
            b,
            [sp],
            lambda r: (
                f"{float(r.extra['overhead ms/test']):+.2f} ms/test",
                float(r.extra["overhead ms/test"]) <= 1.0,
            ),
        )
    return out
