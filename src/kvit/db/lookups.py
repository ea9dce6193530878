"""`field__any_of=[…]`: membership in a long list of values, for the bulk paths.

`field__in=[…]` with thousands of ids costs in Python, not in the database: Django prepares
every value, writes a placeholder for each, and the driver parses them all again. On
PostgreSQL `any_of` passes the list as one array parameter (`field = ANY(%s)`), which the
planner treats like the IN list; elsewhere it is `in`. Values are taken as they are (ids,
codes): no per-value conversion.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Expression, Field, ForeignObject
from django.db.models.lookups import In


class Slot(Expression):
    """The placeholder of a prepared query's argument `index` (its value comes at run;
    `kvit.db.prepared`)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [self]


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
        return f"{lhs} = ANY(%s)", [*lhs_params, array_value(self.rhs)]


def array_value(values: Iterable[Any]) -> Any:
    """`values` as a PostgreSQL array parameter: a list of integers or of strings as the
    array's text ('{1,2,3}', '{"a","b"}', which PostgreSQL reads as the column's type),
    anything else as a list. psycopg writes a list into the query element by element in
    Python: 12,000 ids take 7 ms that way, 1 ms as text."""
    found = list(values)
    if all(type(value) is int for value in found):
        return array_text(found)
    if all(type(value) is str for value in found):
        return "{" + ",".join(map(_quoted_element, found)) + "}"
    return found


def _quoted_element(text: str) -> str:
    """A string as an element of array text: in double quotes, `"` and `\\` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_text(values: Iterable[int | Decimal]) -> str:
    """Integers or decimals as PostgreSQL array text: '{1,2,3}'."""
    return "{" + ",".join(map(str, values)) + "}"
