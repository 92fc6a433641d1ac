"""Shared by the skill's scripts: write to a stdout whose reader may leave early (`| head`)."""

import os
import sys
from typing import TextIO


def emit(text: str, file: TextIO | None = None) -> bool:
    """Print text and flush; False, and no traceback, when the reader closed the pipe."""
    stream = sys.stdout if file is None else file
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        # later prints and Python's flush at exit go to /dev/null instead of raising again
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        return False
    return True
