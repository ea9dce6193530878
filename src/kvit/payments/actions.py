"""Payments: receiving and posting them, reversal, suspense, refunds, the cash desk.

Posting (spec 6.1, 3.4) is `post_payments(records)` for a batch — a registry, a page of
callbacks — and `post_payment(record)` for one; both go the same way, in one transaction:

1. Every record is validated by itself (ValidationError naming the record and the field).
2. Accounts are found by number within the tenant (one query). An unknown account, or one
   closed on the payment date, sends the payment to suspense (spec 6.4) with that reason.
3. The rows are inserted with INSERT … ON CONFLICT (tenant, source, external id) DO NOTHING
   RETURNING id: the database decides which record is new, also against another process
   posting the same key at the same moment (architecture §8). A key that was there already
   is a *duplicate* when the stored payment has the same content (amount, fee, account
   number, time, period, provider, split: `_content`), else a *conflict*: reported with the
   fields that differ and never overwritten (R2). A bulk caller may first leave out what
   `duplicated` finds repeated exactly: the same outcome, without building the rows.
4. The accounts of the new payments are locked (FOR NO KEY UPDATE, in id order), so two
   payments of one account are allocated one after the other and never both to the same
   debt; then their ledgers are read in one query (`mapping.open_debts`).
5. Each payment is allocated by the engine (`kvit.core.allocation`, spec 3.4) and becomes
   `payment` entries: one per allocation line (the period settled, its provider and
   service, `rule` = what it settled: principal or penalty) and one per advance (no
   service, the payment's period if it is open, else the payment's open period). An entry
   for a closed period goes into the first open period after it and names the settled
   period in `corrects_period`. `posted_on` is the payment date: penalties go by it
   (spec 3.2), also when a payment is transferred from suspense later. All entries of the
   batch are posted at once as rows (`kvit.ledger.actions.post_rows`: COPY, the database
   checks).
6. Penalties follow the payments in real time: the open periods from the payment's on are
   recomputed for the penalties of the accounts whose payment settled an obligation that
   accrues a penalty by then, all of them at once (`_recalculate`). A payment changes no
   charge, so nothing else is rated again.

Queries per batch do not grow with its size (the provider of an advance of an account
that owes nothing is looked up once per payment day: a registry's payments share a few).

Lock order (CONTRIBUTING, extended): the payment row (new: its key in the unique index;
existing: FOR UPDATE) → the account rows → billing periods → account balances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import DataError, connection, transaction
from django.db.models import CharField, DecimalField, F, Field, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.accounts.models import Account, AccountService
from kvit.billing.actions import recalculate
from kvit.billing.mapping import Catalogue
from kvit.billing.recompute import recompute_penalties
from kvit.core import allocation as engine
from kvit.core.money import to_decimal
from kvit.core.penalties import scheme
from kvit.core.periods import Period
from kvit.core.rating import collector_paused
from kvit.core.rebilling import RECALCULATED
from kvit.db.bulk import (
    insert_rows,
    instance,
    json_text,
    plan_for_few_rows,
    scratch_table,
    write_behind,
)
from kvit.db.effective import concrete_field
from kvit.db.validation import clean_fields
from kvit.ledger.actions import entry_row, post_entries, post_rows
from kvit.ledger.models import CENT, LedgerEntry
from kvit.ledger.queries import balance
from kvit.payments.mapping import (
    ADVANCE,
    PAYMENT_SOURCE,
    REFUND,
    SETTLED_PENALTY,
    SETTLED_PRINCIPAL,
    Books,
    DebtKey,
    open_debts,
)
from kvit.payments.models import Payment, PaymentEvent, PaymentSplit
from kvit.payments.signals import payment_transferred
from kvit.providers.models import Provider

CASH = "cash"
"""The cash desk's source: its external ids are receipt numbers, unique per organisation."""
INSERT_CHUNK = 500
INCOMING = "payments_incoming"  # the temporary table new payments are copied into (PostgreSQL)
PRESENTED = "payments_presented"  # the temporary table `duplicated` compares records in
COMPARED = (
    "account_number",
    "amount",
    "fee",
    "paid_at",
    "period",
    "provider_id",
    "penalty_designated",
    "split",
)
"""What must be equal for a replay of a key to be a duplicate rather than a conflict."""


# --- what comes in and what goes out -----------------------------------------------------------


@dataclass(frozen=True)
class SplitPart:
    """A line of an explicit split (spec 3.4.1): `amount` for a provider's service."""

    provider_id: int
    service_id: int
    amount: Decimal | str


class PaymentRecord(NamedTuple):
    """The canonical payment record (spec 6.1), as a source delivers it.

    `amount` is what the payer paid and is credited to the account; `fee` is what the bank
    kept (the provider receives `amount − fee`). `paid_at` carries its time zone. Amounts are
    Decimals or plain decimal strings ("1234.50"), never floats. (A named tuple: a registry
    builds a million, three times faster than frozen dataclasses.)
    """

    tenant_id: int
    source: str
    external_id: str
    paid_at: datetime
    amount: Decimal | str
    account_number: str = ""
    fee: Decimal | str = Decimal("0.00")
    value_date: date | None = None
    payer_name: str = ""
    address: str = ""
    period: Period | None = None
    provider_id: int | None = None
    split: tuple[SplitPart, ...] = ()
    penalty_designated: bool = False
    document_kind: str = ""
    document_number: str = ""


