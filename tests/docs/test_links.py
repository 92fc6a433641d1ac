"""Every relative link in the skill's markdown points at a file (and heading) that exists."""

from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.markdown import heading_anchors, linked_files, links

FILES = linked_files()


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(ROOT).as_posix() for p in FILES])
def test_relative_links_resolve(path: Path) -> None:
    broken = []
    for number, _text, target in links(path):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{where} leaves the repository")
        elif not resolved.exists():
            broken.append(f"{where} does not exist")
        elif anchor and resolved.suffix == ".md" and anchor not in heading_anchors(resolved):
            broken.append(f"{where} names no heading of {resolved.name}")
    assert not broken, "\n".join(broken)


def test_skill_md_links_every_reference() -> None:
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    targets = {target.partition("#")[0] for _n, _t, target in links(ROOT / "SKILL.md")}
    missing = [
        p.name
        for p in sorted((ROOT / "references").glob("*.md"))
        if f"references/{p.name}" not in targets
    ]
    assert text and not missing, f"SKILL.md does not link to: {', '.join(missing)}"


def test_references_are_one_level_deep() -> None:
    nested = [p for p in (ROOT / "references").rglob("*") if p.parent != ROOT / "references"]
    assert not nested, f"references/ must be flat: {nested}"
