"""An organisation's imports of registries and bank statements take turns, so none of them
misses what another is writing: two registries never wait for each other's payments and
accounts in a circle, and a statement sees every registry it may check (and a registry
every statement) committed."""

from __future__ import annotations

from django.db import connection

LOCK_CLASS = 0x52454753
"""The first key of the advisory lock that makes a tenant's imports take turns ('REGS')."""


def take_turn(tenant_id: int) -> None:
    """Wait for the organisation's other import to finish, inside the caller's transaction
    (PostgreSQL: an advisory lock held until the transaction ends; SQLite's IMMEDIATE
    transactions queue already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, tenant_id])
