"""Alembic autogenerate differences in words, for scripts/check_migrations.py."""

from typing import Any


def describe_diff(diff: Any) -> str:
    """One autogenerate difference in words: database (migrations) versus models."""
    if isinstance(diff, list):
        return "; ".join(describe_diff(item) for item in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = "models have" if kind == "add_table" else "the migrations create"
        lack = "the migrations lack" if kind == "add_table" else "no model has"
        return f"{where} table {diff[1].name} that {lack}"
    if kind in ("add_column", "remove_column"):
        _, _, table, column = diff
        if kind == "add_column":
            return (
                f"models have column {table}.{column.name} ({column.type}) that the migrations lack"
            )
        return f"the migrations create column {table}.{column.name} that the models lack"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        columns = ", ".join(str(getattr(c, "name", c)) for c in index.expressions)
        what = f"index {index.name} on {index.table.name} ({columns})"
        if kind == "add_index":
            return f"models have {what} that the migrations lack"
        return f"the migrations create {what} that the models lack"
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        what = f"constraint {constraint.name} on {constraint.table.name}"
        if kind.startswith("add"):
            return f"models have {what} that the migrations lack"
        return f"the migrations create {what} that the models lack"
    if kind.startswith("modify_"):
        _, _, table, column, _, old, new = diff
        attribute = kind.removeprefix("modify_").replace("nullable", "nullability")
        if kind == "modify_nullable":
            old, new = ("NULL" if v else "NOT NULL" for v in (old, new))
        old = getattr(getattr(old, "arg", old), "text", getattr(old, "arg", old))
        new = getattr(getattr(new, "arg", new), "text", getattr(new, "arg", new))
        return (
            f"column {table}.{column} {attribute} is {old} in the migrations, {new} in the models"
        )
    return f"{kind}: {diff[1:]}"
