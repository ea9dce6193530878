"""Finding and deleting the demo tenants with everything under them, in bulk.

The ORM's delete() would load every row (and write a history row for each), which takes
hours for a million accounts; here each table is one DELETE … WHERE id IN (subquery).
When the demo tenants are the only ones (the usual case), their tables hold nothing else,
and PostgreSQL empties them with TRUNCATE in seconds instead.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.admin.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Model, Q, QuerySet

from kvit.db.bulk import quoted
from kvit.demo.energy_catalog import CODE as ENERGY_CODE
from kvit.demo.housing_catalog import CODE as HOUSING_CODE
from kvit.demo.schema import TABLES, TENANT, USER, Table
from kvit.demo.users import (
    ADMIN_PASSWORD,
    CONSUMER_PASSWORD,
    STAFF_PASSWORD,
    STAFF_ROLES,
    SUPERUSER,
    SUPERUSER_EMAIL,
    USERNAME_PREFIXES,
    Login,
)
from kvit.tenants.models import Tenant
from kvit.users.models import User

DEMO_CODES = (HOUSING_CODE, ENERGY_CODE)


def demo_tenants() -> list[int]:
    return list(Tenant.objects.filter(code__in=DEMO_CODES).values_list("pk", flat=True))


def stored_logins() -> list[Login]:
    """The demo logins already in the database, for `kvit seed --if-empty` to print again."""
    can = dict(STAFF_ROLES)
    logins = []
    users = User.objects.filter(_demo_users(demo_tenants())).select_related("tenant")
    for user in users.annotate(linked=Count("accounts")).order_by("pk"):
        if user.is_superuser:
            logins.append(Login(user.username, ADMIN_PASSWORD, "superuser"))
        elif user.is_consumer:
            text = f"personal cabinet: {user.linked} accounts"
            logins.append(Login(user.username, CONSUMER_PASSWORD, text))
        else:
            where = user.tenant.name if user.tenant else ""
            logins.append(
                Login(user.username, STAFF_PASSWORD, f"{where}: {can.get(user.role, '')}")
            )
    return logins


def has_data() -> bool:
    """Any organisation at all: a database with one is not empty."""
    return Tenant.objects.exists()


def _demo_users(tenants: list[int]) -> Q:
    superuser = Q(username=SUPERUSER, email=SUPERUSER_EMAIL, tenant__isnull=True)
    return Q(tenant__in=tenants) | superuser


def clashing_usernames() -> list[str]:
    """Existing users, not the demo's own, whose usernames the demo would take."""
    names = Q(username=SUPERUSER)
    for prefix in USERNAME_PREFIXES:
        names |= Q(username__startswith=prefix)
    others = User.objects.filter(names).exclude(_demo_users(demo_tenants()))
    return sorted(others.values_list("username", flat=True)[:5])


def delete_demo() -> dict[str, int]:
    """Delete the demo tenants and the demo superuser; rows deleted per table."""
    tenants = demo_tenants()
    users = User.objects.filter(_demo_users(tenants)).values("pk")
    deleted: dict[str, int] = {}
    # What other parts of Django keep about the demo users.
    for model in (LogEntry, User.groups.through, User.user_permissions.through):
        deleted[model._meta.db_table] = _delete(model, "user_id", users)
    if connection.vendor == "postgresql" and not Tenant.objects.exclude(pk__in=tenants).exists():
        try:
            with transaction.atomic():
                deleted.update(_truncate())
        except DatabaseError:
            pass  # a table outside the demo refers to these: delete them row set by row set
    for table in reversed(TABLES):
        if table is USER:
            count = _delete(User, "id", User.objects.filter(_demo_users(tenants)).values("pk"))
        else:
            count = _delete(table.model, *_owned_by(table, tenants))
        deleted[table.name] = deleted.get(table.name, 0) + count
    return deleted


def _owned_by(table: Table, tenants: list[int]) -> tuple[str, QuerySet[Any] | list[int]]:
    """The column that leads to the tenant and the ids it must be in: for a reading,
    meter_id in (the ids of the tenants' meters), so the big table is not joined again."""
    first, *rest = table.tenant_via.split("__")
    field = table.model._meta.get_field(first)
    column = str(getattr(field, "column", first))
    if not rest:
        return column, tenants
    parent = cast(type[Model], field.related_model)
    return column, parent._default_manager.filter(**{f"{'__'.join(rest)}__in": tenants}).values(
        "pk"
    )


def _truncate() -> dict[str, int]:
    """Empty every demo table but the tenants and users (referenced from outside: users by
    Django's own tables, tenants by users); `delete_demo` deletes those rows afterwards."""
    emptied = [t for t in TABLES if t not in (TENANT, USER)]
    counts = {t.name: t.model._default_manager.count() for t in emptied}
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(quoted(t.name) for t in emptied)}")
    return counts


def _delete(model: type[Model], column: str, ids: QuerySet[Any] | list[int]) -> int:
    if isinstance(ids, list):
        if not ids:
            return 0
        subquery, params = ", ".join(["%s"] * len(ids)), tuple(ids)
    else:
        subquery, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quoted(model._meta.db_table)} WHERE {quoted(column)} IN ({subquery})",  # noqa: S608
            params,
        )
        return int(cursor.rowcount)