class Result(StrEnum):
    POSTED = "posted"  # new, allocated and posted to the account
    DUPLICATE = "duplicate"  # the key was recorded already with the same content: nothing done
    CONFLICT = "conflict"  # the key was recorded already with other content: nothing done
    SUSPENSE = "suspense"  # new, recorded, but the account is unknown or closed (spec 6.4)


@dataclass(frozen=True)
class Outcome:
    result: Result
    payment: Payment  # the new payment, or the one already recorded under the key
    differences: tuple[str, ...] = ()  # a conflict: the fields that differ
    entries: int = 0  # how many ledger entries were posted
    allocation: engine.Allocation | None = None

    @property
    def message(self) -> str:
        key = {"key": str(self.payment)}
        if self.result is Result.POSTED:
            return _("Payment %(key)s is posted.") % key
        if self.result is Result.DUPLICATE:
            return _("Payment %(key)s was already recorded: nothing was posted again.") % key
        if self.result is Result.CONFLICT:
            names = ", ".join(_field_name(name) for name in self.differences)
            return _(
                "Payment %(key)s was already recorded with another %(fields)s: nothing was "
                "changed. Check the source."
            ) % {**key, "fields": names}
        return _("Payment %(key)s is in suspense: %(reason)s.") % {
            **key,
            "reason": self.payment.get_suspense_reason_display(),
        }


def _field_name(name: str) -> str:
    if name == "split":
        return str(PaymentSplit._meta.verbose_name_plural)
    return str(concrete_field(Payment, name.removesuffix("_id")).verbose_name)


@dataclass
class _Item:
    """A payment on its way to the ledger, with its explicit split in the engine's terms."""

    payment: Payment
    split: tuple[engine.SplitLine, ...] = ()
    allocation: engine.Allocation | None = None
    due_dates: Callable[[Period], date] | None = None
    entries: list[_Entry] = field(default_factory=list)
    zone: tzinfo = field(default_factory=timezone.get_current_timezone)
    paid_on: date = field(init=False)

    def __post_init__(self) -> None:
        # `Payment.paid_on`, with the zone looked up once per batch: Django's look-up of
        # the current zone (asgiref's context-local) costs 3 µs, the conversion 0.1 µs.
        self.paid_on = self.payment.paid_at.astimezone(self.zone).date()


class _Entry(NamedTuple):
    """An entry row of a payment and the debt it settles (or the advance it leaves)."""

    debt: DebtKey
    amount: Decimal  # the entry's amount: negative
    row: tuple[Any, ...]  # for `post_rows`


# --- posting ------------------------------------------------------------------------------


def post_payment(record: PaymentRecord, *, user: Any = None) -> Outcome:
    """Post one payment (see the module doc); ValidationError when the record is invalid."""
    (outcome,) = post_payments([record], user=user)
    return outcome


@collector_paused()
def post_payments(records: Iterable[PaymentRecord], *, user: Any = None) -> list[Outcome]:
    """Post a batch of payments of one organisation, in one transaction; one outcome per
    record, in their order. Refused as a whole (ValidationError) when a record is invalid or
    when nothing is open to post into."""
    batch = list(records)
    if not batch:
        return []
    tenants = {record.tenant_id for record in batch}
    if len(tenants) != 1:
        raise ValidationError(
            _("All payments of a batch belong to one organisation."), code="one_tenant"
        )
    (tenant_id,) = tenants
    rows = _rows(batch, user)
    outcomes: list[Outcome | None] = [None] * len(batch)
    with transaction.atomic():
        plan_for_few_rows(connection)
        books = Books.load(tenant_id)
        _check_references(batch, books)
        _identify(rows, tenant_id)
        first: dict[tuple[str, str], int] = {}
        for index, row in enumerate(rows):
            first.setdefault((row.source, row.external_id), index)
        # In key order: two batches holding the same keys in another order would otherwise
        # each wait for a key the other inserted first (a deadlock).
        inserted = _insert_new([rows[first[key]] for key in sorted(first)])
        new = []
        for index, row in enumerate(rows):
            key = (row.source, row.external_id)
            if first[key] == index and key in inserted:
                row.pk = inserted[key]
                row._state.adding, row._state.db = False, connection.alias
                new.append(index)
        for index, outcome in _replays(batch, rows, set(new), tenant_id).items():
            outcomes[index] = outcome
        PaymentSplit.objects.bulk_create(
            PaymentSplit(
                payment_id=rows[index].pk,
                provider_id=part.provider_id,
                service_id=part.service_id,
                amount=to_decimal(part.amount),
            )
            for index in new
            for part in batch[index].split
        )
        zone = timezone.get_current_timezone()
        items = {
            index: _Item(rows[index], _engine_split(batch[index].split, books), zone=zone)
            for index in new
            if rows[index].status == Payment.Status.POSTED
        }
        _allocate_and_post(list(items.values()), books, user)
        at = connection.ops.adapt_datetimefield_value(timezone.now())
        by = _user(user)
        write_behind(
            connection,
            PaymentEvent._meta.db_table,
            ("payment_id", "kind", "at", "by_id", "reason", "details"),
            (
                (
                    rows[index].pk,
                    PaymentEvent.Kind.POSTED.value
                    if rows[index].status == Payment.Status.POSTED
                    else PaymentEvent.Kind.SUSPENSE.value,
                    at,
                    by.pk if by else None,
                    "",
                    json_text(_event_details(rows[index])),
                )
                for index in new
            ),
        )
        for index in new:
            row, item = rows[index], items.get(index)
            posted = row.status == Payment.Status.POSTED and item is not None
            outcomes[index] = Outcome(
                Result.POSTED if posted else Result.SUSPENSE,
                row,
                entries=len(item.entries) if posted and item else 0,
                allocation=item.allocation if posted and item else None,
            )
        _recalculate([item for item in items.values() if item.entries], books, user)
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _event_details(payment: Payment) -> dict[str, Any]:
    if payment.status == Payment.Status.SUSPENSE:
        return {"reason": payment.suspense_reason, "account_number": payment.account_number}
    return {"account": payment.account_number}


