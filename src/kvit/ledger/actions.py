"""Posting to the ledger, opening and closing billing periods, rebuilding cached balances.

Rules (spec 1.9, architecture §4):

* Entries go only into an *open* billing period of their tenant. A correction of a closed
  period is posted in an open one and names the corrected period in `corrects_period`.
* Periods close in order (every earlier period of the tenant must be closed first) and are
  never reopened; a period earlier than a closed one cannot be opened. So a tenant's closed
  periods always come before its open ones, and a closed period's entries never change.
* `post_entries` keeps `AccountBalance` in the same transaction.

Locking order (to avoid deadlocks, take them in this order):
tenant row (open/close) → billing periods (posting: FOR SHARE; closing: FOR UPDATE) →
account balances (FOR UPDATE, ordered by account, provider, service).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.accounts.models import Account
from kvit.core.periods import Period
from kvit.db.bulk import execute_behind, json_text, write_behind
from kvit.db.effective import concrete_field
from kvit.db.lookups import array_text
from kvit.ledger.models import AccountBalance, BillingPeriod, LedgerEntry, is_first_of_month
from kvit.ledger.queries import Mismatch, balance_mismatches
from kvit.providers.models import Provider
from kvit.tariffs.models import Service
from kvit.tenants.models import Tenant

BalanceKey = tuple[int, int, int | None]
# Foreign keys a batch is checked for at once (they must exist and be of the batch's tenant).
REFERENCES: tuple[tuple[str, Any, bool], ...] = (
    ("account_id", Account, True),
    ("provider_id", Provider, True),
    ("service_id", Service, False),
    ("corrects_id", LedgerEntry, False),
)
NOT_CLEANED = ["tenant", "account", "provider", "service", "corrects", "created_by"]


# --- billing periods --------------------------------------------------------------------------


def _period_text(period: date) -> str:
    return str(Period.of(period))


def _first_of_month(period: date) -> None:
    if not is_first_of_month(period):
        raise ValidationError(
            _("A period is given by the first day of its month, not %(day)s."),
            code="not_first_day",
            params={"day": period},
        )


def _lock_tenant(tenant: Tenant) -> None:
    """Serialises opening and closing a tenant's periods. FOR NO KEY UPDATE: rows that
    merely refer to the tenant can still be inserted meanwhile."""
    Tenant.objects.select_for_update(no_key=True).filter(pk=tenant.pk).first()


def check_can_open(tenant: Tenant, period: date) -> None:
    """Raise ValidationError if `period` cannot be opened for `tenant` (already closed, or
    earlier than a closed one). An open period may be opened again: that is a no-op."""
    _first_of_month(period)
    closed = BillingPeriod.objects.filter(tenant=tenant, status=BillingPeriod.Status.CLOSED)
    if closed.filter(period=period).exists():
        raise ValidationError(
            _("The period %(period)s is closed; periods are never reopened."),
            code="period_closed",
            params={"period": _period_text(period)},
        )
    later = closed.filter(period__gt=period).order_by("-period").values_list("period", flat=True)
    if later:
        raise ValidationError(
            _("The period %(period)s cannot be opened: the later period %(later)s is closed."),
            code="before_closed",
            params={"period": _period_text(period), "later": _period_text(later[0])},
        )


def open_period(tenant: Tenant, period: date) -> BillingPeriod:
    """The open billing period `period` of `tenant`, created if it does not exist yet."""
    with transaction.atomic():
        _lock_tenant(tenant)
        check_can_open(tenant, period)
        found, _created = BillingPeriod.objects.get_or_create(tenant=tenant, period=period)
        return found


def close_period(
    tenant: Tenant, period: date, user: Any, at: datetime | None = None
) -> BillingPeriod:
    """Close `period`: nothing can be posted into it any more. Refused when it is not open,
    or when an earlier period of the tenant is still open (periods close in order)."""
    _first_of_month(period)
    with transaction.atomic():
        _lock_tenant(tenant)
        found = BillingPeriod.objects.select_for_update().filter(tenant=tenant, period=period)
        billing_period = found.first()
        if billing_period is None:
            raise ValidationError(
                _("There is no billing period %(period)s to close."),
                code="no_period",
                params={"period": _period_text(period)},
            )
        if not billing_period.is_open:
            raise ValidationError(
                _("The period %(period)s is already closed."),
                code="already_closed",
                params={"period": _period_text(period)},
            )
        earlier = (
            BillingPeriod.objects.filter(
                tenant=tenant, period__lt=period, status=BillingPeriod.Status.OPEN
            )
            .order_by("period")
            .values_list("period", flat=True)
        )
        if earlier:
            raise ValidationError(
                _("Close the earlier period %(earlier)s first: periods are closed in order."),
                code="earlier_open",
                params={"earlier": _period_text(earlier[0])},
            )
        billing_period.status = BillingPeriod.Status.CLOSED
        billing_period.closed_at = at or timezone.now()
        billing_period.closed_by = user
        billing_period.save(update_fields=["status", "closed_at", "closed_by"])
        return billing_period


# --- posting ----------------------------------------------------------------------------------


def post_entries(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """Insert new entries of one tenant in bulk and add them to the cached balances, in one
    transaction. Refused as a whole (ValidationError) when any entry is invalid, refers to
    another tenant's rows, or falls into a period that is not open."""
    batch = list(entries)
    if not batch:
        return []
    tenant_id = _check_rows(batch)
    with transaction.atomic():
        _check_references(batch, tenant_id)
        _lock_open_periods(tenant_id, {entry.period for entry in batch})
        created = LedgerEntry.objects.bulk_create(batch, batch_size=1000)
        _add_to_balances(created)
    return created


