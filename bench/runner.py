"""Interleaved repetitions, bounded in count and time, summarised as medians and paired ratios."""

import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.db import Backend

# one repetition of one variant: runs its operations and returns seconds per operation
Rep = Callable[[], Awaitable[float]]


@dataclass
class Row:
    """One variant of one case on one backend, relative to the case's baseline variant."""

    case: str
    backend: str
    variant: str
    baseline: str
    samples: list[float]
    ratios: list[float]
    unit: str = "ms"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        return (min(self.samples), max(self.samples)) if self.samples else (0.0, 0.0)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else float("nan")

    @property
    def ratio_spread(self) -> tuple[float, float]:
        return (min(self.ratios), max(self.ratios)) if self.ratios else (0.0, 0.0)

    def as_dict(self) -> dict[str, object]:
        return {
            "case": self.case,
            "backend": self.backend,
            "variant": self.variant,
            "baseline": self.baseline,
            "unit": self.unit,
            "median": self.median,
            "spread": list(self.spread),
            "ratio": self.ratio,
            "ratio_spread": list(self.ratio_spread),
            "repetitions": len(self.samples),
            "extra": self.extra,
            "samples": self.samples,
            "ratios": self.ratios,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Row":
        extra = {k: tuple(v) if isinstance(v, list) else v for k, v in data["extra"].items()}
        return cls(
            data["case"],
            data["backend"],
            data["variant"],
            data["baseline"],
            data["samples"],
            data["ratios"],
            unit=data["unit"],
            extra=extra,
        )


@dataclass
class Budget:
    """How long a case may run: repetitions, and a wall-clock deadline that stops it."""

    reps: int
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def expired(self) -> bool:
        return time.monotonic() - self.start > self.seconds


async def interleave(
    case: str,
    backend: str,
    variants: Mapping[str, Rep],
    budget: Budget,
    *,
    scale: float = 1000.0,
    unit: str = "ms",
    warmup: bool = True,
) -> list[Row]:
    """Run each variant once per repetition, rotating the order, until reps or the deadline.

    The first variant is the baseline; each repetition yields a paired ratio per variant, so
    a load spike from another process shifts both sides of the ratio together. A first,
    untimed pass warms caches and the pool (skipped
    with warmup=False for cases whose one repetition is long).
    """
    names = list(variants)
    baseline = names[0]
    samples: dict[str, list[float]] = {n: [] for n in names}
    ratios: dict[str, list[float]] = {n: [] for n in names}
    # one untimed pass fills the statement caches and the pool before any sample counts
    for name in names if warmup else []:
        await variants[name]()
    for rep in range(budget.reps):
        if rep > 0 and budget.expired():
            break
        shift = rep % len(names)
        this: dict[str, float] = {}
        for name in names[shift:] + names[:shift]:
            this[name] = await variants[name]()
        for name in names:
            samples[name].append(this[name] * scale)
            if this[baseline] > 0:
                ratios[name].append(this[name] / this[baseline])
    return [Row(case, backend, n, baseline, samples[n], ratios[n], unit=unit) for n in names]


async def timed(
    fn: Callable[[], Awaitable[object]], ops: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds per operation for fn, which performs ops operations (wall clock by default;
    time.process_time gives this process's CPU time, every thread included)."""
    start = clock()
    await fn()
    return (clock() - start) / max(ops, 1)


@dataclass(frozen=True)
class Mode:
    """Full run or smoke run: smoke does a few tiny repetitions to prove each case still works."""

    smoke: bool = False

    def pick(self, full: int, smoke: int) -> int:
        return smoke if self.smoke else full

    def budget(self, reps: int, seconds: float) -> Budget:
        return Budget(2, 30.0) if self.smoke else Budget(reps, seconds)


@dataclass(frozen=True)
class Case:
    """One benchmark case, as bench/cases/__init__.py registers it."""

    name: str
    """the --case NAME"""
    title: str
    """the rows' case field and the heading of its section in RESULTS.md"""
    run: Callable[[Backend, Mode], Awaitable[list[Row]]]
    """measures the variants on one backend; returns [] for a backend it does not measure"""
    about: str
    """one sentence for RESULTS.md: what one repetition does, and its sizes"""
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    seconds: float = 150.0
    """a case still running at this deadline is cancelled and reported as failed"""