def _rows(batch: list[PaymentRecord], user: Any) -> list[Payment]:
    """Unsaved, validated payment rows; ValidationError naming every bad record."""
    rows: list[Payment] = []
    errors: list[ValidationError] = []
    for number, record in enumerate(batch, start=1):
        try:
            rows.append(_row(record, user))
        except ValidationError as error:
            errors.append(_numbered(number, error) if len(batch) > 1 else error)
    if len(errors) == 1 and len(batch) == 1:
        raise errors[0]  # one record: its errors by field
    if errors:
        raise ValidationError(errors)
    return rows


def _row(record: PaymentRecord, user: Any) -> Payment:
    try:
        amount = to_decimal(record.amount)
        fee = to_decimal(record.fee)
    except (TypeError, ValueError) as error:
        raise ValidationError(
            _("The amount and the fee must be decimal numbers: %(error)s"),
            code="not_a_number",
            params={"error": error},
        ) from error
    by = _user(user)
    payment = instance(
        Payment,
        {
            "tenant_id": record.tenant_id,
            "source": record.source.strip(),
            "external_id": record.external_id.strip(),
            "paid_at": record.paid_at,
            "value_date": record.value_date,
            "account_number": record.account_number.strip(),
            "payer_name": record.payer_name,
            "address": record.address,
            "period": record.period.first_day if record.period else None,
            "amount": amount,
            "fee": fee,
            "net_amount": amount - fee,
            "provider_id": record.provider_id,
            "penalty_designated": record.penalty_designated,
            "status": Payment.Status.POSTED,
            "document_kind": record.document_kind,
            "document_number": record.document_number,
            "created_by_id": by.pk if by else None,
        },
    )
    problems: dict[str, Any] = {}
    try:
        clean_fields(payment, exclude=["tenant", "account", "provider", "created_by"])
    except ValidationError as error:
        problems = error.error_dict
    problems = {**payment.row_errors(), **problems}
    for part in record.split:
        try:
            part_amount = to_decimal(part.amount)
        except (TypeError, ValueError):
            part_amount = Decimal(-1)
        if part_amount < 0 or part_amount != part_amount.quantize(CENT):
            problems["split"] = ValidationError(
                _("A split amount must be zero or more, in whole kopecks: %(amount)s."),
                code="split_amount",
                params={"amount": part.amount},
            )
    if problems:
        raise ValidationError(problems)
    return payment