def _numbered(number: int, error: ValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        problems = [
            f"{concrete_field(LedgerEntry, name).verbose_name}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        problems = error.messages
    return ValidationError(
        _("Entry %(number)s: %(problem)s"),
        code="invalid_entry",
        params={"number": number, "problem": "; ".join(problems)},
    )


def _check_rows(batch: list[LedgerEntry]) -> int:
    """Each row by itself, without a query; the batch's tenant."""
    errors: list[ValidationError] = []
    tenants = {entry.tenant_id for entry in batch}
    if None in tenants or len(tenants) != 1:
        raise ValidationError(
            _("All entries of a posting belong to one organisation."), code="one_tenant"
        )
    for number, entry in enumerate(batch, start=1):
        if entry.pk is not None:
            errors.append(
                _numbered(number, ValidationError(_("it is already posted."), code="posted"))
            )
            continue
        problems: dict[str, Any] = {}
        try:
            entry.clean_fields(exclude=NOT_CLEANED)
        except ValidationError as error:
            problems = error.error_dict
        problems = {**entry.row_errors(), **problems}  # a field's own message first
        if problems:
            errors.append(_numbered(number, ValidationError(problems)))
    if errors:
        raise ValidationError(errors)
    tenant_id = tenants.pop()
    assert tenant_id is not None
    return tenant_id


def _check_references(batch: list[LedgerEntry], tenant_id: int) -> None:
    """Every reference exists and is of the batch's tenant: one query per kind of row."""
    for attname, model, required in REFERENCES:
        ids = {getattr(entry, attname) for entry in batch}
        if None in ids and required:
            raise ValidationError(
                _("Every entry needs its %(field)s."),
                code="required",
                params={"field": concrete_field(LedgerEntry, attname[:-3]).verbose_name},
            )
        ids.discard(None)
        if not ids:
            continue
        found = model._default_manager.filter(pk__in=ids).order_by()
        tenants = dict(found.values_list("pk", "tenant_id"))
        if any(tenants.get(pk) != tenant_id for pk in ids):
            raise ValidationError(
                _("The %(field)s of an entry belongs to another organisation or does not exist."),
                code="other_tenant",
                params={"field": concrete_field(LedgerEntry, attname[:-3]).verbose_name},
            )


def _lock_open_periods(tenant_id: int, periods: set[date]) -> None:
    """Refuse unless every period is open; hold a share lock on them until the transaction
    ends, so `close_period` (FOR UPDATE) waits for postings under way, and postings wait for
    a close under way and then see the period closed."""
    table = connection.ops.quote_name(BillingPeriod._meta.db_table)
    marks = ", ".join(["%s"] * len(periods))
    sql = f"SELECT * FROM {table} WHERE tenant_id = %s AND period IN ({marks})"  # noqa: S608
    if connection.vendor == "postgresql":
        sql += " FOR SHARE"
    found = {bp.period: bp for bp in BillingPeriod.objects.raw(sql, [tenant_id, *periods])}
    for period in sorted(periods):
        billing_period = found.get(period)
        if billing_period is None:
            raise ValidationError(
                _("The period %(period)s is not open: open it before posting into it."),
                code="period_not_open",
                params={"period": _period_text(period)},
            )
        if not billing_period.is_open:
            raise ValidationError(
                _(
                    "The period %(period)s is closed: post a correction into an open period "
                    "instead."
                ),
                code="period_closed",
                params={"period": _period_text(period)},
            )


def _add_to_balances(entries: list[LedgerEntry]) -> None:
    deltas: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    for entry in entries:
        deltas[(entry.account_id, entry.provider_id, entry.service_id)] += entry.amount
    _add_deltas(deltas)


def _add_deltas(deltas: dict[BalanceKey, Decimal]) -> None:
    """Add to the cached balances: missing rows created, the rows locked in one fixed order
    (two postings on the same accounts cannot deadlock), then updated."""
    if connection.vendor == "postgresql":
        _upsert_deltas(deltas)
        return
    AccountBalance.objects.bulk_create(
        [AccountBalance(account_id=a, provider_id=p, service_id=s) for a, p, s in deltas],
        ignore_conflicts=True,
    )
    # Lock in one fixed order so that two postings on the same accounts cannot deadlock.
    rows = (
        AccountBalance.objects.select_for_update()
        .filter(account_id__in={key[0] for key in deltas})
        .order_by("account_id", "provider_id", F("service_id").asc(nulls_first=True), "id")
    )
    changed = [
        (row_id, delta)
        for row_id, account, provider, service in rows.values_list(
            "id", "account_id", "provider_id", "service_id"
        )
        if (delta := deltas.get((account, provider, service)))
    ]
    table = connection.ops.quote_name(AccountBalance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET amount = amount + %s WHERE id = %s",  # noqa: S608 -- metadata
            [(delta, row_id) for row_id, delta in changed],
        )


def _upsert_deltas(deltas: dict[BalanceKey, Decimal]) -> None:
    """PostgreSQL: one INSERT … ON CONFLICT DO UPDATE per kind of key, rows in key order
    (so concurrent postings lock in the same order), whatever the number of balances. The
    columns go as array text (`array_text`): a chunk's 12,000 balances as lists cost 30 ms
    to format. Sent behind inside `writes_behind`: nothing waits for their result."""
    table = connection.ops.quote_name(AccountBalance._meta.db_table)
    with_service = sorted((k, v) for k, v in deltas.items() if k[2] is not None)
    without = sorted((k, v) for k, v in deltas.items() if k[2] is None)
    if with_service:
        execute_behind(
            connection,
            f"INSERT INTO {table} AS b (account_id, provider_id, service_id, amount) "  # noqa: S608
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::numeric[]) "
            "ON CONFLICT (account_id, provider_id, service_id) WHERE service_id IS NOT NULL "
            "DO UPDATE SET amount = b.amount + EXCLUDED.amount",
            _columns([(*key, delta) for key, delta in with_service]),
        )  # fmt: skip
    if without:
        execute_behind(
            connection,
            f"INSERT INTO {table} AS b (account_id, provider_id, service_id, amount) "  # noqa: S608
            "SELECT a, p, NULL, d FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[]) "
            "AS t(a, p, d) ON CONFLICT (account_id, provider_id) WHERE service_id IS NULL "
            "DO UPDATE SET amount = b.amount + EXCLUDED.amount",
            _columns([(account, provider, delta) for (account, provider, _), delta in without]),
        )  # fmt: skip


def _columns(rows: list[tuple[Any, ...]]) -> list[str]:
    """Each column of `rows` (ids and amounts) as array text, for `unnest`."""
    return [array_text(column) for column in zip(*rows, strict=True)]


ENTRY_COLUMNS = (
    "tenant_id", "account_id", "provider_id", "service_id", "period", "posted_on", "kind",
    "amount", "quantity", "unit", "tariff", "rule", "zone", "tier", "span_from", "span_to",
    "explanation", "corrects_id", "corrects_period", "reason", "source_kind", "source_id",
    "run_id", "created_by_id",
)  # fmt: skip
"""The columns of an entry row for `post_rows`: every column but the id and `created_at`,
which `post_rows` fills in (a test checks)."""


def post_rows(tenant_id: int, rows: list[tuple[Any, ...]]) -> None:
    """Insert entry rows in bulk (COPY on PostgreSQL) and add them to the cached balances,
    in the caller's transaction: the bill run's path, a million entries a minute.

    Unlike `post_entries` the rows are not validated one by one: they come from engine
    lines whose references the caller fetched for `tenant_id` (`kvit.billing.posting`), so
    only what the database enforces is checked — constraints, triggers and that every
    period is open. Rows follow `ENTRY_COLUMNS`; `explanation` is JSON text and
    `created_at` is filled in here.
    """
    if not rows:
        return
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    periods = {row[4] for row in rows}
    _lock_open_periods(tenant_id, periods)
    write_behind(  # inside `writes_behind` (a registry import), sent while Python goes on
        connection,
        LedgerEntry._meta.db_table,
        (*ENTRY_COLUMNS, "created_at"),
        ((*row, at) for row in rows),
    )
    deltas: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    for row in rows:
        deltas[(row[1], row[2], row[3])] += row[7]
    _add_deltas(deltas)


_FIELDS = {f.column: f for f in LedgerEntry._meta.concrete_fields}
_DEFAULTS = {c: None if _FIELDS[c].null else _FIELDS[c].get_default() for c in ENTRY_COLUMNS}


def entry_row(**values: Any) -> tuple[Any, ...]:
    """A row for `post_rows` from column values (`explanation` as data, JSON-encoded here);
    the columns not given take their default, NULL where they may."""
    unknown = values.keys() - _DEFAULTS.keys()
    if unknown:
        raise TypeError(f"not entry columns: {', '.join(sorted(unknown))}")
    values["explanation"] = json_text(values.get("explanation", {}))
    merged = _DEFAULTS | values
    return tuple(merged[column] for column in ENTRY_COLUMNS)


# --- corrections ------------------------------------------------------------------------------


def reverse_entry(
    entry: LedgerEntry,
    user: Any,
    reason: str,
    posted_on: date | None = None,
    period: date | None = None,
) -> LedgerEntry:
    """Post the reversal (сторно) of `entry`: the same account, provider, service and line
    key, the negated amount and quantity, `corrects` = `entry`.

    It goes into the entry's own period while that is open; otherwise into `period`
    (default: the tenant's earliest open period), naming the entry's period in
    `corrects_period`. An entry is reversed at most once (a unique constraint), and a
    reversal is not reversed itself.
    """
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise ValidationError(
            _("A reversal cannot be reversed; post a new entry instead."), code="reversal"
        )
    if _is_reversed(entry):
        raise ValidationError(_("This entry has already been reversed."), code="reversed")
    obligation = entry.corrects_period or entry.period
    target = entry.period if _is_open(entry.tenant_id, entry.period) else period
    if target is None:
        target = (
            BillingPeriod.objects.filter(
                tenant_id=entry.tenant_id, status=BillingPeriod.Status.OPEN
            )
            .order_by("period")
            .values_list("period", flat=True)
            .first()
        )
    if target is None:
        raise ValidationError(
            _("There is no open period to post the reversal into."), code="no_open_period"
        )
    reversal = LedgerEntry(
        tenant_id=entry.tenant_id,
        account_id=entry.account_id,
        provider_id=entry.provider_id,
        service_id=entry.service_id,
        period=target,
        corrects_period=obligation if obligation != target else None,
        posted_on=posted_on or timezone.localdate(),
        kind=LedgerEntry.Kind.REVERSAL,
        amount=-entry.amount,
        quantity=None if entry.quantity is None else -entry.quantity,
        unit=entry.unit,
        tariff=entry.tariff,
        rule=entry.rule,
        zone=entry.zone,
        tier=entry.tier,
        span_from=entry.span_from,
        span_to=entry.span_to,
        corrects=entry,
        reason=reason,
        source_kind=entry.source_kind,
        source_id=entry.source_id,
        created_by=user,
    )
    try:
        (posted,) = post_entries([reversal])
    except IntegrityError as error:
        if _is_reversed(entry):
            # Reversed meanwhile by someone else: the unique constraint refused the second.
            raise ValidationError(
                _("This entry has already been reversed."), code="reversed"
            ) from error
        raise
    return posted


def _is_reversed(entry: LedgerEntry) -> bool:
    return entry.corrections.filter(kind=LedgerEntry.Kind.REVERSAL).exists()


def _is_open(tenant_id: int, period: date) -> bool:
    return BillingPeriod.objects.filter(
        tenant_id=tenant_id, period=period, status=BillingPeriod.Status.OPEN
    ).exists()


# --- cached balances --------------------------------------------------------------------------


def rebuild_balances(tenant: Tenant | None = None) -> list[Mismatch]:
    """Recompute the cached balances of `tenant` (all tenants: None) from the entries.
    Returns the mismatches found, which are fixed now.

    PostgreSQL: the cache table is locked against writers while it is rebuilt; a posting
    under way finishes first, or waits and then adds its amounts to the rebuilt rows.
    """
    balances = connection.ops.quote_name(AccountBalance._meta.db_table)
    entries = connection.ops.quote_name(LedgerEntry._meta.db_table)
    accounts = connection.ops.quote_name(Account._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {balances} IN EXCLUSIVE MODE")
        mismatches = balance_mismatches(tenant)
        if not mismatches:
            return []
        where, params = ("", []) if tenant is None else ("WHERE tenant_id = %s", [tenant.pk])
        cursor.execute(
            f"DELETE FROM {balances} WHERE account_id IN (SELECT id FROM {accounts} {where})",  # noqa: S608
            params,
        )
        cursor.execute(
            f"INSERT INTO {balances} (account_id, provider_id, service_id, amount) "  # noqa: S608
            f"SELECT account_id, provider_id, service_id, SUM(amount) FROM {entries} {where} "
            "GROUP BY account_id, provider_id, service_id",
            params,
        )
    return mismatches
