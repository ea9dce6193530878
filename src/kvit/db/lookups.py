"""`field__any_of=[…]`: membership in a long list of values, for the bulk paths.

`field__in=[…]` with thousands of ids costs in Python, not in the database: Django prepares
every value, writes a placeholder for each, and the driver parses them all again. On
PostgreSQL `any_of` passes the list as one array parameter (`field = ANY(%s)`), which the
planner treats like the IN list; elsewhere it is `in`. Values are taken as they are (ids,
codes): no per-value conversion.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In

from kvit.db.prepared import Slot


@ForeignObject.register_lookup  # a foreign key keeps a lookup set of its own
@Field.register_lookup
class AnyOf(In):  # type: ignore[type-arg]
    lookup_name = "any_of"

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, Slot):
            return self.rhs
        if self.rhs_is_direct_value():
            return [value for value in self.rhs if value is not None]
        return super().get_prep_lookup()

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        if isinstance(self.rhs, Slot):  # a prepared query's list (`kvit.db.prepared`)
            lhs, lhs_params = self.process_lhs(compiler, connection)
            return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]