def _numbered(number: int, error: ValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        problems = [
            f"{_field_name(name)}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        problems = error.messages
    return ValidationError(
        _("Payment %(number)s: %(problem)s"),
        code="invalid_payment",
        params={"number": number, "problem": "; ".join(problems)},
    )


def _check_references(batch: list[PaymentRecord], books: Books) -> None:
    """The providers and services a record names belong to the organisation."""
    for record in batch:
        providers = {part.provider_id for part in record.split}
        if record.provider_id is not None:
            providers.add(record.provider_id)
        if not providers <= books.providers:
            raise ValidationError(
                _("Payment %(key)s names a provider of another organisation or none at all."),
                code="other_tenant",
                params={"key": f"{record.source} {record.external_id}"},
            )
        if any(part.service_id not in books.service_codes for part in record.split):
            raise ValidationError(
                _("Payment %(key)s names a service of another organisation or none at all."),
                code="other_tenant",
                params={"key": f"{record.source} {record.external_id}"},
            )


def _engine_split(parts: Sequence[SplitPart], books: Books) -> tuple[engine.SplitLine, ...]:
    return tuple(
        engine.SplitLine(
            str(part.provider_id), books.service_codes[part.service_id], to_decimal(part.amount)
        )
        for part in parts
    )


def _identify(rows: list[Payment], tenant_id: int) -> None:
    """Find each payment's account by number (one query); unknown or closed → suspense."""
    numbers = {row.account_number for row in rows if row.account_number}
    accounts = {
        number: (pk, closed_on)
        for number, pk, closed_on in Account.objects.filter(
            tenant_id=tenant_id, number__any_of=numbers
        ).values_list("number", "pk", "closed_on")
    }
    for row in rows:
        found = accounts.get(row.account_number)
        if found is None:
            row.status = Payment.Status.SUSPENSE
            row.suspense_reason = Payment.SuspenseReason.UNKNOWN_ACCOUNT
            continue
        row.account_id, closed_on = found
        if closed_on is not None and closed_on <= row.paid_on:
            row.status = Payment.Status.SUSPENSE
            row.suspense_reason = Payment.SuspenseReason.CLOSED_ACCOUNT


def _insert_new(rows: list[Payment]) -> dict[tuple[str, str], int]:
    """INSERT … ON CONFLICT (tenant, source, external id) DO NOTHING RETURNING: the ids of
    the rows that were new, by key, inserted in the order given (key order). A key another
    transaction is inserting at this moment waits for it: it is then new (the other rolled
    back) or not (the other committed). On PostgreSQL the rows go through a temporary table
    by COPY (a registry of a million lines), elsewhere as VALUES lists."""
    opts = Payment._meta
    quote = connection.ops.quote_name
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    key = ", ".join(
        quote(concrete_field(Payment, name).column) for name in ("tenant", "source", "external_id")
    )
    table = quote(opts.db_table)
    conflict = (
        f"ON CONFLICT ({key}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('source')}, {quote('external_id')}"
    )
    found: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            now = timezone.now()
            for row in rows:
                row.created_at = now  # what `auto_now_add` gives a saved row
            scratch_table(connection, INCOMING, f"SELECT {columns} FROM {table}")  # noqa: S608
            insert_rows(
                connection,
                INCOMING,
                [f.column for f in fields],
                ([getattr(row, f.attname) for f in fields] for row in rows),
            )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {INCOMING} "  # noqa: S608
                f"ORDER BY {key} {conflict}"
            )
            found.update(((s, e), pk) for pk, s, e in cursor.fetchall())
            return found
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            values = [
                f.get_db_prep_save(f.pre_save(row, add=True), connection)
                for row in chunk
                for f in fields
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 -- model metadata
                f"VALUES {', '.join([one] * len(chunk))} {conflict}",
                values,
            )
            found.update(((s, e), pk) for pk, s, e in cursor.fetchall())
    return found


class _Recorded(NamedTuple):
    """A payment recorded under a key: its id and its content, as `_content` gives it."""

    pk: int
    content: tuple[Any, ...]


STORED = tuple(name for name in COMPARED if name != "split")
"""The compared fields that are columns of the payment (the split is its own table)."""
KEY = ("tenant", "source", "external_id")
"""The idempotency key (spec 6.1): unique per payment."""


def _content(record: PaymentRecord) -> tuple[Any, ...]:
    """A record's compared fields (`COMPARED`, in order) as `_row` stores them: a replay of
    a key is a duplicate when its content equals the recorded payment's."""
    return (
        record.account_number.strip(),
        to_decimal(record.amount),
        to_decimal(record.fee),
        # In UTC, as stored: a local time in the hour a clock goes back compares unequal to
        # any time of another zone (PEP 495), also to its own instant.
        record.paid_at.astimezone(UTC),
        record.period.first_day if record.period else None,
        record.provider_id,
        record.penalty_designated,
        _split_key(record),
    )


def _split_key(record: PaymentRecord) -> tuple[tuple[int, int, Decimal], ...]:
    if not record.split:
        return ()
    return tuple(
        sorted(
            (part.provider_id, part.service_id, to_decimal(part.amount)) for part in record.split
        )
    )


def _recorded(tenant_id: int, source: str, external_ids: set[str]) -> dict[str, _Recorded]:
    """The organisation's payments recorded under these keys of `source`, by external id
    (two queries, by the whole unique key: its index is searched, not scanned)."""
    stored = {
        external_id: (pk, values)
        for external_id, pk, *values in Payment.objects.filter(
            tenant_id=tenant_id, source=source, external_id__any_of=external_ids
        )
        .order_by()
        .values_list("external_id", "pk", *STORED)
    }
    splits: dict[int, list[tuple[int, int, Decimal]]] = defaultdict(list)
    for payment_id, provider_id, service_id, amount in PaymentSplit.objects.filter(
        payment_id__any_of=[pk for pk, _values in stored.values()]
    ).values_list("payment_id", "provider_id", "service_id", "amount"):
        splits[payment_id].append((provider_id, service_id, amount))
    return {
        external_id: _Recorded(pk, (*values, tuple(sorted(splits.get(pk, ())))))
        for external_id, (pk, values) in stored.items()
    }


def duplicated(records: Sequence[PaymentRecord]) -> list[int | None]:
    """For each record, the payment it repeats exactly (its key recorded with the same
    content: `post_payments` would post nothing and call it a duplicate), else None. A bulk
    caller — a registry imported again — leaves these out of `post_payments`, which would
    build, insert and compare each of them.

    The database compares: the records' keys and `_content` go into a temporary table and
    one query returns the payments recorded under those keys whose stored columns equal
    that content, column by column, and that have no split — the comparison `_replays`
    makes, without loading the payments. A record with an explicit split, or whose amount
    or fee does not read, is None: `post_payments` compares or reports it; so is every
    record of a batch that holds a value the database cannot take (a NUL in a text). The
    records are taken as valid by themselves, as a registry's parsed lines are
    (`post_payments` refuses a batch with an invalid one). Run it after
    `plan_for_few_rows`."""
    rows = []
    for position, record in enumerate(records):
        if record.split:
            continue
        try:
            content = _content(record)
        except (TypeError, ValueError):
            continue
        key = (record.tenant_id, record.source.strip(), record.external_id.strip())
        rows.append((position, *key, *content[: len(STORED)]))
    found = _presented(rows) if rows else {}
    return [found.get(position) for position in range(len(records))]


def _presented(rows: list[tuple[Any, ...]]) -> dict[int, int]:
    """position → payment id, for the rows (position, key, stored content) that repeat a
    recorded payment without a split: a COPY and a query, whatever the number of rows, in
    a savepoint. The scratch table's numbers and texts are unbounded: a value too long or
    too large for a payment is not cut or rounded into an equal one, it is unequal."""
    quote = connection.ops.quote_name
    fields = [concrete_field(Payment, name) for name in (*KEY, *STORED)]
    columns = [quote(f.column) for f in fields]
    shapes = [_unbounded(f, column) for f, column in zip(fields, columns, strict=True)]
    table = quote(Payment._meta.db_table)
    splits = PaymentSplit._meta
    split_of = quote(splits.get_field("payment").column)
    postgresql = connection.vendor == "postgresql"
    equal = "IS NOT DISTINCT FROM" if postgresql else "IS"  # NULL equals NULL (older SQLite)
    same = " AND ".join(
        [f"p.{c} = i.{c}" for c in columns[: len(KEY)]]
        + [f"p.{c} {equal} i.{c}" for c in columns[len(KEY) :]]
    )
    if not postgresql:  # SQLite: the values as a saved row stores them
        rows = [
            (
                position,
                *(f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)),
            )
            for position, *values in rows
        ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            scratch_table(
                connection,
                PRESENTED,
                f"SELECT 0 AS position, {', '.join(shapes)} FROM {table}",  # noqa: S608
            )
            insert_rows(connection, PRESENTED, ["position", *(f.column for f in fields)], rows)
            # Materialized: the payments are found by key first (in the unique index);
            # asked at once, PostgreSQL's planner read all payments to leave out those
            # with a split.
            cursor.execute(
                f"WITH found AS {'MATERIALIZED' if postgresql else ''} "  # noqa: S608
                f"(SELECT i.position, p.{quote('id')} AS payment "
                f"FROM {PRESENTED} i JOIN {table} p ON {same}) "
                f"SELECT position, payment FROM found f WHERE NOT EXISTS (SELECT 1 FROM "
                f"{quote(splits.db_table)} s WHERE s.{split_of} = f.payment)"
            )
            return dict(cursor.fetchall())
    except DataError:  # a value no text column takes: posting reports it
        return {}


def _unbounded(field: Field[Any, Any], column: str) -> str:
    """The scratch column of `field`: a decimal as any number, a string as any text."""
    if isinstance(field, DecimalField):
        return f"CAST({column} AS NUMERIC) AS {column}"
    if isinstance(field, CharField):
        return f"CAST({column} AS TEXT) AS {column}"
    return column


def _replays(
    batch: list[PaymentRecord], rows: list[Payment], new: set[int], tenant_id: int
) -> dict[int, Outcome]:
    """Duplicate or conflict, for each record whose key was recorded before (three
    queries)."""
    replayed = [index for index in range(len(rows)) if index not in new]
    if not replayed:
        return {}
    keys: dict[str, set[str]] = defaultdict(set)
    for index in replayed:
        keys[rows[index].source].add(rows[index].external_id)
    stored = {
        (source, external_id): found
        for source, external_ids in keys.items()
        for external_id, found in _recorded(tenant_id, source, external_ids).items()
    }
    payments = Payment.objects.in_bulk([found.pk for found in stored.values()])
    outcomes = {}
    for index in replayed:
        row = rows[index]
        original = stored.get((row.source, row.external_id))
        if original is None:  # cannot happen: the key was refused because it exists
            raise RuntimeError(f"payment {row} was refused as recorded but is not found")
        pairs = zip(COMPARED, _content(batch[index]), original.content, strict=True)
        differences = tuple(name for name, mine, theirs in pairs if mine != theirs)
        outcomes[index] = Outcome(
            Result.CONFLICT if differences else Result.DUPLICATE,
            payments[original.pk],
            differences,
        )
    return outcomes


# --- allocation and posting ---------------------------------------------------------------


def _allocate_and_post(items: list[_Item], books: Books, user: Any) -> None:
    """Allocate each item's payment over its account's debts and post the entries of all
    of them at once. An account with nothing owed and nobody to credit an advance to sends
    its payment to suspense instead (`no_provider`)."""
    if not items:
        return
    account_ids = sorted({item.payment.account_id for item in items if item.payment.account_id})
    due_days = _lock_accounts(account_ids)
    debts = open_debts(account_ids)
    fallbacks = _Fallbacks(items)
    rows: list[tuple[Any, ...]] = []
    for item in items:
        payment, paid_on = item.payment, item.paid_on
        assert payment.account_id is not None
        current = books.current_period(paid_on)
        if current is None:
            raise ValidationError(
                _("No billing period is open: open one before posting payments."),
                code="no_open_period",
            )
        due_dates = books.due_dates(due_days.get(payment.account_id))
        account_debts = debts[payment.account_id]
        allocation = engine.allocate_payment(
            engine.Payment(
                amount=payment.amount,
                paid_on=paid_on,
                provider=None if payment.provider_id is None else str(payment.provider_id),
                period=Period.of(payment.period) if payment.period else None,
                split=item.split,
                penalty_designated=payment.penalty_designated,
                account=payment.account_number,
            ),
            books.obligations(account_debts, paid_on, due_dates),
            due_dates,
            books.service_order,
            books.allocation_config(paid_on),
        )
        if any(advance.provider == "" for advance in allocation.advances):
            provider = fallbacks.provider(payment.account_id, paid_on)
            if provider is None:
                _to_suspense(payment, Payment.SuspenseReason.NO_PROVIDER)
                continue
            allocation = engine.Allocation(  # built, not `replace`d: a registry does a million
                allocation.amount,
                allocation.lines,
                tuple(
                    engine.Advance(a.provider or str(provider), a.amount)
                    for a in allocation.advances
                ),
                allocation.issues,
            )
        item.allocation, item.due_dates = allocation, due_dates
        item.entries = _entries(item, allocation, books, current, user)
        for entry in item.entries:
            account_debts.add(entry.debt, entry.amount)
            rows.append(entry.row)
    post_rows(books.tenant_id, rows)


def _lock_accounts(account_ids: list[int]) -> dict[int, int | None]:
    """Lock the accounts (in id order: two batches never wait for each other in a circle);
    their buildings' due days, for the limitation period."""
    rows = (
        Account.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__any_of=account_ids)
        .order_by("pk")
        .values_list("pk", "premise__building__due_day")
    )
    return dict(rows)


