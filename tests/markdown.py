"""Reads the skill's markdown: fenced code blocks with their markers, links and shell commands.

The conventions the tests in tests/docs enforce (see README.md in this folder):
- ```python excerpt="assets/app/db/session.py"  a verbatim, contiguous slice of that file
- ```python                                      a program the tests run, on both backends
- ```bash, ```text, ```ini, ... (any other language) prose examples, not run; an `excerpt=`
  marker on them is checked like a Python excerpt
"""

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import ROOT

# languages a fence may carry besides python; anything else (or no language) is an error
OTHER_LANGUAGES = frozenset(
    {"bash", "console", "text", "ini", "toml", "yaml", "json", "sql", "diff", "dotenv"}
)
SHELL_LANGUAGES = frozenset({"bash", "console"})

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<ticks>`{3,}|~{3,})(?P<info>.*)$")
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, markers and text."""

    path: Path
    start: int  # line number of the opening fence (1-based)
    end: int  # line number of the closing fence
    language: str
    attrs: dict[str, str] = field(hash=False)
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.start}-{self.end}"

    @property
    def kind(self) -> str:
        """excerpt, runnable, other or invalid: every block is exactly one of these."""
        if self.language == "python":
            if set(self.attrs) == {"excerpt"}:
                return "excerpt"
            if not self.attrs:
                return "runnable"
            return "invalid"
        if self.language in OTHER_LANGUAGES and set(self.attrs) <= {"excerpt"}:
            return "other"
        return "invalid"


def doc_files() -> list[Path]:
    """The markdown whose code carries the promise: SKILL.md and every reference."""
    return [ROOT / "SKILL.md", *sorted((ROOT / "references").glob("*.md"))]


def linked_files() -> list[Path]:
    """Every markdown file whose relative links must resolve."""
    found = [*doc_files(), *sorted(ROOT.glob("*.md")), *sorted((ROOT / "bench").glob("*.md"))]
    return sorted({p for p in found if p.is_file()})


def parse_fence_info(info: str) -> tuple[str, dict[str, str]]:
    info = info.strip()
    language, _, rest = info.partition(" ")
    attrs = dict(_ATTR.findall(rest))
    leftover = _ATTR.sub("", rest).strip()
    if leftover:
        # an unknown bare word is a marker the tests do not understand
        attrs[leftover] = ""
    return language, attrs


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, ticks = match["indent"], match["ticks"]
        language, attrs = parse_fence_info(match["info"])
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(ticks[0] * len(ticks))
            and lines[j].strip().strip(ticks[0]) == ""
        ):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path.name}:{i + 1}: code fence is never closed")
        found.append(Block(path, i + 1, j + 1, language, attrs, "\n".join(body) + "\n"))
        i = j + 1
    return found


def all_blocks() -> list[Block]:
    return [block for path in doc_files() if path.is_file() for block in blocks(path)]


def prose(path: Path) -> str:
    """The file's text with fenced blocks blanked out (line numbers kept)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for block in blocks(path):
        for n in range(block.start - 1, block.end):
            lines[n] = ""
    return "\n".join(lines)


def links(path: Path) -> list[tuple[int, str, str]]:
    """(line number, link text, target) for every markdown link outside code."""
    found = []
    for number, line in enumerate(prose(path).splitlines(), start=1):
        for match in _LINK.finditer(line):
            found.append((number, match["text"], match["target"]))
    return found


def heading_anchors(path: Path) -> set[str]:
    """GitHub-style anchors of the file's headings."""
    anchors: set[str] = set()
    for line in prose(path).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            title = re.sub(r"[^\w\- ]", "", title)
            anchors.add(title.replace(" ", "-"))
    return anchors


def shell_lines(path: Path) -> list[tuple[str, str]]:
    """(where, command) for each logical line of the shell blocks and each inline code span."""
    found: list[tuple[str, str]] = []
    for block in blocks(path):
        if block.language not in SHELL_LANGUAGES:
            continue
        joined = block.code.replace("\\\n", " ")
        for offset, line in enumerate(joined.splitlines(), start=1):
            line = line.strip()
            if line.startswith("$ "):
                line = line[2:]
            if line and not line.startswith("#"):
                found.append((f"{block.id} line {offset}", line))
    rel = path.relative_to(ROOT).as_posix()
    for number, line in enumerate(prose(path).splitlines(), start=1):
        for match in _INLINE_CODE.finditer(line):
            found.append((f"{rel}:{number}", match[1]))
    return found


_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&"}


def split_command(line: str) -> list[list[str]]:
    """Split a shell line into simple commands (word lists), at pipes, && and ;."""
    # placeholders such as <skill-dir> stand for one word
    line = re.sub(r"<([a-z][a-z-]*)>", lambda m: m[1].upper().replace("-", "_"), line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in _OPERATORS or set(token) <= set("|&;<>"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def script_invocations(line: str) -> list[tuple[str, list[str]]]:
    """(script name, arguments) for each `.../scripts/NAME.py args` in a shell line."""
    found = []
    try:
        commands = split_command(line)
    except ValueError:
        return []
    for words in commands:
        for index, word in enumerate(words):
            match = re.fullmatch(r"(?:.*/)?scripts/(?P<name>[\w-]+)\.py", word)
            # a command runs the script with python; a bare path in prose is only a name
            if match and index > 0 and words[index - 1] in {"python", "python3"}:
                found.append((match["name"], words[index + 1 :]))
                break
    return found


def alembic_invocations(line: str) -> list[list[str]]:
    """The arguments of each `alembic ...` command in a shell line."""
    try:
        commands = split_command(line)
    except ValueError:
        return []
    found = []
    for words in commands:
        while words and words[0] in {"uv", "run", "python", "-m"}:
            words = words[1:]
        if words and words[0] == "alembic":
            found.append(words[1:])
    return found
