"""The benchmark cases, one module each; CASES is what `python -m bench` runs, in this order.

A new case is a module in this folder with an `async def run(backend, mode) -> list[Row]`
(bench/runner.py: measure its variants with `interleave`, the first variant being the
baseline, bounded by `mode.budget(...)`; sizes through `mode.pick(full, smoke)` so that
`--smoke` stays fast) and a `CASE = Case(name, title, run, about, ...)` below it; then add it
to the tuple here. tests/bench fails while a module in this folder is not registered.
A case that needs a server of its own puts it in bench/servers/.
"""

from bench.cases import (
    anatomy,
    bulk_insert,
    failure_paths,
    http,
    isolation,
    loading,
    login_timing,
    pagination,
    point_read,
)
from bench.runner import Case

CASES: dict[str, Case] = {
    case.name: case
    for case in (
        point_read.CASE,
        bulk_insert.CASE,
        loading.CASE,
        pagination.CASE,
        isolation.CASE,
        http.CASE,
        anatomy.CASE,
        login_timing.CASE,
        failure_paths.HALF_OPEN,
        failure_paths.SQLITE_READERS,
    )
}