class _Fallbacks:
    """Who gets an advance of an account that owes nothing at all: the provider of its
    first connected service (in the service order) on the payment date. Read at the first
    need of each payment date, for all the batch's accounts paid that day, in one query that
    returns one row per account (a registry's payments mostly share a day or a few)."""

    def __init__(self, items: list[_Item]) -> None:
        self.paid: dict[date, set[int]] = defaultdict(set)
        for item in items:
            if item.payment.account_id is not None:
                self.paid[item.paid_on].add(item.payment.account_id)
        self.found: dict[date, dict[int, int]] = {}

    def provider(self, account_id: int, day: date) -> int | None:
        if day not in self.found:
            first = Window(
                RowNumber(),
                partition_by=[F("account_id")],
                order_by=[F("service__sort_order"), F("service__code")],  # the service order
            )
            self.found[day] = dict(
                AccountService.objects.filter(
                    Q(effective_to__isnull=True) | Q(effective_to__gt=day),
                    account_id__any_of=self.paid[day],
                    effective_from__lte=day,
                )
                .annotate(first=first)
                .filter(first=1)
                .order_by()
                .values_list("account_id", "provider_id")
            )
        return self.found[day].get(account_id)


def _to_suspense(payment: Payment, reason: str) -> None:
    payment.status = Payment.Status.SUSPENSE
    payment.suspense_reason = reason
    Payment.objects.filter(pk=payment.pk).update(status=payment.status, suspense_reason=reason)


