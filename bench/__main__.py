"""`python -m bench`: see bench/cli.py, or run it with --help."""

import sys

from bench import ASSETS


def run() -> int:
    # the one place the import path changes: the cases import the asset app as `app`, which
    # the tests find through pyproject's pytest `pythonpath`
    if str(ASSETS) not in sys.path:
        sys.path.insert(0, str(ASSETS))
    from bench.cli import main

    return main()


if __name__ == "__main__":
    raise SystemExit(run())
