"""The turnover statement (оборотно-сальдовая ведомость, spec 5.4): one row per account,
subtotals per building, provider, service or hierarchy node, and a grand total, for any date
range, summed in the database in one query (plus one index lookup to choose how).

Which entries count
    By `posted_on`, the accounting date: an entry posted before `date_from` is in the
    opening balance, one posted from `date_from` to `date_to` (both included, as printed) is
    a movement, a later one is left out. The `period` (the month the obligation belongs to)
    does not decide: a June charge posted on 3 July is a July movement. So the closing
    balance of an account is `kvit.ledger.queries.balance(account, date_to)` and one
    statement's closing balance is the next one's opening balance.

Columns
    `COLUMNS` maps every ledger kind to its column, in one table; the row invariant and the
    debit/credit split are the engine's (`kvit.core.statements.TurnoverRow`):
    `closing = opening + charged + recalculations − benefits + penalties − paid_principal −
    paid_penalties − write_offs`, benefits, payments and write-offs shown as positive
    numbers, recalculations with their sign. A reversal counts in the column of the entry
    it reverses. [DECISION] A payment pays penalties when its line key `rule` is "penalty"
    (`PENALTY_RULE`, the rule of penalty lines; kvit.payments posts the share of a payment
    that settles penalties so) or when its kind is spec 1.9's `penalty_payment`; every other
    payment (principal, an advance, an unsplit payment without a service) is principal.
    An opening balance brought over from a previous system (`opening_balance`) is in the
    opening balance even when it is posted inside the range. Each row's closing balance is
    also summed directly from the entries and must equal the invariant's, otherwise
    `StatementMismatch` is raised (an entry of a kind the table does not know).

Rows
    A row is shown when the account has a movement in the range or a non-zero opening or
    closing balance. With `group_by="provider"` or `"service"` a row is an account's part
    owed to that provider or for that service (an account with two providers has a row in
    each group; entries without a service are the group "no service"); with `"building"`
    or `"node"` it is the whole account, in the group of its premise's building or of its
    node (its own, else its premise's). Subtotals carry the debit and credit balances
    summed separately (развёрнутое сальдо), as do the total.

How it is summed
    Two ways that give the same numbers (a test checks):

    * forward: every entry of the scope posted up to `date_to`; reads the whole history
      before the range.
    * backward: the cached balances (`ledger.AccountBalance`, kept in the posting's
      transaction) minus the entries posted from `date_from` on; reads the cache (about one
      row per account, provider and service) and the entries since `date_from`, however
      long the history is. One statement reads the cache and the entries in one snapshot.

    `method="auto"` takes the one that reads fewer months of entries, from the first and
    last posting dates of the organisation (two index lookups).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from operator import add
from typing import Any, Literal

from django.db import connection
from django.db.models import Max, Min

from kvit.accounts.models import Account
from kvit.core.codes import Rule
from kvit.core.statements import EntryKind, TurnoverRow, credit, debit
from kvit.ledger.models import AccountBalance, LedgerEntry
from kvit.providers.models import Provider
from kvit.reports.scope import (
    FETCH,
    LABEL_COLUMNS,
    LABEL_SIZE,
    ZERO,
    Scope,
    account_label,
    codes,
    label_joins,
    literal,
    money_reader,
    scope_entries,
    table,
)
from kvit.tariffs.models import Service
from kvit.tenants.models import HierarchyNode, Tenant

GroupBy = Literal["account", "building", "provider", "service", "node"]
GROUP_BY: tuple[GroupBy, ...] = ("account", "building", "provider", "service", "node")
Method = Literal["auto", "forward", "backward"]
METHODS: tuple[Method, ...] = ("auto", "forward", "backward")


# The statement's columns that entries are summed into (TurnoverRow's field names).
OPENING = "opening"
CHARGED = "charged"
RECALCULATIONS = "recalculations"
BENEFITS = "benefits"
PENALTIES = "penalties"
PAID_PRINCIPAL = "paid_principal"
PAID_PENALTIES = "paid_penalties"
WRITE_OFFS = "write_offs"
MOVEMENTS = (
    CHARGED,
    RECALCULATIONS,
    BENEFITS,
    PENALTIES,
    PAID_PRINCIPAL,
    PAID_PENALTIES,
    WRITE_OFFS,
)

COLUMNS: dict[str, str] = {
    LedgerEntry.Kind.CHARGE: CHARGED,
    LedgerEntry.Kind.RECALCULATION: RECALCULATIONS,
    LedgerEntry.Kind.QUALITY_REDUCTION: RECALCULATIONS,
    LedgerEntry.Kind.BENEFIT: BENEFITS,
    LedgerEntry.Kind.PENALTY: PENALTIES,
    LedgerEntry.Kind.PAYMENT: PAID_PRINCIPAL,  # PAID_PENALTIES with rule PENALTY_RULE
    EntryKind.PENALTY_PAYMENT: PAID_PENALTIES,  # spec 1.9's kind; not posted by Kvit yet
    LedgerEntry.Kind.TRANSFER: WRITE_OFFS,
    LedgerEntry.Kind.WRITE_OFF: WRITE_OFFS,
    LedgerEntry.Kind.OPENING_BALANCE: OPENING,
}
"""The statement column of each ledger kind; a reversal takes the column of the entry it
reverses."""
PENALTY_RULE = Rule.PENALTY.value
"""A payment entry with this `rule` pays penalties (column "paid (penalties)")."""

# Internal buckets of the query besides the columns.
_BEFORE = "before"  # forward: posted before date_from
_AFTER = "after"  # backward: posted after date_to
_CACHED = "cached"  # backward: the cached balance
_UNMAPPED = "unmapped"  # a kind COLUMNS does not know: breaks the closing check
_IN_RANGE = (OPENING, *MOVEMENTS, _UNMAPPED)
_BUCKETS: dict[Method, tuple[str, ...]] = {
    # What a record carries, by method: the balance it starts from, the columns in range,
    # and for the backward method what was posted after the range.
    "forward": (_BEFORE, *_IN_RANGE),
    "backward": (_CACHED, *_IN_RANGE, _AFTER),
}


class StatementMismatch(RuntimeError):
    """A row whose columns do not add up to the sum of its entries."""


# --- the rows ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """The money columns of a row, a subtotal or the total, in the statement's order.

    For a row the balances come from its net balance (debit: owed; credit: an advance);
    for a subtotal or total they are the rows' debits and credits summed separately.
    """

    opening_debit: Decimal
    opening_credit: Decimal
    charged: Decimal
    recalculations: Decimal
    benefits: Decimal
    penalties: Decimal
    paid_principal: Decimal
    paid_penalties: Decimal
    write_offs: Decimal
    closing_debit: Decimal
    closing_credit: Decimal

    @classmethod
    def of(cls, row: TurnoverRow) -> Figures:
        closing = row.closing  # a sum of eight: once, not once per column (a million rows)
        return cls(
            opening_debit=debit(row.opening),
            opening_credit=credit(row.opening),
            charged=row.charged,
            recalculations=row.recalculations,
            benefits=row.benefits,
            penalties=row.penalties,
            paid_principal=row.paid_principal,
            paid_penalties=row.paid_penalties,
            write_offs=row.write_offs,
            closing_debit=debit(closing),
            closing_credit=credit(closing),
        )

    def values(self) -> tuple[Decimal, ...]:
        """The columns in the statement's order (`FIGURES`)."""
        return (
            self.opening_debit,
            self.opening_credit,
            self.charged,
            self.recalculations,
            self.benefits,
            self.penalties,
            self.paid_principal,
            self.paid_penalties,
            self.write_offs,
            self.closing_debit,
            self.closing_credit,
        )

    @property
    def opening(self) -> Decimal:
        """The net opening balance: positive, owed; negative, an advance."""
        return self.opening_debit - self.opening_credit

    @property
    def closing(self) -> Decimal:
        return self.closing_debit - self.closing_credit