def _entries(
    item: _Item,
    allocation: engine.Allocation,
    books: Books,
    current: date,
    user: Any,
) -> list[_Entry]:
    """The payment's entries: one per allocation line and one per advance (negative)."""
    payment, paid_on = item.payment, item.paid_on
    by = _user(user)
    common = {
        "tenant_id": payment.tenant_id,
        "account_id": payment.account_id,
        "posted_on": paid_on,
        "kind": LedgerEntry.Kind.PAYMENT.value,
        "source_kind": PAYMENT_SOURCE,
        "source_id": str(payment.pk),
        "created_by_id": by.pk if by else None,
    }
    entries = []
    for line in allocation.lines:
        origin = line.period.first_day
        target = books.posting_period(origin)
        assert target is not None  # an obligation's period is open or before an open one
        provider = int(line.provider)
        service = books.service_ids[line.service] if line.service else None
        why = line.explanation
        entries.append(
            _Entry(
                (provider, service, origin, line.kind),
                -line.amount,
                entry_row(
                    **common,
                    provider_id=provider,
                    service_id=service,
                    period=target,
                    corrects_period=origin if target != origin else None,
                    amount=-line.amount,
                    rule=SETTLED_PENALTY if line.kind is engine.Kind.PENALTY else SETTLED_PRINCIPAL,
                    explanation={
                        "allocation": why.rule.value,
                        "unpaid_before": why.unpaid_before,
                        "split": why.split.value if why.split else None,
                        "weight": why.weight,
                        "time_barred": why.time_barred,
                        "paid_on": paid_on,
                    },
                ),
            )
        )
    named = payment.period
    advance_period = named if named in books.open_periods else current
    for advance in allocation.advances:
        provider = int(advance.provider)
        entries.append(
            _Entry(
                (provider, None, advance_period, engine.Kind.PRINCIPAL),
                -advance.amount,
                entry_row(
                    **common,
                    provider_id=provider,
                    period=advance_period,
                    amount=-advance.amount,
                    rule=ADVANCE,
                    explanation={"allocation": ADVANCE, "paid_on": paid_on},
                ),
            )
        )
    return entries


def _recalculate(items: list[_Item], books: Books, user: Any) -> None:
    """Penalties follow the payments (spec 3.2): each open period from the payment's on is
    recomputed for the penalties of the accounts whose payment settled an obligation that
    accrues a penalty by the end of that period (`_accrues_by`), all accounts of a period
    at once (`kvit.billing.recompute.recompute_penalties`). A payment changes no charge,
    and one that settled only what is not yet overdue, penalties or advances changes no
    penalty either."""
    accounts: dict[date, dict[int, str]] = defaultdict(dict)  # period → account → source
    for item in items:
        payment = item.payment
        assert payment.account_id is not None and item.allocation is not None
        current = books.current_period(item.paid_on)
        for day in books.open_periods:
            if current and day >= current and _accrues_by(item, books, Period.of(day)):
                accounts[day][payment.account_id] = str(payment.pk)
    for day, sources in sorted(accounts.items()):
        period = Period.of(day)
        recompute_penalties(
            Catalogue.load(books.tenant_id, period),
            sorted(sources),
            posting_period=period,
            reason=RECALCULATED,
            source=(PAYMENT_SOURCE, ""),
            sources={account: (PAYMENT_SOURCE, pk) for account, pk in sources.items()},
            user=_user(user),
        )


