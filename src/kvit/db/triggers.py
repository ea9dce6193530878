"""SQLite triggers that stand in for what SQLite cannot declare.

Two constraints need them: `NoOverlap` (PostgreSQL has exclusion constraints, SQLite does
not) and `AppendOnly` (PostgreSQL gets its triggers from the migration). Django rebuilds a
SQLite table on many schema changes, dropping its triggers, so every trigger is
(re)installed after every `migrate`: a constraint with SQLite triggers has a
`sqlite_triggers(model)` method, and this module runs what it returns.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections, models

from kvit.db.effective import NoOverlap, concrete_field


class TriggerConstraint(models.BaseConstraint):
    """A rule the database keeps with triggers, listed in `Meta.constraints`: on PostgreSQL
    `create_sql` makes them with the table (or by `AddConstraint`) and `remove_sql` drops
    them; SQLite's come from `sqlite_triggers(model)`, installed after every `migrate`."""

    def constraint_sql(self, model: Any, schema_editor: Any) -> str:
        # Called inside CREATE TABLE, where a trigger cannot go: create it after the table.
        sql = self.create_sql(model, schema_editor)
        if sql:
            schema_editor.deferred_sql.append(sql)
        return ""


def no_overlap_triggers(table: str, columns: list[str], name: str) -> list[str]:
    same_key = " AND ".join(f'"{c}" IS NEW."{c}"' for c in columns)
    # Names come from model metadata, never from input.
    clash = (
        f"SELECT RAISE(ABORT, '{name}: overlapping effective dates') WHERE EXISTS ("  # noqa: S608
        f'SELECT 1 FROM "{table}" WHERE {same_key} AND id IS NOT NEW.id '
        "AND (effective_to IS NULL OR effective_to > NEW.effective_from) "
        "AND (NEW.effective_to IS NULL OR effective_from < NEW.effective_to));"
    )
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{name}_{event.lower()}" BEFORE {event} ON "{table}" '
        f"FOR EACH ROW BEGIN {clash} END"
        for event in ("INSERT", "UPDATE")
    ]


def sqlite_triggers(model: type[models.Model], constraint: models.BaseConstraint) -> list[str]:
    """The triggers that enforce `constraint` of `model` on SQLite ([] when none)."""
    if isinstance(constraint, NoOverlap):
        columns = [concrete_field(model, f).column for f in constraint.fields]
        return no_overlap_triggers(model._meta.db_table, columns, constraint.name)
    method = getattr(constraint, "sqlite_triggers", None)
    return list(method(model)) if method is not None else []


def install_sqlite_triggers(using: str = "default", **_: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.db_table not in existing:
                continue
            for constraint in model._meta.constraints:
                for sql in sqlite_triggers(model, constraint):
                    cursor.execute(sql)
