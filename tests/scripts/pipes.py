"""Run a script with its stdout already closed, as `script | head` does once head has left."""

import os
import subprocess
from pathlib import Path


def run_with_closed_stdout(
    args: list[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            args, cwd=cwd, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(writer)
