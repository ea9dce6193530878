"""Ending a Django connection's PostgreSQL session from outside, as a failover or an
administrator would (reliability R26)."""

from __future__ import annotations

import psycopg
from django.db import connection


def terminate_own_session() -> None:
    """End this process's default connection's session from another connection."""
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