def _accrues_by(item: _Item, books: Books, period: Period) -> bool:
    """Whether the payment settled principal of an obligation on which a penalty accrues on
    some day up to the end of `period` (its due date, not moved off a weekend, plus the
    first charged delay day of the service's scheme with the parameters of `period`)."""
    assert item.allocation is not None and item.due_dates is not None
    for line in item.allocation.lines:
        if line.kind is not engine.Kind.PRINCIPAL or not line.service or line.period >= period:
            continue
        config = books.config(period.first_day)
        first = scheme(
            books.penalty_schemes[line.service],
            config.penalty_grace_days,
            config.penalty_switch_day,
        ).first_charged_day
        if first is not None and item.due_dates(line.period) + timedelta(first) <= period.last_day:
            return True
    return False


# --- reversal, suspense, refunds -------------------------------------------------------------


def _locked(payment: Payment) -> Payment:
    """The payment's row, locked until the transaction ends, as it stands now."""
    return (
        Payment.objects.select_for_update(of=("self",)).select_related("account").get(pk=payment.pk)
    )


def _event(payment: Payment, kind: str, user: Any, reason: str = "", **details: Any) -> None:
    PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        at=timezone.now(),
        by=_user(user),
        reason=reason,
        details=details,
    )


def reverse_payment(
    payment: Payment, reason: str, user: Any, *, on: date | None = None
) -> list[LedgerEntry]:
    """Reverse a payment (сторно, spec 6.3): every entry it posted gets its reversal (the
    same account, provider, service and settled period, the opposite amount), latest first;
    the payment becomes `reversed`, and the account is rated again (penalties then run as
    if the payment had not been made). Refused for a payment already reversed or refunded.
    A payment in suspense has no entries: it is only marked (a bank recalled it)."""
    if not reason.strip():
        raise ValidationError(_("Give the reason for the reversal."), code="no_reason")
    day = on or timezone.localdate()
    with transaction.atomic():
        locked = _locked(payment)
        if locked.status == Payment.Status.REVERSED:
            raise ValidationError(
                _("Payment %(key)s is already reversed."),
                code="reversed",
                params={"key": str(locked)},
            )
        if locked.status == Payment.Status.REFUNDED:
            raise ValidationError(
                _("Payment %(key)s was refunded: it cannot be reversed."),
                code="refunded",
                params={"key": str(locked)},
            )
        reversals: list[LedgerEntry] = []
        books = Books.load(locked.tenant_id)
        if locked.status in Payment.ON_ACCOUNT:
            assert locked.account_id is not None
            _lock_accounts([locked.account_id])
            entries = list(
                LedgerEntry.objects.filter(
                    account_id=locked.account_id,
                    source_kind=PAYMENT_SOURCE,
                    source_id=str(locked.pk),
                    kind=LedgerEntry.Kind.PAYMENT,
                ).order_by("-id")
            )
            done = set(
                LedgerEntry.objects.filter(
                    corrects__in=[entry.pk for entry in entries], kind=LedgerEntry.Kind.REVERSAL
                ).values_list("corrects_id", flat=True)
            )
            reversals = [
                _reversal(entry, books, reason, user, day)
                for entry in entries
                if entry.pk not in done
            ]
            reversals = post_entries(reversals)
        Payment.objects.filter(pk=locked.pk).update(status=Payment.Status.REVERSED)
        payment.status = locked.status = Payment.Status.REVERSED
        _event(locked, PaymentEvent.Kind.REVERSED, user, reason, entries=len(reversals))
        if reversals:
            assert locked.account is not None
            current = books.current_period(locked.paid_on)
            recalculate(
                locked.account,
                [Period.of(p) for p in books.open_periods if current and p >= current],
                source=(PAYMENT_SOURCE, str(locked.pk)),
                user=_user(user),
            )
    return reversals


def _reversal(entry: LedgerEntry, books: Books, reason: str, user: Any, day: date) -> LedgerEntry:
    """The reversal of `entry`: into its own period while open, else the first open one
    after it, naming the period it settled."""
    origin = entry.corrects_period or entry.period
    target = books.posting_period(entry.period)
    if target is None:
        raise ValidationError(
            _("There is no open period to post the reversal into."), code="no_open_period"
        )
    return LedgerEntry(
        tenant_id=entry.tenant_id,
        account_id=entry.account_id,
        provider_id=entry.provider_id,
        service_id=entry.service_id,
        period=target,
        corrects_period=origin if origin != target else None,
        posted_on=day,
        kind=LedgerEntry.Kind.REVERSAL,
        amount=-entry.amount,
        rule=entry.rule,
        explanation=dict(entry.explanation),
        corrects=entry,
        reason=reason,
        source_kind=entry.source_kind,
        source_id=entry.source_id,
        created_by=_user(user),
    )


