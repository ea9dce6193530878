"""Row buffers and id counters shared by the generators.

Ids are handed out from per-table counters that start at max(id) + 1 of the database, so
every row is complete (foreign keys included) before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kvit.demo.schema import TABLES, Table

Row = tuple[Any, ...]


def m2(hundredths: int) -> str:
    """An area kept in 0.01 m² as the decimal text the database takes."""
    return f"{hundredths // 100}.{hundredths % 100:02d}"


class Ids:
    def __init__(self, first: Mapping[Table, int] | None = None) -> None:
        self.next: dict[Table, int] = {t: 1 for t in TABLES}
        self.next.update(first or {})

    def take(self, table: Table, count: int = 1) -> int:
        """The first of `count` consecutive fresh ids."""
        first = self.next[table]
        self.next[table] = first + count
        return first


@dataclass
class Batch:
    """The rows of one chunk of accounts (or of the reference data), per table."""

    rows: dict[Table, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})
    accounts: int = 0

    def add(self, table: Table, row: Row) -> None:
        self.rows[table].append(row)

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())
