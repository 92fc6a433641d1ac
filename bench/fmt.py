"""How numbers are written in the printed table and RESULTS.md."""


def fmt_ratio(value: float) -> str:
    if value != value:
        return "n/a"
    if value >= 100:
        return f"{value:.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.2f}x"


def fmt_num(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def fmt_ratios(low: float, high: float) -> str:
    """A range of ratios: 0.31x–0.38x."""
    return f"{fmt_ratio(low)}–{fmt_ratio(high)}"
