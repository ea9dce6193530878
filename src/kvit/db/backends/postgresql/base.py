"""Django's PostgreSQL backend, reading `timestamptz` with psycopg's compiled loader, and
logging a statement that another thread sent for it (`kvit.db.bulk.writes_behind`).

Django registers a loader that subclasses psycopg's pure-Python `TimestamptzLoader` (the
compiled one cannot be subclassed: Django ticket #36960, psycopg issue #1273), so every
time it reads costs about 2 µs of Python: a registry sent again reads a million payment
times to compare them. `FastTzLoader` wraps the compiled loader that psycopg's own
adapters map holds and does what Django's does: the time in the connection's zone (UTC,
as Django sets it), marked with Django's zone.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg import abc
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
assert _LOADER is not None
COMPILED: type[abc.Loader] = _LOADER
"""psycopg's own `timestamptz` text loader: the compiled one when psycopg-binary (or -c)
is installed, else the Python one."""


@cache
def adapters(template: AdaptersMap, zone: Any) -> AdaptersMap:
    """Django's adapters map for connections, with `FastTzLoader` (one per zone, as
    Django keeps one template per zone)."""
    derived = AdaptersMap(template)
    derived.register_loader("timestamptz", _fast_tz_loader(zone))
    return derived


def _fast_tz_loader(zone: Any) -> type[Loader]:
    """Django's `SpecificTzLoader` for `zone`, on the compiled loader."""

    class FastTzLoader(Loader):
        timezone = zone  # what Django's cursor compares with its own zone

        def __init__(self, oid: int, context: abc.AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self._load = COMPILED(oid, context).load

        def load(self, data: Any) -> Any:
            return self._load(data).replace(tzinfo=zone)

    return FastTzLoader


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """Django's, or, when this cursor sent nothing, the statement as given: inside
        `writes_behind` a savepoint's release is sent by the worker thread."""
        return super().last_executed_query(cursor, sql, params) or sql


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["context"] = adapters(params["context"], self.timezone)
        return params
