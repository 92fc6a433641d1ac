"""add the archived task status (a portable enum: the CHECK constraint is replaced)

Revision ID: b2d1e6f8a9b0
Revises: a1c0de5e7a5c
Create Date: 2026-11-30 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2d1e6f8a9b0"
down_revision: str | Sequence[str] | None = "a1c0de5e7a5c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('todo', 'in_progress', 'done')"
NEW = "status IN ('todo', 'in_progress', 'done', 'archived')"


def upgrade() -> None:
    # batch mode recreates the table on SQLite, which cannot alter a CHECK in place
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_constraint(op.f("ck_tasks_task_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_tasks_task_status"), NEW)


def downgrade() -> None:
    # rows that use the value must move first, or the old CHECK refuses the table
    op.execute(sa.text("UPDATE tasks SET status = 'done' WHERE status = 'archived'"))
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_constraint(op.f("ck_tasks_task_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_tasks_task_status"), OLD)