FIGURES = tuple(field.name for field in fields(Figures))


@dataclass(frozen=True, slots=True)
class Group:
    """A group of rows: `key` the building, provider, service or node id (None: rows
    without one); `label` its address or name ('' without one)."""

    key: int | None
    label: str


@dataclass(frozen=True, slots=True)
class Row:
    account_id: int
    account: str
    address: str
    payer: str
    group: Group | None
    figures: Figures


@dataclass(frozen=True, slots=True)
class Subtotal:
    group: Group
    rows: int
    figures: Figures


@dataclass(frozen=True, slots=True)
class Total:
    rows: int
    figures: Figures


Line = Row | Subtotal | Total


@dataclass(frozen=True, slots=True)
class TurnoverStatement:
    """The statement's heading and its lines in print order: each group's rows, then its
    subtotal; the total last. `lines` is read from the database as it is iterated, once."""

    tenant: Tenant
    date_from: date
    date_to: date
    group_by: GroupBy
    node: HierarchyNode | None
    provider: Provider | None
    method: Method
    lines: Iterator[Line]

    def __iter__(self) -> Iterator[Line]:
        return self.lines


# --- the query --------------------------------------------------------------------------------


def turnover(
    tenant: Tenant,
    date_from: date,
    date_to: date,
    *,
    group_by: GroupBy = "account",
    node: HierarchyNode | None = None,
    provider: Provider | None = None,
    method: Method = "auto",
) -> TurnoverStatement:
    """The turnover statement of `tenant` from `date_from` to `date_to` (both included),
    optionally of the accounts under `node` and of one `provider`. ValueError for a bad
    range, grouping, method, or a node or provider of another organisation."""
    if date_from > date_to:
        raise ValueError(f"the range starts ({date_from}) after it ends ({date_to})")
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by is one of {', '.join(GROUP_BY)}, not {group_by!r}")
    if method not in METHODS:
        raise ValueError(f"method is one of {', '.join(METHODS)}, not {method!r}")
    scope = Scope(tenant, node, provider)
    chosen = _cheaper_method(tenant, date_from, date_to) if method == "auto" else method
    sql, params = _statement_sql(scope, date_from, date_to, group_by, chosen)
    return TurnoverStatement(
        tenant=tenant,
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        node=node,
        provider=provider,
        method=chosen,
        lines=_lines(sql, params, group_by, chosen),
    )


