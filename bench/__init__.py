"""Benchmarks of what the skill teaches, on SQLite and PostgreSQL: `python -m bench --help`.

Importing the package changes nothing: `python -m bench` (bench/__main__.py) puts assets/ on
the import path the way pytest's `pythonpath` does for the tests, and the HTTP case hands its
server processes the same path through PYTHONPATH.
"""

# the asset app is imported as `app` from ASSETS, the way an agent's project imports it
from tests.helpers import ASSETS as ASSETS
from tests.helpers import ROOT as ROOT
