"""The prose of RESULTS.md: how to read the tables, and what the profiles found."""

HOW_TO_READ = """\
Each case runs its variants in interleaved repetitions (the order rotates every repetition),
so a load spike from another process on this shared machine hits both sides of a ratio.
**median** and **range** are over repetitions; **ratio to baseline** is the median of the
per-repetition ratios to the case's baseline (the first row of its group), and **ratio range**
their minimum and maximum. Absolute times drift between runs here; quote the ratios."""

FINDINGS = """## Profile findings

(pending)"""
