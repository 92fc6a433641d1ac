"""Benchmark figures in the references are the measured ones: each number in a sentence that
links to bench/RESULTS.md appears verbatim in that file."""

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.markdown import doc_files, prose

RESULTS = ROOT / "bench" / "RESULTS.md"
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\.\d+)?")


def sentences_citing_results(text: str) -> list[str]:
    """Sentences (or table rows) that link to RESULTS.md, with link targets removed."""
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        # table rows and list items are units of their own
        parts = re.split(r"\n(?=\s*(?:\||[-*] |\d+\. ))", paragraph)
        for part in parts:
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", part):
                if "RESULTS.md" in sentence:
                    found.append(re.sub(r"\]\([^)]*\)", "]", sentence))
    return found


def figures(sentence: str) -> list[str]:
    return _NUMBER.findall(sentence)


def test_figures_finds_numbers_in_a_citing_sentence() -> None:
    text = (
        "Plain 4.2 ms. Eager loading ran [2 statements](../bench/RESULTS.md) not 101.\n"
        "- a list item with 3 [figures](../bench/RESULTS.md)\n"
        "- the next item, 7 days, cites nothing\n"
    )
    cited = sentences_citing_results(text)
    assert [figures(s) for s in cited] == [["2", "101"], ["3"]]


CITING = [
    (path, sentence)
    for path in doc_files()
    if path.is_file()
    for sentence in sentences_citing_results(prose(path))
]


@pytest.mark.parametrize(
    ("path", "sentence"),
    CITING,
    ids=[f"{p.relative_to(ROOT).as_posix()}:{i}" for i, (p, _) in enumerate(CITING)],
)
def test_cited_figure_appears_in_results(path: Path, sentence: str) -> None:
    assert RESULTS.is_file(), f"{path.name} cites bench/RESULTS.md, which does not exist"
    measured = set(figures(RESULTS.read_text(encoding="utf-8")))
    missing = [n for n in figures(sentence) if n not in measured]
    assert not missing, f"{path.name}: {missing} not in bench/RESULTS.md: {sentence!r}"