def _months(first: date, last: date) -> int:
    """How many calendar months `first`..`last` touch (0 when `last` is before `first`)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def _cheaper_method(tenant: Tenant, date_from: date, date_to: date) -> Method:
    """Forward reads the months of entries up to `date_to`; backward the cache (about a
    month's worth of rows) and the months from `date_from` to the last posting. Equal
    costs go forward, which reads the entries alone."""
    span = LedgerEntry.objects.filter(tenant=tenant).aggregate(
        first=Min("posted_on"), last=Max("posted_on")
    )
    if span["first"] is None:
        return "forward"
    forward = _months(span["first"], date_to)
    backward = 1 + _months(date_from, span["last"])
    return "backward" if backward < forward else "forward"


def _column_case(date_from: date, date_to: date, method: Method) -> tuple[str, list[Any]]:
    """SQL: the bucket of an entry, `{kind}` being its (resolved) kind."""
    whens = [
        f"WHEN {{kind}} = {literal(LedgerEntry.Kind.PAYMENT)} AND e.rule = {literal(PENALTY_RULE)}"
        f" THEN {literal(PAID_PENALTIES)}"
    ]
    by_column: dict[str, list[str]] = {}
    for kind, column in COLUMNS.items():
        by_column.setdefault(column, []).append(kind)
    whens += [
        f"WHEN {{kind}} IN ({codes(kinds)}) THEN {literal(column)}"
        for column, kinds in by_column.items()
    ]
    if method == "forward":
        first, params = f"WHEN e.posted_on < %s THEN {literal(_BEFORE)}", [date_from]
    else:
        first, params = f"WHEN e.posted_on > %s THEN {literal(_AFTER)}", [date_to]
    return f"CASE {first} {' '.join(whens)} ELSE {literal(_UNMAPPED)} END", params


def _group_column(group_by: GroupBy, alias: str) -> str:
    """The entry-level group key: the provider or the service; 0 for the account-level
    groupings (their key comes from the account)."""
    if group_by == "provider":
        return f"{alias}.provider_id"
    if group_by == "service":
        return f"{alias}.service_id"
    return "0"


def _statement_sql(
    scope: Scope, date_from: date, date_to: date, group_by: GroupBy, method: Method
) -> tuple[str, list[Any]]:
    """The statement's one query: the scope's entries (and for the backward method the
    cached balances) summed per account, group and bucket, then pivoted into one record
    per row, with the account's labels, in print order."""
    bucket, bucket_params = _column_case(date_from, date_to, method)
    group = _group_column(group_by, "e")
    columns = f"e.account_id AS account_id, {group} AS grp, {bucket} AS col, e.amount AS amount"
    if method == "forward":
        where, where_params = "e.posted_on <= %s", [date_to]
    else:
        where, where_params = "e.posted_on >= %s", [date_from]
    union, params = scope_entries(scope, columns, bucket_params, where, where_params)
    if method == "backward":
        cached, cached_params = _cached_balances(scope, group_by)
        union = f"{union} UNION ALL {cached}"
        params += cached_params

    def sum_of(*buckets: str) -> str:
        return f"SUM(CASE WHEN g.col IN ({codes(buckets)}) THEN g.total ELSE 0.00 END)"

    pivot = ", ".join(f"{sum_of(name)} AS x_{name}" for name in _BUCKETS[method])
    moves = f"SUM(CASE WHEN g.col IN ({codes((*MOVEMENTS, _UNMAPPED))}) THEN g.n ELSE 0 END)"
    if method == "forward":
        closing = sum_of(_BEFORE, *_IN_RANGE)
    else:
        closing = f"{sum_of(_CACHED)} - {sum_of(_AFTER)}"
    sums = ", ".join(f"s.x_{name}" for name in _BUCKETS[method])
    key, label, order, join = _group_sql(group_by)
    sql = (
        f"SELECT s.account_id, {key}, {sums}, {LABEL_COLUMNS}, {label} "  # noqa: S608
        f"FROM (SELECT g.account_id, g.grp, {pivot} FROM ("
        "SELECT u.account_id, u.grp, u.col, SUM(u.amount) AS total, COUNT(*) AS n "
        f"FROM ({union}) u GROUP BY u.account_id, u.grp, u.col"
        f") g GROUP BY g.account_id, g.grp HAVING {moves} > 0 OR ABS({closing}) >= 0.005"
        f") s JOIN {table(Account)} a ON a.id = s.account_id {label_joins()} {join} "
        f"ORDER BY {order}"
    )
    return sql, params


def _cached_balances(scope: Scope, group_by: GroupBy) -> tuple[str, list[Any]]:
    """The cached balances of the scope's accounts, as rows of the union (bucket "cached")."""
    group = _group_column(group_by, "cb")
    sql = (
        f"SELECT cb.account_id, {group}, {literal(_CACHED)}, cb.amount "  # noqa: S608
        f"FROM {table(AccountBalance)} cb JOIN {table(Account)} ca ON ca.id = cb.account_id "
        # A settled balance adds nothing; what moved since date_from comes with the entries.
        f"WHERE ca.tenant_id = %s AND cb.amount <> 0"
    )
    params: list[Any] = [scope.tenant.pk]
    if scope.provider is not None:
        sql += " AND cb.provider_id = %s"
        params.append(scope.provider.pk)
    accounts, more = scope.account_filter("cb.account_id")
    return sql + accounts, params + more


def _group_sql(group_by: GroupBy) -> tuple[str, str, str, str]:
    """(group key, group label, ORDER BY, extra join) of the outer query; within a group
    the rows go by account number, and rows without a group come last."""
    if group_by == "account":
        return "NULL", "NULL", "a.number, a.id", ""
    if group_by == "building":
        key, label, order, join = "b.id", "b.address", "b.address", ""
    elif group_by == "node":
        key, label, order = "n.id", "n.name", "n.path"
        join = f"LEFT JOIN {table(HierarchyNode)} n ON n.id = COALESCE(a.node_id, p.node_id)"
    elif group_by == "provider":
        key, label, order = "s.grp", "gp.name", "gp.name"
        join = f"LEFT JOIN {table(Provider)} gp ON gp.id = s.grp"
    else:
        key, label, order = "s.grp", "gs.name", "gs.name"
        join = f"LEFT JOIN {table(Service)} gs ON gs.id = s.grp"
    nulls_last = f"CASE WHEN {key} IS NULL THEN 1 ELSE 0 END"
    return key, label, f"{nulls_last}, {order}, {key}, a.number, a.id", join


# --- reading the rows -------------------------------------------------------------------------


# Positions in a record's buckets (_BUCKETS): the starting balance, the columns in range,
# and after the range (backward only).
_S, _O, _CH, _RE, _BE, _PE, _PP, _PD, _WO, _UN, _A = range(len(_BUCKETS["backward"]))


class _Sums:
    """Running sums of figures, for a subtotal or the total."""

    __slots__ = ("rows", "values")

    def __init__(self) -> None:
        self.rows = 0
        self.values = [ZERO] * len(FIGURES)

    def add(self, figures: Figures) -> None:
        self.rows += 1
        self.values = list(map(add, self.values, figures.values()))

    def figures(self) -> Figures:
        return Figures(*self.values)


def _row_figures(account: str, b: Sequence[Decimal], method: Method) -> Figures:
    """The row's figures from its bucket sums `b`, through the engine's row (its invariant
    and its debit/credit split), checked against the closing balance summed directly from
    the entries. (Hot: a million calls; positions, not names.)"""
    in_range = sum(b[_O : _UN + 1], ZERO)
    if method == "forward":
        before_range = b[_S]
        closing = before_range + in_range
    else:
        closing = b[_S] - b[_A]
        before_range = closing - in_range
    row = TurnoverRow(
        account=account,
        opening=before_range + b[_O],
        charged=b[_CH],
        recalculations=b[_RE],
        benefits=-b[_BE],  # what reduces the debt is shown positive (the engine's way)
        penalties=b[_PE],
        paid_principal=-b[_PP],
        paid_penalties=-b[_PD],
        write_offs=-b[_WO],
    )
    figures = Figures.of(row)
    if figures.closing != closing:
        raise StatementMismatch(
            f"account {account}: the columns give a closing balance of {row.closing}, the "
            f"entries {closing} ({b[_UN]} in entries of a kind without a column)"
        )
    return figures


def _lines(sql: str, params: list[Any], group_by: GroupBy, method: Method) -> Iterator[Line]:
    width = len(_BUCKETS[method])
    labels = slice(2 + width, 2 + width + LABEL_SIZE)
    total = _Sums()
    sums = _Sums()
    group: Group | None = None
    money = money_reader()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            for record in batch:
                label = account_label(record[labels])
                figures = _row_figures(label.number, money(record[2 : 2 + width]), method)
                if group_by != "account" and (group is None or record[1] != group.key):
                    if group is not None:
                        yield Subtotal(group=group, rows=sums.rows, figures=sums.figures())
                        sums = _Sums()
                    group = Group(key=record[1], label=record[-1] or "")
                if group is not None:
                    sums.add(figures)
                total.add(figures)
                yield Row(
                    account_id=record[0],
                    account=label.number,
                    address=label.address,
                    payer=label.payer,
                    group=group,
                    figures=figures,
                )
    if group is not None:
        yield Subtotal(group=group, rows=sums.rows, figures=sums.figures())
    yield Total(rows=total.rows, figures=total.figures())