def transfer_from_suspense(payment: Payment, account: Account, user: Any) -> Outcome:
    """Move a payment in suspense to `account` (spec 6.4): it is allocated there as of its
    original payment date (penalties go by it) and becomes `transferred`."""
    with transaction.atomic():
        locked = _locked(payment)
        if locked.status != Payment.Status.SUSPENSE:
            raise ValidationError(
                _("Payment %(key)s is %(status)s: only a payment in suspense is transferred."),
                code="not_in_suspense",
                params={"key": str(locked), "status": locked.get_status_display()},
            )
        if account.tenant_id != locked.tenant_id:
            raise ValidationError(
                _("The account belongs to another organisation."), code="other_tenant"
            )
        books = Books.load(locked.tenant_id)
        split = _engine_split(
            [
                SplitPart(part.provider_id, part.service_id, part.amount)
                for part in locked.split.all()
            ],
            books,
        )
        locked.account = account
        locked.status = Payment.Status.TRANSFERRED
        item = _Item(locked, split)
        _allocate_and_post([item], books, user)
        if locked.status == Payment.Status.SUSPENSE:  # nobody on the account to credit
            raise ValidationError(
                _(
                    "Account %(account)s has no provider to credit the payment to: connect a "
                    "service first."
                ),
                code="no_provider",
                params={"account": account.number},
            )
        Payment.objects.filter(pk=locked.pk).update(account=account, status=locked.status)
        payment.account, payment.status = account, locked.status
        _event(
            locked,
            PaymentEvent.Kind.TRANSFERRED,
            user,
            account=account.number,
            was=locked.suspense_reason,
        )
        _recalculate([item], books, user)
        payment_transferred.send(Payment, payment=locked, user=user)
    return Outcome(Result.POSTED, locked, entries=len(item.entries), allocation=item.allocation)


def refund_suspense(payment: Payment, user: Any, reason: str, *, today: date | None = None) -> None:
    """Mark a payment in suspense as refunded to the payer (spec 6.4): allowed once it has
    waited `suspense_refund_days` (section 10) since the payment date."""
    if not reason.strip():
        raise ValidationError(_("Give the reason for the refund."), code="no_reason")
    day = today or timezone.localdate()
    with transaction.atomic():
        locked = _locked(payment)
        if locked.status != Payment.Status.SUSPENSE:
            raise ValidationError(
                _("Payment %(key)s is %(status)s: only a payment in suspense is refunded."),
                code="not_in_suspense",
                params={"key": str(locked), "status": locked.get_status_display()},
            )
        wait = Books.load(locked.tenant_id).config(day).suspense_refund_days
        allowed = locked.paid_on + timedelta(days=wait)
        if day < allowed:
            raise ValidationError(
                _(
                    "Payment %(key)s can be refunded from %(day)s on, %(wait)s days after it "
                    "was paid: the account may still be found."
                ),
                code="too_early",
                params={"key": str(locked), "day": allowed.isoformat(), "wait": wait},
            )
        Payment.objects.filter(pk=locked.pk).update(status=Payment.Status.REFUNDED)
        payment.status = Payment.Status.REFUNDED
        _event(locked, PaymentEvent.Kind.REFUNDED, user, reason)


def refund_advance(
    account: Account,
    provider: Provider,
    amount: Decimal | str,
    user: Any,
    reason: str,
    *,
    on: date | None = None,
) -> LedgerEntry:
    """Pay back part or all of the account's advance with `provider`: a positive `transfer`
    entry (rule `refund`, no service) in the open period. Refused when the advance (what the
    account has paid the provider beyond its debts) is smaller than `amount`."""
    value = to_decimal(amount)
    if value <= 0 or value != value.quantize(CENT):
        raise ValidationError(
            _("A refund must be a positive amount in whole kopecks, not %(amount)s."),
            code="not_positive",
            params={"amount": value},
        )
    if not reason.strip():
        raise ValidationError(_("Give the reason for the refund."), code="no_reason")
    if provider.tenant_id != account.tenant_id:
        raise ValidationError(
            _("The provider belongs to another organisation."), code="other_tenant"
        )
    day = on or timezone.localdate()
    with transaction.atomic():
        _lock_accounts([account.pk])
        advance = -balance(account, provider=provider)
        if advance < value:
            raise ValidationError(
                _(
                    "The advance of account %(account)s with %(provider)s is %(advance)s: "
                    "%(amount)s cannot be refunded."
                ),
                code="advance_too_small",
                params={
                    "account": account.number,
                    "provider": provider,
                    "advance": max(advance, Decimal("0.00")),
                    "amount": value,
                },
            )
        period = Books.load(account.tenant_id).current_period(day)
        if period is None:
            raise ValidationError(
                _("No billing period is open: open one before refunding."),
                code="no_open_period",
            )
        (entry,) = post_entries(
            [
                LedgerEntry(
                    tenant_id=account.tenant_id,
                    account=account,
                    provider=provider,
                    service=None,
                    period=period,
                    posted_on=day,
                    kind=LedgerEntry.Kind.TRANSFER,
                    amount=value,
                    rule=REFUND,
                    reason=reason,
                    source_kind=REFUND,
                    created_by=_user(user),
                )
            ]
        )
    return entry


# --- the cash desk ----------------------------------------------------------------------------


def post_cash_payment(
    account: Account,
    amount: Decimal | str,
    receipt_number: str,
    cashier: Any,
    paid_at: datetime,
    *,
    provider: Provider | None = None,
    period: Period | None = None,
) -> Outcome:
    """A payment taken at the cash desk: `post_payment` with source "cash" and the receipt
    number as its external id (so a receipt number is used once per organisation)."""
    return post_payment(
        PaymentRecord(
            tenant_id=account.tenant_id,
            source=CASH,
            external_id=receipt_number,
            paid_at=paid_at,
            amount=amount,
            account_number=account.number,
            period=period,
            provider_id=provider.pk if provider else None,
            document_kind=Payment.DocumentKind.CASH_RECEIPT,
            document_number=receipt_number,
        ),
        user=cashier,
    )
