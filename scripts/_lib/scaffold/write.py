"""Write a set of new files all or nothing (used by scaffold.py)."""

import os
from pathlib import Path


class WriteError(Exception):
    """A target cannot be written; nothing was left behind."""


def _missing_dirs(path: Path) -> list[Path]:
    """The folders to create for path, outermost first; WriteError if a file is in the way."""
    missing: list[Path] = []
    for parent in path.parents:
        if parent.is_dir():
            return list(reversed(missing))
        if parent.exists():
            raise WriteError(f"{parent} is a file, not a folder")
        missing.append(parent)
    return list(reversed(missing))


def _probe(path: Path, content: bytes | None) -> Path:
    # a folder is created with its parents; a file needs its parents
    return path / "_" if content is None else path


def _preflight(files: list[tuple[Path, bytes | None]]) -> None:
    for path, content in files:
        probe = _probe(path, content)
        missing = _missing_dirs(probe)
        anchor = missing[0].parent if missing else probe.parent
        if not os.access(anchor, os.W_OK | os.X_OK):
            raise WriteError(f"no permission to write in {anchor}")


def write_all(files: list[tuple[Path, bytes | None]]) -> None:
    """Write every file (content None: a folder), or none of them.

    Each file goes to a temp file beside its target first; the renames start only once every
    temp file is written, and on any error all that was made is removed again.
    """
    made: list[Path] = []
    temps: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        _preflight(files)
        for path, content in files:
            for folder in _missing_dirs(_probe(path, content)):
                folder.mkdir()
                made.append(folder)
            if content is None:
                continue
            temp = path.with_name(f".{path.name}.{os.getpid()}.scaffold-tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            temps.append((temp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
        for temp, path in temps:
            if path.exists():
                raise WriteError(f"{path} appeared while writing")
            os.rename(temp, path)
            placed.append(path)
    except (OSError, WriteError) as exc:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
        for path in placed:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            folder.rmdir()  # empty again: only our temp files were in it
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        raise WriteError(f"{reason}{where}") from None
