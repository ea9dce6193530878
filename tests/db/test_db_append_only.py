"""Every append-only table has its triggers on the database in use (`kvit.db.append_only`):
on PostgreSQL a row trigger against UPDATE and DELETE and a statement trigger against
TRUNCATE, on SQLite triggers against UPDATE and DELETE (reinstalled after every migrate)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from kvit.db.append_only import AppendOnly

pytestmark = pytest.mark.django_db

APPEND_ONLY = {
    model: constraint.name
    for model in apps.get_models()
    for constraint in model._meta.constraints
    if isinstance(constraint, AppendOnly)
}


def triggers(table: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.parametrize("model", list(APPEND_ONLY), ids=lambda model: model._meta.label)
def test_the_database_has_the_triggers(model: type[models.Model]) -> None:
    name = APPEND_ONLY[model]
    own = {found for found in triggers(model._meta.db_table) if found.startswith(name)}
    if connection.vendor == "postgresql":
        assert own == {f"{name}_row", f"{name}_truncate"}
    else:
        assert own == {f"{name}_update", f"{name}_delete"}
