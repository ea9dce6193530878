"""Append-only tables: the database itself refuses UPDATE, DELETE and TRUNCATE (R14).

List `AppendOnly(name=...)` in a model's `Meta.constraints`, so the rule is visible in the
model and `makemigrations` carries it:

* PostgreSQL: a trigger function named after the constraint, a row trigger BEFORE UPDATE OR
  DELETE and a statement trigger BEFORE TRUNCATE, created with the table (or by
  `AddConstraint`) and dropped with the constraint.
* SQLite: BEFORE UPDATE and BEFORE DELETE triggers, (re)installed after every `migrate` by
  `kvit.db.triggers` (SQLite has no TRUNCATE; a DELETE without WHERE fires the trigger).

Both raise an integrity error, so code sees the same exception on either database.
TRUNCATE of an *empty* table is let through: it loses nothing, and Django's test flush
(`TransactionTestCase`) truncates every table. Corrections are new rows that point at what
they correct. Whoever owns the table can still disable or drop the triggers: that is DDL,
done by a migration, never by the application.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kvit.db.triggers import TriggerConstraint


def refusal(name: str) -> str:
    """The text both databases raise; tests look for it."""
    return f"{name}: the table is append-only"


class AppendOnly(TriggerConstraint):
    """Saved rows of the model are never changed or deleted."""

    def __init__(self, *, name: str, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    # --- DDL: PostgreSQL only ("" means no DDL); SQLite gets triggers after migrate ---

    def _function(self, schema_editor: Any) -> str:
        return str(schema_editor.quote_name(f"{self.name}_refuse"))

    def create_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        quote = schema_editor.quote_name
        table = quote(model._meta.db_table)
        function = self._function(schema_editor)
        message = refusal(self.name)
        # No "%" anywhere: Django passes DDL through the driver's parameter formatting.
        # Names come from model metadata, never from input.
        return (
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"  # noqa: S608
            "DECLARE\n"
            "    has_rows boolean;\n"
            "BEGIN\n"
            "    IF TG_OP = 'TRUNCATE' THEN\n"
            "        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || TG_RELID::regclass || ')'\n"
            "            INTO has_rows;\n"
            "        IF NOT has_rows THEN\n"
            "            RETURN NULL;\n"
            "        END IF;\n"
            "    END IF;\n"
            f"    RAISE EXCEPTION USING MESSAGE = '{message}: ' || TG_OP || ' refused',\n"
            "        ERRCODE = 'integrity_constraint_violation';\n"
            "END\n"
            "$$;\n"
            f"CREATE TRIGGER {quote(self.name + '_row')} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}();\n"
            f"CREATE TRIGGER {quote(self.name + '_truncate')} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )

    def remove_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        # The triggers depend on the function and go with it.
        return f"DROP FUNCTION IF EXISTS {self._function(schema_editor)}() CASCADE"

    # --- SQLite: installed by kvit.db.triggers after every migrate ---

    def sqlite_triggers(self, model: type[models.Model]) -> list[str]:
        table = model._meta.db_table
        return [
            f'CREATE TRIGGER IF NOT EXISTS "{self.name}_{event.lower()}" BEFORE {event} '
            f'ON "{table}" FOR EACH ROW BEGIN '
            f"SELECT RAISE(ABORT, '{refusal(self.name)}: {event} refused'); END"
            for event in ("UPDATE", "DELETE")
        ]

    # --- validation, the same on every database ---

    def validate(
        self, model: type[models.Model], instance: Any, exclude: Any = None, using: Any = None
    ) -> None:
        if not instance._state.adding:
            raise ValidationError(
                _("A saved %(model)s cannot be changed: post a correction instead."),
                code="append_only",
                params={"model": model._meta.verbose_name},
            )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AppendOnly):
            return self.name == other.name
        return super().__eq__(other)

    __hash__ = TriggerConstraint.__hash__
