"""Benchmarks of what the skill teaches, on SQLite and PostgreSQL: `python -m bench --help`.

Importing the package changes nothing: `python -m bench` (bench/__main__.py) puts assets/ on
the import path the way pytest's `pythonpath` does for the tests, and the HTTP case hands its
server processes the same path through PYTHONPATH.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the asset app is imported as `app`, the way an agent's project imports it
ASSETS = ROOT / "assets"
