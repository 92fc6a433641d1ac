"""Reads references/troubleshooting.md: its sections, the error texts they quote, their diffs.

Each `## ` section quotes the errors it explains in ```text blocks. A quoted text matches an
error when it appears in the error's output as written; `...` in a quote stands for text that
varies from run to run (object addresses, task names) and matches anything on one or more lines.
"""

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT
from tests.markdown import Block, blocks

DOC = ROOT / "references" / "troubleshooting.md"


def anchor(heading: str) -> str:
    """The GitHub-style anchor of a heading (the rule tests/markdown.py applies)."""
    title = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return title.replace(" ", "-")


@dataclass(frozen=True)
class Section:
    heading: str
    start: int  # line of the heading (1-based)
    end: int  # last line of the section

    @property
    def anchor(self) -> str:
        return anchor(self.heading)


def sections(path: Path = DOC) -> list[Section]:
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced = {n for b in blocks(path) for n in range(b.start, b.end + 1)}
    starts = [
        (number, line[3:])
        for number, line in enumerate(lines, start=1)
        if line.startswith("## ") and number not in fenced
    ]
    bounds = [*(n for n, _ in starts[1:]), len(lines) + 1]
    return [
        Section(heading, number, following - 1)
        for (number, heading), following in zip(starts, bounds, strict=True)
    ]


def section_blocks(section: Section, language: str, path: Path = DOC) -> list[Block]:
    return [
        b for b in blocks(path) if b.language == language and section.start < b.start <= section.end
    ]


def quoted_errors(path: Path = DOC) -> dict[tuple[str, int], str]:
    """(section anchor, index) -> the text of each ```text block, in document order."""
    found: dict[tuple[str, int], str] = {}
    for section in sections(path):
        for index, block in enumerate(section_blocks(section, "text", path)):
            found[(section.anchor, index)] = block.code.strip("\n")
    return found


def quote(section_anchor: str, index: int = 0) -> str:
    """The error text quoted by one section; KeyError names what the document lacks."""
    errors = quoted_errors()
    key = (section_anchor, index)
    if key not in errors:
        raise KeyError(f"{DOC.name} has no ```text block {index} under #{section_anchor}")
    return errors[key]


def quote_pattern(text: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in text.split("...")]
    return re.compile(r"[\s\S]+?".join(parts))


def assert_quoted(section_anchor: str, output: str, index: int = 0) -> None:
    """Fail unless the section's quoted error text appears in output (what the user saw)."""
    text = quote(section_anchor, index)
    assert quote_pattern(text).search(output), (
        f"#{section_anchor} quotes:\n{text}\nbut the failure printed:\n{output}"
    )


def diff_lines(path: Path = DOC) -> list[tuple[Block, str, str]]:
    """(block, sign, line) for every removed (-) and added (+) line of the ```diff blocks."""
    found = []
    for block in blocks(path):
        if block.language != "diff":
            continue
        for line in block.code.splitlines():
            if line[:1] in {"-", "+"} and line[1:].strip():
                found.append((block, line[0], line[1:].strip()))
    return found


def stripped_lines(*paths: Path) -> set[str]:
    return {line.strip() for p in paths for line in p.read_text(encoding="utf-8").splitlines()}


def shown(exc: BaseException) -> str:
    """The exception as the user sees it at the end of a traceback, with its causes."""
    return "".join(traceback.format_exception(exc))
