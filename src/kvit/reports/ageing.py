"""Debt ageing (the turnover statement's companion report, spec 5.4): each account's debt
as of a date, in buckets by the age of the period it comes from — 0–1, 1–3, 3–6, 6–12,
12–36 and over 36 months — with totals.

Rules
    * Entries posted on or before `as_of` count (by `posted_on`, as in the statement), so
      an account's debt minus its advance is `kvit.ledger.queries.balance(account, as_of)`.
    * An entry belongs to the period of its obligation: `corrects_period` if set, else its
      `period`. A payment says which period it settled that way (kvit.payments allocates
      it, spec 3.4, and posts each share with the period it settles), so each period's net
      is what is still owed for it; a reversal nets with the entry it reverses.
    * [DECISION] What stays negative — an advance, a period paid or recalculated beyond
      its charges, a write-off without a period — settles the oldest debt first (spec
      3.4.3, 3.4.6), provider by provider (an advance is the provider's, spec 3.4.6);
      what is left of it is the account's advance.
    * Age in months = the months from the obligation's period to the month of `as_of`
      (a June debt is 1 month old in July). The buckets include their upper bound: "0–1"
      is 0 or 1 month old, "1–3" 2 or 3, … "12–36" 13 to 36, "over 36" older (the
      limitation period, spec 8). A period after `as_of`'s month counts as 0–1.

One query does it all in the database, window functions included (PostgreSQL, and SQLite
from 3.25): the entries summed per account, provider and period, settled oldest first with
running sums, and bucketed per account; the rows stream out by account number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from kvit.accounts.models import Account
from kvit.providers.models import Provider
from kvit.reports.scope import (
    FETCH,
    LABEL_COLUMNS,
    LABEL_SIZE,
    ZERO,
    Scope,
    account_label,
    label_joins,
    money_reader,
    scope_entries,
    table,
)
from kvit.tenants.models import HierarchyNode, Tenant

BUCKET_LIMITS: tuple[int | None, ...] = (1, 3, 6, 12, 36, None)
"""The oldest age in months of each bucket (None: no limit)."""
BUCKETS = ("0–1", "1–3", "3–6", "6–12", "12–36", ">36")


@dataclass(frozen=True, slots=True)
class AgeingRow:
    """One account: its debt per bucket (oldest last) and its advance, both positive."""

    account_id: int
    account: str
    address: str
    payer: str
    buckets: tuple[Decimal, ...]
    advance: Decimal

    @property
    def debt(self) -> Decimal:
        return sum(self.buckets, ZERO)

    @property
    def balance(self) -> Decimal:
        """The account's balance as of the report's date: debt minus advance."""
        return self.debt - self.advance


@dataclass(frozen=True, slots=True)
class AgeingTotal:
    rows: int
    buckets: tuple[Decimal, ...]
    advance: Decimal

    @property
    def debt(self) -> Decimal:
        return sum(self.buckets, ZERO)

    @property
    def balance(self) -> Decimal:
        return self.debt - self.advance


@dataclass(frozen=True, slots=True)
class DebtAgeing:
    """The report's heading and its lines: a row per account with a debt or an advance, by
    account number, then the total. `lines` is read as it is iterated, once."""

    tenant: Tenant
    as_of: date
    node: HierarchyNode | None
    provider: Provider | None
    lines: Iterator[AgeingRow | AgeingTotal]

    def __iter__(self) -> Iterator[AgeingRow | AgeingTotal]:
        return self.lines


def debt_ageing(
    tenant: Tenant,
    as_of: date,
    *,
    node: HierarchyNode | None = None,
    provider: Provider | None = None,
) -> DebtAgeing:
    """The debt ageing of `tenant` as of `as_of` (entries posted that day included),
    optionally of the accounts under `node` and of one `provider`."""
    scope = Scope(tenant, node, provider)
    sql, params = _ageing_sql(scope, as_of)
    return DebtAgeing(
        tenant=tenant,
        as_of=as_of,
        node=node,
        provider=provider,
        lines=_lines(sql, params),
    )


def bucket_starts(as_of: date) -> tuple[date, ...]:
    """The first period of each bucket but the last (the last takes everything older)."""
    starts = []
    for limit in BUCKET_LIMITS[:-1]:
        assert limit is not None
        months = as_of.year * 12 + as_of.month - 1 - limit
        starts.append(date(months // 12, months % 12 + 1, 1))
    return tuple(starts)


def _ageing_sql(scope: Scope, as_of: date) -> tuple[str, list[Any]]:
    """One query: the nets per account, provider and obligation period (n); the oldest-first
    settling with running sums per provider (v: `cumulative` debt up to the period, the
    provider's `debts` and `credit`; w: what is left of each period's debt, and the
    provider's advance on its first row); the buckets per account."""
    columns = (
        "e.account_id AS account_id, e.provider_id AS provider_id, "
        "COALESCE(e.corrects_period, e.period) AS period, e.amount AS amount"
    )
    union, union_params = scope_entries(scope, columns, [], "e.posted_on <= %s", [as_of])
    starts = bucket_starts(as_of)
    params: list[Any] = []  # the buckets' bounds come first in the text, then the union's
    buckets = []
    for index in range(len(BUCKETS)):
        conditions = []
        if index < len(starts):
            conditions.append("w.period >= %s")
            params.append(starts[index])
        if index > 0:
            conditions.append("w.period < %s")
            params.append(starts[index - 1])
        buckets.append(f"SUM(CASE WHEN {' AND '.join(conditions)} THEN w.remaining ELSE 0.00 END)")
    debt = "CASE WHEN n.net > 0 THEN n.net ELSE 0.00 END"
    window = "PARTITION BY n.account_id, n.provider_id"
    left = "v.cumulative - v.credit"
    sql = (
        f"SELECT s.account_id, {', '.join(f's.b{i}' for i in range(len(BUCKETS)))}, "  # noqa: S608
        f"s.advance, {LABEL_COLUMNS} FROM ("
        f"SELECT w.account_id, "
        f"{', '.join(f'{bucket} AS b{i}' for i, bucket in enumerate(buckets))}, "
        "SUM(w.advance) AS advance FROM ("
        "SELECT v.account_id, v.period, "
        f"CASE WHEN {left} <= 0 THEN 0.00 WHEN {left} >= v.debt THEN v.debt ELSE {left} END "
        "AS remaining, "
        "CASE WHEN v.first = 1 AND v.credit > v.debts THEN v.credit - v.debts ELSE 0.00 END "
        "AS advance FROM ("
        f"SELECT n.account_id, n.period, {debt} AS debt, "
        f"SUM({debt}) OVER ({window} ORDER BY n.period "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative, "
        f"SUM({debt}) OVER ({window}) AS debts, "
        f"-SUM(CASE WHEN n.net < 0 THEN n.net ELSE 0.00 END) OVER ({window}) AS credit, "
        f"ROW_NUMBER() OVER ({window} ORDER BY n.period) AS first FROM ("
        "SELECT u.account_id, u.provider_id, u.period, SUM(u.amount) AS net "
        f"FROM ({union}) u GROUP BY u.account_id, u.provider_id, u.period"
        ") n) v) w GROUP BY w.account_id "
        "HAVING ABS(SUM(w.remaining)) >= 0.005 OR ABS(SUM(w.advance)) >= 0.005"
        f") s JOIN {table(Account)} a ON a.id = s.account_id {label_joins()} "
        "ORDER BY a.number, a.id"
    )
    return sql, params + union_params


def _lines(sql: str, params: list[Any]) -> Iterator[AgeingRow | AgeingTotal]:
    width = len(BUCKETS) + 1
    labels = slice(1 + width, 1 + width + LABEL_SIZE)
    totals = [ZERO] * width
    count = 0
    money = money_reader()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            for record in batch:
                sums = money(record[1 : 1 + width])
                names = account_label(record[labels])
                count += 1
                for index, value in enumerate(sums):
                    totals[index] += value
                yield AgeingRow(
                    account_id=record[0],
                    account=names.number,
                    address=names.address,
                    payer=names.payer,
                    buckets=tuple(sums[:-1]),
                    advance=sums[-1],
                )
    yield AgeingTotal(rows=count, buckets=tuple(totals[:-1]), advance=totals[-1])
