"""SKILL.md's body stays short enough for an agent to read in full when the skill loads."""

import re

from tests.helpers import ROOT

MAX_LINES = 250
MAX_TOKENS = 3000
LONG_REFERENCE = 300


def body() -> str:
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    match = re.match(r"^---\n.*?\n---\n", text, flags=re.DOTALL)
    assert match, "SKILL.md must open with a --- frontmatter block"
    return text[match.end() :]


def test_skill_body_under_line_limit() -> None:
    lines = body().splitlines()
    assert len(lines) < MAX_LINES, f"SKILL.md body has {len(lines)} lines"


def test_skill_body_under_token_estimate() -> None:
    # characters / 4 is a fair estimate of tokens for English prose and code
    tokens = len(body()) / 4
    assert tokens < MAX_TOKENS, f"SKILL.md body is about {tokens:.0f} tokens"


def test_skill_body_shows_scripts_with_skill_dir() -> None:
    text = body()
    assert "<skill-dir>" in text
    shown = re.findall(r"python3? (\S*)scripts/\w+\.py", text)
    assert shown and all(prefix == "<skill-dir>/" for prefix in shown), shown


def test_long_references_open_with_contents() -> None:
    missing = []
    for path in sorted((ROOT / "references").glob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LONG_REFERENCE and "## Contents" not in "\n".join(lines[:40]):
            missing.append(f"{path.name} ({len(lines)} lines)")
    assert not missing, f"references over {LONG_REFERENCE} lines need '## Contents': {missing}"


def test_no_shouting_in_prose() -> None:
    shouted = []
    for path in [ROOT / "SKILL.md", *sorted((ROOT / "references").glob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b(MUST|NEVER|ALWAYS|CRITICAL|IMPORTANT)\b", line):
                shouted.append(f"{path.name}:{number}")
    assert not shouted, f"explain the why instead of all-caps rules: {shouted}"
