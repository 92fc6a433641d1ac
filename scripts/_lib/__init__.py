"""Code the skill's commands share; private to scripts/, imported by the commands beside it.

Each command (scripts/NAME.py) keeps its arguments, output and exit code; what it does lives in
the subpackage of the same name here, and what they share in cli, urls and project. Python puts
a script's folder on sys.path, so `python3 <skill-dir>/scripts/NAME.py` finds this package from
any working directory, through a symlinked skill folder too.
"""

from pathlib import Path

# the skill's folder: scripts/_lib/__init__.py is two levels below it
SKILL = Path(__file__).resolve().parents[2]
ASSETS = SKILL / "assets"
