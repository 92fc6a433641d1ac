"""Alembic revision files that tests add to a copy of the asset migrations."""

from pathlib import Path

FIRST = "edfeb0c041b3"


def add_revision(
    project: Path, revision: str, upgrade: str = "pass", downgrade: str = "pass"
) -> None:
    """Write a revision after FIRST into project/migrations/versions; upgrade and downgrade are
    the bodies of the two functions, one line each."""
    text = f'''"""a revision added by a test"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{FIRST}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''
    (project / "migrations" / "versions" / f"2099_01_01_0000-{revision}_added.py").write_text(text)
