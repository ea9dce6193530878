"""Foreign keys checked once per statement, for the tables written in bulk (ADR 5).

A PostgreSQL foreign key checks every inserted row on its own: a query and a row lock per
row and reference. The ledger gets millions of rows a bill run, each with four references,
and three of them (the organisation, the provider, the service) point at the same few
rows: those checks were half of the database's work in a bill run. List
`References(name=..., fields=[...])` in `Meta.constraints` instead, and declare those
foreign keys with `db_constraint=False`; the database then keeps the same rule in sets:

* **Insert and update** (PostgreSQL): a statement trigger with the statement's new rows
  (a transition table) locks the distinct rows they refer to `FOR KEY SHARE`, as a foreign
  key does, and raises a foreign-key violation when one is missing. With `tenant` given,
  each other reference is checked together with it (`(tenant_id, account_id)` must be an
  account of that organisation), so a row can never point at another organisation's data.
* **Delete and truncate** of a referenced row: refused while a row refers to it (a row
  trigger and a statement trigger on the referenced table), as a foreign key that protects
  (a TRUNCATE … CASCADE used to reach the ledger through the key, and was refused there). A
  delete waits for the key-share lock of a transaction inserting a reference; its check
  then sees that transaction's rows (each PL/pgSQL statement takes a new snapshot).
* **SQLite**: row triggers do the same (installed after every `migrate` by
  `kvit.db.triggers`); SQLite is never the bulk path.

Both raise an integrity error (PostgreSQL's `foreign_key_violation`), like a foreign key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from kvit.db.triggers import TriggerConstraint


def dangling(name: str, column: str) -> str:
    """The text both databases raise for a reference to a missing row; tests look for it."""
    return f"{name}: {column} refers to a row that does not exist"


def referenced(name: str, table: str) -> str:
    """The text both databases raise for a delete of a row still referred to."""
    return f"{name}: a row of {table} is still referred to"


class References(TriggerConstraint):
    """The foreign keys `fields` of the model, checked per statement (module text)."""

    def __init__(
        self, *, name: str, fields: Sequence[str], tenant: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.fields = tuple(fields)
        self.tenant = tenant

    def deconstruct(self) -> tuple[str, Any, dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs["fields"] = self.fields
        if self.tenant is not None:
            kwargs["tenant"] = self.tenant
        return path, args, kwargs

    def __eq__(self, other: object) -> bool:
        if isinstance(other, References):
            return (self.name, self.fields, self.tenant) == (other.name, other.fields, other.tenant)
        return super().__eq__(other)

    __hash__ = TriggerConstraint.__hash__

    # --- what is referred to -------------------------------------------------------------

    def keys(self, model: type[models.Model]) -> list[tuple[str, list[str], str, list[str]]]:
        """Per reference: the column named in messages, the local columns, the referenced
        table and its columns (`tenant_id, id` for a reference checked with the tenant)."""
        opts = model._meta
        tenant = opts.get_field(self.tenant) if self.tenant else None
        found = []
        for name in self.fields:
            field = opts.get_field(name)
            assert isinstance(field, models.ForeignKey), f"{name} is not a foreign key"
            remote = field.related_model._meta  # type: ignore[union-attr]
            local, target = [field.column], [field.target_field.column]
            if tenant is not None and field != tenant:
                local.insert(0, str(tenant.column))  # type: ignore[union-attr]
                target.insert(0, str(remote.get_field("tenant").column))  # type: ignore[union-attr]
            found.append((field.column, local, remote.db_table, target))
        return found

    # --- PostgreSQL ----------------------------------------------------------------------

    def create_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        quote = schema_editor.quote_name
        table = quote(model._meta.db_table)
        keys = self.keys(model)
        # One pass over the statement's rows collects each reference's distinct keys (as
        # rows of a two-dimensional array); then one query per reference locks them.
        names = [f"keys_{index}" for index in range(len(keys))]
        collect = ", ".join(
            f"array_agg(DISTINCT ARRAY[{', '.join(quote(c) for c in local)}]) FILTER (WHERE "
            + " AND ".join(f"{quote(c)} IS NOT NULL" for c in local)
            + ")"
            for _, local, _, _ in keys
        )
        checks = [f"    SELECT {collect} INTO {', '.join(names)} FROM new_rows;\n"]  # noqa: S608
        for name, (column, local, remote, target) in zip(names, keys, strict=True):
            rows = ", ".join(f"t.{quote(c)}" for c in target)
            given = ", ".join(f"{name}[i][{n}]" for n in range(1, len(local) + 1))
            # Names come from model metadata, never from input; no "%" anywhere: Django
            # passes DDL through the driver's parameter formatting.
            checks.append(
                f"    SELECT count(*) INTO found FROM (SELECT 1 FROM {quote(remote)} AS t "  # noqa: S608
                f"WHERE ({rows}) IN (SELECT {given} FROM generate_subscripts({name}, 1) AS i) "
                "FOR KEY SHARE OF t) AS k;\n"
                f"    IF found < coalesce(array_length({name}, 1), 0) THEN\n"
                f"        RAISE EXCEPTION USING MESSAGE = '{dangling(self.name, column)}',\n"
                "            ERRCODE = 'foreign_key_violation';\n"
                "    END IF;\n"
            )
        check = quote(f"{self.name}_check")
        declared = "".join(f"    {name} bigint[];\n" for name in names)
        sql = [
            f"CREATE OR REPLACE FUNCTION {check}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"DECLARE\n{declared}    found bigint;\nBEGIN\n"
            + "".join(checks)
            + "    RETURN NULL;\nEND\n$$",
        ]
        # A trigger with a transition table takes one event: one for inserts, one for updates.
        for event in ("INSERT", "UPDATE"):
            sql.append(
                f"CREATE TRIGGER {quote(f'{self.name}_{event.lower()}')} AFTER {event} ON {table} "
                f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {check}()"
            )
        for remote, column, key in self._protected(model):
            protect = quote(f"{self.name}_protect_{remote}")
            sql.append(
                f"CREATE OR REPLACE FUNCTION {protect}() RETURNS trigger LANGUAGE plpgsql AS $$\n"  # noqa: S608
                "BEGIN\n"
                "    IF TG_OP = 'TRUNCATE' THEN\n"
                f"        IF EXISTS (SELECT 1 FROM {table}) THEN\n"
                f"            RAISE EXCEPTION USING MESSAGE = '{referenced(self.name, remote)}',\n"
                "                ERRCODE = 'foreign_key_violation';\n"
                "        END IF;\n"
                "        RETURN NULL;\n"
                "    END IF;\n"
                f"    IF EXISTS (SELECT 1 FROM {table} WHERE {quote(column)} = OLD.{quote(key)})\n"
                "    THEN\n"
                f"        RAISE EXCEPTION USING MESSAGE = '{referenced(self.name, remote)}',\n"
                "            ERRCODE = 'foreign_key_violation';\n"
                "    END IF;\n"
                "    RETURN OLD;\n"
                "END\n$$"
            )
            sql.append(
                f"CREATE TRIGGER {quote(f'{self.name}_protect')} BEFORE DELETE ON "
                f"{quote(remote)} FOR EACH ROW EXECUTE FUNCTION {protect}()"
            )
            sql.append(
                f"CREATE TRIGGER {quote(f'{self.name}_protect_truncate')} BEFORE TRUNCATE ON "
                f"{quote(remote)} FOR EACH STATEMENT EXECUTE FUNCTION {protect}()"
            )
        return ";\n".join(sql)

    def _protected(self, model: type[models.Model]) -> list[tuple[str, str, str]]:
        """Per referenced table: the local column and the referenced column."""
        found = []
        for name in self.fields:
            field = model._meta.get_field(name)
            assert isinstance(field, models.ForeignKey)
            remote = field.related_model._meta.db_table  # type: ignore[union-attr]
            found.append((remote, field.column, field.target_field.column))
        return found

    def remove_sql(self, model: Any, schema_editor: Any) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        quote = schema_editor.quote_name
        functions = [f"{self.name}_check"] + [
            f"{self.name}_protect_{remote}" for remote, _, _ in self._protected(model)
        ]
        # The triggers depend on their functions and go with them.
        return ";\n".join(f"DROP FUNCTION IF EXISTS {quote(f)}() CASCADE" for f in functions)

    # --- SQLite: installed by kvit.db.triggers after every migrate ---

    def sqlite_triggers(self, model: type[models.Model]) -> list[str]:
        table = model._meta.db_table
        triggers = []
        for event in ("INSERT", "UPDATE"):
            body = "".join(self._sqlite_check(*key) for key in self.keys(model))
            triggers.append(
                f'CREATE TRIGGER IF NOT EXISTS "{self.name}_{event.lower()}" BEFORE {event} '
                f'ON "{table}" FOR EACH ROW BEGIN {body}END'
            )
        for remote, column, target in self._protected(model):
            triggers.append(
                f'CREATE TRIGGER IF NOT EXISTS "{self.name}_protect_{remote}" BEFORE DELETE '  # noqa: S608
                f'ON "{remote}" FOR EACH ROW BEGIN SELECT RAISE(ABORT, '
                f"'{referenced(self.name, remote)}') WHERE EXISTS (SELECT 1 FROM \"{table}\" "
                f'WHERE "{column}" = OLD."{target}"); END'
            )
        return triggers

    def _sqlite_check(self, column: str, local: list[str], remote: str, target: list[str]) -> str:
        given = " AND ".join(f'NEW."{c}" IS NOT NULL' for c in local)
        same = " AND ".join(f'"{t}" = NEW."{c}"' for c, t in zip(local, target, strict=True))
        found = f'SELECT 1 FROM "{remote}" WHERE {same}'  # noqa: S608 -- model metadata
        message = dangling(self.name, column)
        return f"SELECT RAISE(ABORT, '{message}') WHERE {given} AND NOT EXISTS ({found}); "

    # --- validation: the foreign keys' own (ForeignKey.validate) and the model's clean() ---

    def validate(
        self, model: type[models.Model], instance: Any, exclude: Any = None, using: Any = None
    ) -> None:
        return None
