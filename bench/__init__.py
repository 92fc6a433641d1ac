"""Benchmarks of what the skill teaches, on SQLite and PostgreSQL: `python -m bench --help`."""

import sys
from pathlib import Path

# the asset app is imported as `app`, the way an agent's project imports it
ASSETS = Path(__file__).resolve().parent.parent / "assets"
if str(ASSETS) not in sys.path:
    sys.path.insert(0, str(ASSETS))
