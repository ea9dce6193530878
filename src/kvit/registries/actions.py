"""Importing a bank registry (spec 6.2): every line credited once, whole file or nothing.

`import_registry(tenant, content, file_name, format_code, user)` is the one way in (the
CLI `kvit payments import` and the back-office upload call it):

1. **Refused** (ValidationError, nothing recorded): an unknown format, or content that is
   plainly not a text registry (empty, binary, markup).
2. **One transaction** holds the whole import. Registry imports of one organisation take
   their turn (a PostgreSQL advisory lock; SQLite's writers queue anyway): two overlapping
   registries never wait for each other's payments and accounts in a circle.
3. **Once per file.** The `Registry` row is inserted first; a unique constraint on the
   content hash among imported registries turns a replay — also one racing in another
   process — into "already imported", which posts nothing.
4. **Streamed.** The file is parsed a line at a time (`kvit.registries.parsing`) and taken
   in batches of `BATCH`. A valid line that repeats a recorded payment exactly is a
   duplicate at once (`kvit.payments.actions.duplicated`: a registry sent again is mostly
   such lines; it is asked while the batches hold keys recorded before); the others go to
   `kvit.payments.actions.post_payments`, inside the transaction, which decides for each
   whether it is new (posted, or suspense for an unknown or closed account), a duplicate
   or a conflict (spec 6.1; R1, R2). Invalid lines are reported with their problems and
   the rest goes on. Each line's outcome is written as the batch goes (`RegistryLine`,
   COPY on PostgreSQL), with the batch's entries and events, while the next batch is
   parsed (`kvit.db.bulk.writes_behind`). The footer, read ahead, gives every payment its
   value date: the date of the payment order that moved the money.
5. **Readings** of the new payments (columns 14+) become readings in bulk
   (`kvit.registries.readings`): the meter is found by its number among the meters of the
   account's premise, the n-th value given for a meter goes to its n-th zone. Those of a
   payment in suspense are recorded when it is transferred to an account.
6. **Rejected whole** when the file fails a check (`parsing`: the footer's count and sums,
   amount = transferred + fee, a missing footer...), when its bank's credit in a statement
   is less than its payment order's registries say was transferred
   (`kvit.registries.reconciliation`), or when the payments cannot be posted at all (no
   open period): the transaction is rolled back, so nothing of it is posted, and the
   registry is recorded as rejected with the reasons.

A killed import leaves nothing but an orphaned stored copy of the file: its transaction
never committed (R3).
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.accounts.models import Account
from kvit.core.periods import Period
from kvit.core.rating import collector_paused
from kvit.db.bulk import plan_for_few_rows, write_behind, writes_behind
from kvit.db.effective import concrete_field
from kvit.payments.actions import Outcome, PaymentRecord, Result, duplicated, post_payments
from kvit.payments.models import Payment
from kvit.registries import parsing, readings
from kvit.registries.models import Registry, RegistryLine, RegistryReading
from kvit.registries.problems import describe, problem_data
from kvit.registries.queries import Format, registry_format
from kvit.registries.reconciliation import overpaid
from kvit.registries.turns import take_turn
from kvit.tenants.models import Tenant

log = logging.getLogger(__name__)

BATCH = 5_000
"""Lines posted per `post_payments` call."""

Progress = Callable[[int, int], None]  # (lines read, lines in the file)

OUTCOMES = {
    Result.POSTED: RegistryLine.Outcome.POSTED,
    Result.DUPLICATE: RegistryLine.Outcome.DUPLICATE,
    Result.CONFLICT: RegistryLine.Outcome.CONFLICT,
    Result.SUSPENSE: RegistryLine.Outcome.SUSPENSE,
}
COUNTED = {  # outcome → the registry's (count, amount) fields
    RegistryLine.Outcome.POSTED: ("posted", "posted_amount"),
    RegistryLine.Outcome.DUPLICATE: ("duplicates", "duplicate_amount"),
    RegistryLine.Outcome.CONFLICT: ("conflicts", "conflict_amount"),
    RegistryLine.Outcome.SUSPENSE: ("suspense", "suspense_amount"),
    RegistryLine.Outcome.INVALID: ("invalid", "invalid_amount"),
}
REPEATED = (Result.DUPLICATE, Result.CONFLICT)  # a key recorded before
INVALID = RegistryLine.Outcome.INVALID
DUPLICATE = RegistryLine.Outcome.DUPLICATE
LINE_COLUMNS = ("registry_id", "number", "outcome", "payment_id", "details", "text")
LIMITS = {
    name: concrete_field(Payment, name).max_length for name in ("external_id", "account_number")
}
SHORTEST_LIMIT = min(limit or 0 for limit in LIMITS.values())
PAYER_NAME, ADDRESS = (concrete_field(Payment, f).max_length for f in ("payer_name", "address"))
"""Descriptive fields are cut to what the payment keeps (the stored file keeps them whole)."""


@dataclass(frozen=True)
class Imported:
    """What `import_registry` did: the registry (imported or rejected), or the one imported
    before from the same file (`already_imported`: nothing was done)."""

    registry: Registry
    already_imported: bool = False


class _Rejected(Exception):
    """The file is rejected: its `problems`, and how many more were not kept."""

    def __init__(self, problems: list[parsing.Problem], more: int = 0) -> None:
        super().__init__(problems)
        self.problems = problems
        self.more = more


ANALYZE_AFTER = 50_000
"""Rows added to a table (registry lines, payments) from which an import tells PostgreSQL
about them (`_analyze`)."""
KEPT_PROBLEMS = 100
"""A rejected registry keeps its first problems and the number of the others."""


@dataclass
class _Totals:
    counts: Counter[str] = field(default_factory=Counter)
    amounts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    readings: Counter[str] = field(default_factory=Counter)
    duplicate_transferred: Decimal = Decimal("0.00")

    def add(self, outcome: str, amount: Decimal | None, transferred: Decimal | None = None) -> None:
        self.counts[outcome] += 1
        self.amounts[outcome] += amount or 0
        if outcome == DUPLICATE:
            self.duplicate_transferred += transferred or 0

    def fields(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for outcome, (count, amount) in COUNTED.items():
            values[count] = self.counts[outcome]
            values[amount] = self.amounts[outcome]
        values["readings_recorded"] = self.readings[RegistryReading.Outcome.RECORDED]
        values["readings_rejected"] = self.readings[RegistryReading.Outcome.REJECTED]
        values["duplicate_transferred"] = self.duplicate_transferred
        return values


def import_registry(
    tenant: Tenant,
    content: bytes,
    file_name: str,
    format_code: str,
    user: Any = None,
    *,
    progress: Progress | None = None,
) -> Imported:
    """Import a registry file (see the module doc)."""
    found = registry_format(tenant.pk, format_code)
    problem = parsing.sniff(content)
    if problem is not None:
        raise ValidationError(describe(problem), code=problem.code)
    registry = Registry(
        tenant=tenant,
        format_code=found.code,
        source=found.source,
        file_name=posixpath.basename(file_name.replace("\\", "/"))[:255] or "registry",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        status=Registry.Status.IMPORTED,
        imported_by=user if getattr(user, "pk", None) else None,
        bank_inn=found.bank_inn,
    )
    try:
        with transaction.atomic():
            take_turn(tenant.pk)
            registry.imported_at = timezone.now()
            try:
                with transaction.atomic():
                    registry.save()
            except IntegrityError:
                earlier = Registry.objects.filter(
                    tenant=tenant, sha256=registry.sha256, status=Registry.Status.IMPORTED
                ).first()
                if earlier is None:
                    raise
                return Imported(earlier, already_imported=True)
            registry.keep(content)
            Registry.objects.filter(pk=registry.pk).update(file=registry.file.name)
            _Import(registry, found, user, progress).run(content)
    except _Rejected as rejected:
        problems = rejected.problems[:KEPT_PROBLEMS]
        more = len(rejected.problems) - len(problems) + rejected.more
        if more:
            problems.append(parsing.Problem("more", value=str(more)))
        registry.pk = None
        registry.status = Registry.Status.REJECTED
        registry.problems = [problem_data(problem) for problem in problems]
        registry.save()
    registry.refresh_from_db()
    if registry.status == Registry.Status.IMPORTED:
        _analyze(registry)
    return Imported(registry)


def _analyze(registry: Registry) -> None:
    """Tell PostgreSQL what a large import added (`ANALYZE_AFTER` rows or more to a table),
    rather than wait for autovacuum:

    * the planner's statistics (ANALYZE): with those of the table before it, the next
      import's look-up of its replays by key chose the organisation's index of payment
      dates and read every payment of the organisation, batch after batch (1,000,000 lines
      again: 135.6 s instead of 87.0 s);
    * the new payments' row marks (VACUUM, 0.2 s for a million): the import locked each of
      them (the foreign keys of its events and lines are checked FOR KEY SHARE), and until
      a vacuum every later reader and locker of those rows paid for the marks — the same
      1,000,000 lines under another payment order took 38 s instead of 26 s.

    A registry sent again adds only its lines. The import has committed: a table another
    session holds locked is skipped, and a failure is logged, never raised."""
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or not connection.get_autocommit()  # VACUUM runs outside a transaction only
    ):
        return
    quote = connection.ops.quote_name
    commands = []
    if registry.lines >= ANALYZE_AFTER:
        commands.append(f"ANALYZE (SKIP_LOCKED) {quote(RegistryLine._meta.db_table)}")
    if registry.posted + registry.suspense >= ANALYZE_AFTER:
        commands.append(f"VACUUM (ANALYZE, SKIP_LOCKED) {quote(Payment._meta.db_table)}")
    for command in commands:
        try:
            with connection.cursor() as cursor:
                cursor.execute(command)
        except DatabaseError:
            log.warning("registry %s is imported; %s failed", registry.pk, command, exc_info=True)


class _Import:
    """One registry's import, inside its transaction."""

    def __init__(self, registry: Registry, found: Format, user: Any, progress: Progress | None):
        self.registry = registry
        self.format = found
        self.user = user
        self.progress = progress
        self.totals = _Totals()
        # Whether to look for repeats first (`duplicated`): a registry is new, sent again,
        # or an overlap (old lines, then new ones), so after a batch with no key recorded
        # before the next is taken as new. Posting finds a repeat all the same, only slower;
        # then the next batch is looked up again.
        self.repeats = True
        # The payment times in the file are the organisation's local time (a ZoneInfo
        # gives the right offset, also in the hour a clock goes back).
        self.zone = timezone.get_current_timezone()
        self.document_number = str(registry.pk)
        self._record: Callable[..., PaymentRecord] = PaymentRecord  # set in run()

    def run(self, content: bytes) -> None:
        plan_for_few_rows(connection)  # the batches' look-ups by key, also before posting
        footer = parsing.closing_footer(content, self.format.layout)
        self._record = partial(  # what all the registry's payments share
            PaymentRecord,
            tenant_id=self.registry.tenant_id,
            source=self.format.source,
            value_date=footer.order_date if footer else None,  # the payment order's
            provider_id=self.format.provider_id,
            document_kind=Payment.DocumentKind.REGISTRY.value,
            document_number=self.document_number,
        )
        reader = parsing.Reader(content, self.format.layout)
        batch: list[parsing.Record] = []
        line_problems: list[parsing.Problem] = []  # reported with a rejection
        more = 0
        # A batch's ledger entries, events and lines are written while the next is parsed.
        with writes_behind(connection):
            for record in reader:
                if len(line_problems) < KEPT_PROBLEMS:
                    line_problems += record.problems
                else:
                    more += len(record.problems)
                batch.append(record)
                if len(batch) >= BATCH:
                    self._batch(batch, reader)
                    batch = []
            self._batch(batch, reader)
        self._read(reader)
        if reader.problems:
            raise _Rejected(reader.problems + line_problems, more)
        for name, value in self.totals.fields().items():
            setattr(self.registry, name, value)
        if reader.footer is not None:
            self._check_statement(reader.footer)
        self.registry.save()

    def _check_statement(self, footer: parsing.Footer) -> None:
        """Reject the file when the bank's credit of its payment order, in a statement
        already, is less than the order's registries with this one say was transferred
        (`kvit.registries.reconciliation`). Checked once the lines are known: a line
        received before was paid for then, so its part of the footer is not counted."""
        if footer.order_date is None or not footer.order_number:
            return
        order = (footer.order_number[:64], footer.order_date, self.format.bank_inn)
        new = footer.transferred - self.totals.duplicate_transferred
        credits = overpaid(self.registry.tenant_id, order, new)
        if credits:
            amounts = ", ".join(str(credit.amount) for credit in credits)
            raise _Rejected(
                [parsing.Problem("statement_differs", 0, "transferred", str(new), amounts)]
            )

    def _read(self, reader: parsing.Reader) -> None:
        """What the file says of itself: its footer (the payment order) and its totals."""
        footer = reader.footer
        registry = self.registry
        if footer is not None:
            registry.order_number = footer.order_number[:64]
            registry.order_date = footer.order_date
            registry.footer_count = footer.count
            registry.footer_amount = footer.amount
            registry.footer_transferred = footer.transferred
            registry.footer_fee = footer.fee
        registry.lines = reader.totals.count
        registry.amount = reader.totals.amount

    @collector_paused()  # a batch's thousands of rows are freed by reference counting
    def _batch(self, batch: list[parsing.Record], reader: parsing.Reader) -> None:
        if self.progress and batch:
            self.progress(batch[-1].number, reader.lines)
        if reader.problems or not batch:
            return  # the file is rejected: what is left is only read, for its problems
        registry_id = self.registry.pk
        rows: list[tuple[Any, ...]] = []
        valid: list[tuple[parsing.Line, PaymentRecord]] = []
        for record in batch:
            line = record.line
            problems = list(record.problems) if line is None else _too_long(line)
            if problems:
                self.totals.add(INVALID, record.amount)
                details = _json({"problems": [problem_data(p) for p in problems]})
                text = record.text or _text(line)
                rows.append((registry_id, record.number, INVALID, None, details, text))
            else:
                assert line is not None
                valid.append((line, self._payment(line)))
        # A line repeating a recorded payment exactly is reported as a duplicate here: a
        # registry imported again under another payment order is mostly such lines.
        payments = [payment for _line, payment in valid]
        repeated = duplicated(payments) if self.repeats else [None] * len(payments)
        fresh = [pair for pair, pk in zip(valid, repeated, strict=True) if pk is None]
        try:
            outcomes = post_payments([payment for _line, payment in fresh], user=self.user)
        except ValidationError as error:
            raise _Rejected([parsing.Problem("posting", value=" ".join(error.messages))]) from error
        self.repeats = any(pk is not None for pk in repeated) or any(
            outcome.result in REPEATED for outcome in outcomes
        )
        read: list[tuple[parsing.Line, Result, int | None]] = []
        for (line, _payment), pk in zip(valid, repeated, strict=True):
            if pk is not None:
                self.totals.add(DUPLICATE, line.amount, line.transferred)
                rows.append((registry_id, line.number, DUPLICATE, pk, "{}", ""))
                read.append((line, Result.DUPLICATE, None))
        for (line, payment), outcome in zip(fresh, outcomes, strict=True):
            kind = OUTCOMES[outcome.result]
            self.totals.add(kind, line.amount, line.transferred)
            details = (
                _json({"fields": _differences(payment, outcome)}) if outcome.differences else "{}"
            )
            rows.append((registry_id, line.number, kind, outcome.payment.pk, details, ""))
            read.append((line, outcome.result, outcome.payment.account_id))
        write_behind(connection, RegistryLine._meta.db_table, LINE_COLUMNS, rows)
        self._readings([entry for entry in read if entry[0].readings])

    def _payment(self, line: parsing.Line) -> PaymentRecord:
        return self._record(
            external_id=line.external_id,
            paid_at=line.paid_at(self.zone),
            amount=line.amount,
            fee=line.fee,
            account_number=line.account_number,
            payer_name=line.payer_name[:PAYER_NAME],
            address=line.address[:ADDRESS],
            period=line.period,
        )

    # --- readings ---------------------------------------------------------------------------

    def _readings(self, lines: Sequence[tuple[parsing.Line, Result, int | None]]) -> None:
        """The readings of the batch's lines: recorded for the new payments on an account,
        skipped for the others (the payment was received before, with its readings, or its
        payment is in suspense until it is transferred: `readings.record_held`)."""
        if not lines:
            return
        posted = [account_id for _line, result, account_id in lines if result is Result.POSTED]
        premises = dict(
            Account.objects.filter(pk__any_of=[pk for pk in posted if pk]).values_list(
                "pk", "premise_id"
            )
        )
        given = []
        for line, result, account_id in lines:
            skip = ""
            if result is Result.SUSPENSE:
                skip = _(
                    "The payment is in suspense: the reading is recorded when the payment is "
                    "transferred to an account."
                )
            elif result is not Result.POSTED:
                skip = _("The payment was received before: its readings were taken then.")
            premise_id = premises.get(account_id) if account_id else None
            given.append(
                readings.Given(
                    line.number, line.readings, line.paid_on, line.account_number, premise_id, skip
                )
            )
        rows = readings.record(self.registry, given, self.user)
        for row in rows:
            self.totals.readings[row.outcome] += 1
        RegistryReading.objects.bulk_create(rows, batch_size=1_000)


def _json(details: dict[str, Any]) -> str:
    return json.dumps(details, cls=DjangoJSONEncoder)


def _too_long(line: parsing.Line) -> list[parsing.Problem]:
    if len(line.external_id) <= SHORTEST_LIMIT and len(line.account_number) <= SHORTEST_LIMIT:
        return []  # the usual line: no need to look closer
    return [
        parsing.Problem("too_long", line.number, name, getattr(line, name), str(limit))
        for name, limit in LIMITS.items()
        if limit is not None and len(getattr(line, name)) > limit
    ]


def _text(line: parsing.Line | None) -> str:
    """A valid line's fields, for the record of a line refused after parsing."""
    if line is None:
        return ""
    return ";".join(str(value) for value in line[1:-1])


def _shown(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "paid_at":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if name == "period" and isinstance(value, date):
        return str(Period.of(value))
    return str(value)


def _differences(payment: PaymentRecord, outcome: Outcome) -> dict[str, list[str]]:
    """A conflict's differing fields: [as in this registry, as recorded]."""
    return {
        name: [
            _shown(name, getattr(payment, name, "")),
            _shown(name, getattr(outcome.payment, name, "")),
        ]
        for name in outcome.differences
    }
