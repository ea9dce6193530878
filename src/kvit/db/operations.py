"""Migration operations of our own.

`AddIndexConcurrently`: CONTRIBUTING's rule for the large tables (accounts, readings, the
ledger) — on PostgreSQL the index is built with CREATE INDEX CONCURRENTLY, so writers are
not blocked while it builds (the migration must say `atomic = False`); on any other
database it is a plain AddIndex. The migration state is AddIndex's either way, so the
model's `Meta.indexes` names the index as usual.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import (
    AddIndexConcurrently as PostgresAddIndexConcurrently,
)
from django.db.migrations.operations import AddIndex


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *states)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, *states)

    def database_backwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *states)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, *states)
