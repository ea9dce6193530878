"""Read-side ledger queries: balances as sums of entries, and the posted lines the engine
compares its proposal with (recompute-and-diff). Each is one query.

A balance is positive when the account owes the provider, negative when it paid in advance
(the sign convention is in kvit.ledger.models).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    DecimalField,
    Expression,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from kvit.accounts.models import Account
from kvit.core.codes import LineKind
from kvit.core.inputs import PostedLine
from kvit.core.periods import Period
from kvit.db.effective import concrete_field
from kvit.db.prepared import prepared
from kvit.ledger.models import CENT, ENGINE_KINDS, AccountBalance, LedgerEntry

ZERO = Decimal("0.00")
MICRO = Decimal("0.000001")
MONEY: DecimalField[Any, Any] = DecimalField(max_digits=14, decimal_places=2)
VOLUME: DecimalField[Any, Any] = DecimalField(max_digits=20, decimal_places=6)


def as_money(value: Any) -> Decimal:
    """A sum as money. SQLite keeps decimals as floats and does not round its sums: to the
    kopeck they are exact (PostgreSQL's numeric sums are exact anyway)."""
    return Decimal(str(value)).quantize(CENT)


class ReversedAs(Expression):
    """An entry's field `name`, a reversal's being that of the entry it reverses.

    The reversed entry is read by a scalar subquery the CASE runs for reversals only: a
    join to it lets the planner hash the whole ledger when it misjudges how many entries a
    query reads (seen: 2.2 s for the debts of 5,000 accounts, where the subquery takes
    20 ms). The SQL is written here rather than with `Case(When(…, Subquery(…)))`: Django
    compiles that subquery again at every use of the annotation (a filter, a CASE and the
    HAVING of the debts query compile it seven times, 3 ms per query on the real-time path).
    """

    def __init__(self, name: str) -> None:
        field = concrete_field(LedgerEntry, name)
        super().__init__(output_field=field)
        self.column = field.column
        self.columns = (F(name), F("kind"), F("corrects_id"))

    def get_source_expressions(self) -> list[Any]:
        return list(self.columns)

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = tuple(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        (value, value_params), (kind, kind_params), (corrects, corrects_params) = (
            compiler.compile(column) for column in self.columns
        )
        quote = connection.ops.quote_name
        table, column = quote(LedgerEntry._meta.db_table), quote(self.column)
        sql = (
            f"CASE WHEN {kind} = %s THEN (SELECT reversed.{column} FROM {table} reversed "  # noqa: S608
            f"WHERE reversed.id = {corrects}) ELSE {value} END"
        )
        return sql, [*kind_params, LedgerEntry.Kind.REVERSAL.value, *corrects_params, *value_params]


def _volume(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(MICRO)


def _total(queryset: QuerySet[Any]) -> Decimal:
    return as_money(
        queryset.aggregate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY))["total"]
    )


def _entries(
    account: Account, as_of: date | None, provider: Any = None, service: Any = None
) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(account=account)
    if as_of is not None:
        entries = entries.filter(posted_on__lte=as_of)
    if provider is not None:
        entries = entries.filter(provider=provider)
    if service is not None:
        entries = entries.filter(service=service)
    return entries


def balance(
    account: Account, as_of: date | None = None, provider: Any = None, service: Any = None
) -> Decimal:
    """Σ the account's entries posted on or before `as_of` (all: None), of one provider
    and/or service if given (None: all of them)."""
    return _total(_entries(account, as_of, provider, service))


def balances_by_provider_service(
    account: Account, as_of: date | None = None
) -> dict[tuple[int, int | None], Decimal]:
    """The account's balance per (provider id, service id or None), as `balance` sums it."""
    rows = (
        _entries(account, as_of)
        .values_list("provider_id", "service_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(provider, service): as_money(total) for provider, service, total in rows}


def cached_balance(account: Account, provider: Any = None, service: Any = None) -> Decimal:
    """The same as `balance(account)` but read from the cache (`AccountBalance`)."""
    rows = AccountBalance.objects.filter(account=account)
    if provider is not None:
        rows = rows.filter(provider=provider)
    if service is not None:
        rows = rows.filter(service=service)
    return _total(rows)


def posted_lines(account: Account, period: Period | date) -> tuple[PostedLine, ...]:
    """What the ledger holds for `account` and `period`, net per line key, for
    recompute-and-diff (`kvit.core.inputs.PostedLine`, whose fields match `ChargeLine.key`):
    `posted_lines_of` for one account."""
    return posted_lines_of([account.pk], period).get(account.pk, ())


def posted_lines_of(
    account_ids: Iterable[int], period: Period | date
) -> dict[int, tuple[PostedLine, ...]]:
    """`posted_lines` of many accounts in one query (a bill-run chunk), by account id.

    * Only the engine's kinds (charge, recalculation, benefit, quality reduction, penalty).
    * An entry counts for the closed period it corrects (`corrects_period`) if it names
      one, else for its own `period`.
    * A reversal counts under the kind of the entry it reverses, so a reversed line nets
      to zero (it stays in the answer, with zero amount and quantity).
    * Other corrections carry the kind and key of the line they correct (kvit.ledger.models).
    * `provider` is the provider's id and `service` the service's code, as text; `entry` is
      the first entry of the key (the original line the others correct).
    """
    day = period.first_day if isinstance(period, Period) else period
    rows = _posted_line_rows(list(account_ids), day)
    month = Period.of(day)
    found: dict[int, list[PostedLine]] = defaultdict(list)
    for account, provider, service, kind, rule, zone, tier, start, end, *sums in rows:
        total, volume, first = sums
        found[account].append(
            PostedLine(
                provider=str(provider),
                service=service or "",
                period=month,
                kind=LineKind(kind),
                amount=as_money(total),
                quantity=_volume(volume),
                rule=rule,
                zone=zone,
                tier=tier,
                span_from=start,
                span_to=end,
                entry=str(first),
            )
        )
    return {account: tuple(lines) for account, lines in found.items()}


@prepared
def _posted_line_rows(account_ids: list[int], day: date) -> QuerySet[Any, Any]:
    return (
        LedgerEntry.objects.filter(account_id__any_of=account_ids)
        # A correction of `day` is posted in a later period: `period >= day` lets the
        # (account, period) index skip the account's older history.
        .filter(period__gte=day)
        .filter(Q(corrects_period=day) | Q(period=day, corrects_period__isnull=True))
        .annotate(line_kind=ReversedAs("kind"))
        .filter(line_kind__in=ENGINE_KINDS)
        .values_list(
            "account_id",
            "provider_id",
            "service__code",
            "line_kind",
            "rule",
            "zone",
            "tier",
            "span_from",
            "span_to",
        )
        .annotate(
            total=Sum("amount"),
            volume=Coalesce(Sum("quantity"), Value(Decimal(0)), output_field=VOLUME),
            first=Min("id"),
        )
        .order_by(
            "account_id",
            "provider_id",
            "service__code",
            "line_kind",
            "rule",
            "zone",
            "tier",
            "first",
        )
    )


def posted_house_volumes(
    period: Period, buildings: Iterable[int], excluding: Iterable[int], rules: Iterable[str]
) -> list[tuple[int, str, int, Decimal]]:
    """The volumes the accounts of `buildings`, but those `excluding`, were billed for
    `period` as posted, summed per (building, premise kind, service): charge and
    recalculation lines of the period's own days, counted for the period as
    `posted_lines_of` counts them (a correction of a closed period for it, a reversal as
    what it reverses; a true-up of an earlier period's days not), leaving out `rules`. What
    the house balance reads of the premises not rated with a chunk (real time).

    Two queries: the other accounts first, then their entries by account (the account
    index). One query joining the buildings to the ledger was planned as a scan of the
    period's every entry for each account (13 s for a 228-account building); none at all
    when every account of the buildings is being rated."""
    others = _other_accounts(list(buildings), list(excluding))
    if not others:
        return []
    rows = _house_volume_rows([pk for (pk,) in others], period.first_day, list(rules))
    return [(building, kind, service, _volume(volume)) for building, kind, service, volume in rows]


@prepared
def _other_accounts(buildings: list[int], excluding: list[int]) -> QuerySet[Any, Any]:
    return (
        Account.objects.filter(premise__building_id__any_of=buildings)
        .exclude(pk__any_of=excluding)
        .values_list("pk")
        .order_by()
    )


@prepared
def _house_volume_rows(accounts: list[int], day: date, rules: list[str]) -> QuerySet[Any, Any]:
    return (
        LedgerEntry.objects.filter(
            account_id__any_of=accounts,
            service__isnull=False,
            quantity__isnull=False,
            period__gte=day,  # as in `posted_lines_of`
        )
        .filter(Q(corrects_period=day) | Q(period=day, corrects_period__isnull=True))
        .exclude(rule__any_of=rules)
        .filter(Q(span_from__isnull=True) | Q(span_from__gte=day))
        .annotate(line_kind=ReversedAs("kind"))
        .filter(line_kind__in=(LineKind.CHARGE.value, LineKind.RECALCULATION.value))
        .values_list("account__premise__building_id", "account__premise__kind", "service_id")
        .annotate(volume=Coalesce(Sum("quantity"), Value(Decimal(0)), output_field=VOLUME))
        .order_by()
    )


# --- the cache checked against the entries ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A cached balance that is not the sum of its entries (`cached` None: no cache row)."""

    account_id: int
    provider_id: int
    service_id: int | None
    cached: Decimal | None
    entries: Decimal


def balance_mismatches(tenant: Any = None) -> list[Mismatch]:
    """Every (account, provider, service) of `tenant` (all tenants: None) whose cached
    balance differs from the sum of its entries, or that has entries and no cache row, or a
    cache row and no entries. One query; the database compares, only mismatches come back."""
    quote = connection.ops.quote_name
    balances = quote(AccountBalance._meta.db_table)
    entries = quote(LedgerEntry._meta.db_table)
    accounts = quote(Account._meta.db_table)
    if tenant is None:
        entry_filter = cache_filter = ""
        params: list[Any] = []
    else:
        entry_filter = "WHERE tenant_id = %s"
        cache_filter = f"WHERE account_id IN (SELECT id FROM {accounts} WHERE tenant_id = %s)"  # noqa: S608
        params = [tenant.pk, tenant.pk]
    sql = (
        "SELECT account_id, provider_id, service_id, SUM(cached), SUM(posted), SUM(cache_rows) "  # noqa: S608
        "FROM ("
        f"SELECT account_id, provider_id, service_id, 0 AS cached, amount AS posted, "
        f"0 AS cache_rows FROM {entries} {entry_filter} "
        "UNION ALL "
        f"SELECT account_id, provider_id, service_id, amount, 0, 1 FROM {balances} {cache_filter}"
        ") AS both_sides GROUP BY account_id, provider_id, service_id "
        "HAVING SUM(cache_rows) <> 1 OR ABS(SUM(cached) - SUM(posted)) >= 0.005 "
        "ORDER BY account_id, provider_id, service_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Mismatch(
            account_id=account,
            provider_id=provider,
            service_id=service,
            cached=as_money(cached) if cache_rows else None,
            entries=as_money(posted),
        )
        for account, provider, service, cached, posted, cache_rows in rows
    ]
