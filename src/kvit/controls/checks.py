"""The reconciliation checks (reliability R27): what must add up, asked of the database.

* **balances**: each cached balance is the sum of its ledger entries (`balance_mismatches`);
* **payments**: each imported registry's counts of lines by outcome, and the amounts of its
  posted and suspended lines, are what its lines and their payments hold, each line's payment
  has a status its outcome allows; and every payment, from a registry or not, has on the
  ledger exactly what its status says — its amount credited to its own account while it
  stands on an account, nothing while it is in suspense, reversed or refunded;
* **bill runs**: each run's done chunks posted, by their counts, the entries the ledger
  holds for the run;
* **statements**: each payment order's registries add up to what the bank statement
  credits for it, and its credit is in the statements once they reach a few days past it.

Each check reads a whole organisation in a few aggregate queries (a join of lines, payments
and entries made by the database, never a query per registry or account) and returns a
`Finding` per subject that does not add up; what is fine returns nothing. Money is compared
to the kopeck (SQLite sums decimals as floats).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast

from kvit.accounts.models import Account
from kvit.billing.models import BillRun, BillRunChunk
from kvit.controls.models import ToDo
from kvit.db.bulk import plan_for_whole_tables
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import MONEY, ZERO, ReversedAs, as_money, balance_mismatches
from kvit.payments.mapping import PAYMENT_SOURCE
from kvit.payments.models import Payment
from kvit.providers.models import Provider
from kvit.registries.actions import COUNTED
from kvit.registries.models import BankStatement, Registry, RegistryLine
from kvit.registries.reconciliation import Check, matches
from kvit.tariffs.models import Service

EXAMPLES = 10
"""Payments named in a finding whose ledger differs: the first ones, by id."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A subject that does not add up: `details` holds the numbers (JSON: money as text)."""

    kind: ToDo.Kind
    subject: str
    details: dict[str, Any]
    links: dict[str, int] = field(default_factory=dict)  # account, registry, bill_run → id


def find(tenant: Any) -> list[Finding]:
    """Every check's findings for `tenant`."""
    with transaction.atomic():
        plan_for_whole_tables(connection)
        return [finding for check in CHECKS for finding in check(tenant)]


# --- balances ---------------------------------------------------------------------------------


def balances(tenant: Any) -> list[Finding]:
    found = balance_mismatches(tenant)
    accounts = dict(
        Account.objects.filter(pk__in={m.account_id for m in found}).values_list("pk", "number")
    )
    providers = Provider.objects.in_bulk({m.provider_id for m in found})
    services = Service.objects.in_bulk({m.service_id for m in found if m.service_id})
    return [
        Finding(
            ToDo.Kind.BALANCE,
            f"{accounts[m.account_id]} / {m.provider_id} / {m.service_id or '-'}",
            {
                "account": accounts[m.account_id],
                "provider": str(providers[m.provider_id]),
                "service": str(services[m.service_id]) if m.service_id else "",
                "cached": None if m.cached is None else str(m.cached),
                "entries": str(m.entries),
            },
            {"account": m.account_id},
        )
        for m in found
    ]


# --- payments and registries ----------------------------------------------------------------

# The statuses a line's payment may have, by the line's outcome: a posted payment may be
# reversed since; one in suspense may be transferred, refunded or reversed. A duplicate's or a
# conflict's payment is an earlier registry's, checked there.
_STATUSES = {
    RegistryLine.Outcome.POSTED: (Payment.Status.POSTED, Payment.Status.REVERSED),
    RegistryLine.Outcome.SUSPENSE: (
        Payment.Status.SUSPENSE,
        Payment.Status.TRANSFERRED,
        Payment.Status.REFUNDED,
        Payment.Status.REVERSED,
    ),
}
_AMOUNTS = tuple(_STATUSES)  # the outcomes whose amounts are their payments'


def payments(tenant: Any) -> list[Finding]:
    """Each imported registry against its lines and their payments, and every payment against
    its ledger entries: one finding per registry, and one per source for the payments that
    came by no registry (the cash desk, an aggregator)."""
    # Listed first, and only these are checked: a registry imported while the lines are
    # summed is left to the next run, not reported as lines without their counts.
    imported = list(
        Registry.objects.filter(tenant=tenant, status=Registry.Status.IMPORTED).order_by("pk")
    )
    lines = RegistryLine.objects.filter(
        registry__tenant=tenant, registry__status=Registry.Status.IMPORTED
    )
    wrong_status = Q()
    for outcome, statuses in _STATUSES.items():
        wrong_status |= Q(outcome=outcome) & ~Q(payment__status__in=statuses)
    counted: dict[int, dict[str, tuple[int, Decimal, int]]] = defaultdict(dict)
    for registry, outcome, count, amount, wrong in (
        lines.values_list("registry_id", "outcome")
        .annotate(
            count=Count("pk"),
            amount=Sum("payment__amount", filter=Q(outcome__in=_AMOUNTS)),
            wrong=Count("pk", filter=wrong_status),
        )
        .order_by()
    ):
        counted[registry][outcome] = (count, as_money(amount or 0), wrong)
    ledger = _ledger_differences(tenant, lines.filter(outcome__in=_AMOUNTS))
    found = []
    for registry in imported:
        details = _counts(registry, counted[registry.pk])
        if registry.pk in ledger:
            details["ledger"] = ledger.pop(registry.pk)
        if details:
            details["name"] = str(registry)
            found.append(
                Finding(ToDo.Kind.REGISTRY, str(registry.pk), details, {"registry": registry.pk})
            )
    found += [
        Finding(ToDo.Kind.PAYMENTS, source, {"source": source, "ledger": differences})
        for source, differences in sorted(ledger.items())
        if isinstance(source, str)
    ]
    orphans = _orphans(tenant)
    if orphans:
        found.append(Finding(ToDo.Kind.PAYMENTS, UNKNOWN_PAYMENTS, {"orphans": orphans}))
    return found


UNKNOWN_PAYMENTS = "?"
"""The subject of the finding of payment entries that name no payment."""


def _payment_entries(tenant: Any) -> QuerySet[LedgerEntry]:
    """The entries payments posted and the reversals among them; which reversals reverse a
    payment (not one of its penalty recalculations) the callers tell by `ReversedAs`."""
    return LedgerEntry.objects.filter(
        tenant=tenant,
        source_kind=PAYMENT_SOURCE,
        kind__in=(LedgerEntry.Kind.PAYMENT, LedgerEntry.Kind.REVERSAL),
    )


def _orphans(tenant: Any) -> dict[str, Any] | None:
    """Payment entries (net of their reversals) whose source names no payment of the
    organisation: how many payments they name, their sum, the first `EXAMPLES` names."""
    named = (
        _payment_entries(tenant)
        .annotate(line_kind=ReversedAs("kind"))
        .filter(line_kind=LedgerEntry.Kind.PAYMENT)
        .exclude(
            Exists(
                Payment.objects.filter(tenant=tenant)
                .annotate(key=Cast("pk", CharField()))
                .filter(key=OuterRef("source_id"))
            )
        )
        .values_list("source_id")
        .annotate(total=Sum("amount"))
        .order_by("source_id")
    )
    examples = [source for source, _total in named[:EXAMPLES]]
    if not examples:
        return None
    summary = named.aggregate(payments=Count("source_id"), entries=Sum("total"))
    return {
        "payments": summary["payments"],
        "entries": str(as_money(summary["entries"])),
        "examples": examples,
    }


def _counts(registry: Registry, counted: dict[str, tuple[int, Decimal, int]]) -> dict[str, Any]:
    """What differs between the registry's counters and its lines, by outcome."""
    details: dict[str, Any] = {}
    total = sum(count for count, _amount, _wrong in counted.values())
    if total != registry.lines:
        details["lines"] = {"registry": registry.lines, "lines": total}
    for outcome, (count_field, amount_field) in COUNTED.items():
        count, amount, wrong = counted.get(outcome, (0, ZERO, 0))
        said = getattr(registry, count_field)
        if outcome not in _AMOUNTS:
            if count != said:
                details[outcome] = {"registry": [said, None], "lines": [count, None]}
            continue
        said_amount = getattr(registry, amount_field)
        if (count, amount) != (said, said_amount):
            details[outcome] = {
                "registry": [said, str(said_amount)],
                "lines": [count, str(amount)],
            }
        if wrong:
            details.setdefault("statuses", {})[outcome] = wrong
    return details


def _ledger_differences(tenant: Any, own: Any) -> dict[int | str, dict[str, Any]]:
    """The payments whose ledger entries are not what their status says, grouped by the
    registry that recorded them (its id) or, for the others, by their source: how many, what
    they should have on their accounts, what they have there and on all accounts, and the
    first `EXAMPLES` of them.

    A payment standing on an account (posted, transferred) has its amount credited there
    (`kind` payment, net of its reversals), and nothing on any other account; any other has
    nothing anywhere. One statement, so one snapshot of the ledger on PostgreSQL."""
    should = (
        Payment.objects.filter(tenant=tenant)
        .annotate(
            key=Cast("pk", CharField()),
            expected=Case(
                When(status__in=Payment.ON_ACCOUNT, then=-F("amount")),
                default=Value(ZERO),
                output_field=MONEY,
            ),
        )
        .values_list("pk", "key", "account_id", "source", "expected")
        .order_by()
    )
    # Its penalties' recalculations are not the payment, nor are their reversals. (Summed
    # with a filter, not filtered by the reversed kind: the planner cannot estimate that
    # filter, and taking the ledger for a few rows it joined it in a nested loop.)
    posted = (
        _payment_entries(tenant)
        .annotate(line_kind=ReversedAs("kind"))
        .values_list("source_id", "account_id")
        .annotate(total=Sum("amount", filter=Q(line_kind=LedgerEntry.Kind.PAYMENT)))
        .order_by()
    )
    recorded = own.values_list("payment_id", "registry_id").order_by()
    parts = [q.query.sql_with_params() for q in (should, posted, recorded)]
    (should_sql, _p1), (posted_sql, _p2), (recorded_sql, _p3) = parts
    # The database joins the payments to their entries by the entries' text source id.
    per_payment = (
        "SELECT s.pk AS payment_id, r.registry_id, s.source, s.expected, "  # noqa: S608
        "COALESCE(SUM(CASE WHEN e.account_id = s.account_id THEN e.total END), 0) AS own, "
        "COALESCE(SUM(e.total), 0) AS total "
        f"FROM ({should_sql}) s LEFT JOIN ({posted_sql}) e ON e.source_id = s.key "
        f"LEFT JOIN ({recorded_sql}) r ON r.payment_id = s.pk "
        "GROUP BY s.pk, r.registry_id, s.source, s.expected"
    )
    window = "OVER (PARTITION BY registry_id, source)"
    sql = (
        "SELECT registry_id, source, payment_id, n, differing, expected, own, total FROM ("  # noqa: S608
        f"SELECT registry_id, source, payment_id, COUNT(*) {window} AS differing, "
        f"ROW_NUMBER() OVER (PARTITION BY registry_id, source ORDER BY payment_id) AS n, "
        f"SUM(expected) {window} AS expected, SUM(own) {window} AS own, "
        f"SUM(total) {window} AS total "
        f"FROM ({per_payment}) p "
        "WHERE ABS(expected - own) >= 0.005 OR ABS(total - own) >= 0.005"
        ") d WHERE n <= %s ORDER BY registry_id, source, n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*_p1, *_p2, *_p3, EXAMPLES))
        rows = cursor.fetchall()
    found: dict[int | str, dict[str, Any]] = {}
    for registry, source, payment, n, count, expected, own_sum, total in rows:
        group = source if registry is None else registry
        if n == 1:
            found[group] = {
                "payments": count,
                "expected": str(as_money(expected)),
                "entries": str(as_money(own_sum)),
                "elsewhere": str(as_money(total - own_sum)),
                "examples": [],
            }
        found[group]["examples"].append(payment)
    return found


# --- bill runs --------------------------------------------------------------------------------


def bill_runs(tenant: Any) -> list[Finding]:
    """Every run, finished or not, whose done chunks say they posted other entries than the
    ledger holds for it. A chunk is marked done in the transaction that posts its entries,
    and both sides are summed in one statement, so a run in progress is checked too."""
    runs = BillRun.objects.filter(tenant=tenant).values_list("pk").order_by()
    chunks = (
        BillRunChunk.objects.filter(run__tenant=tenant, status=BillRunChunk.Status.DONE)
        .values_list("run_id")
        .annotate(entries=Sum("entries"), amount=Sum("amount"))
        .order_by()
    )
    posted = (
        LedgerEntry.objects.filter(tenant=tenant, run_id__isnull=False)
        .values_list("run_id")
        .annotate(entries=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    (runs_sql, p1), (chunks_sql, p2), (posted_sql, p3) = (
        q.query.sql_with_params() for q in (runs, chunks, posted)
    )
    sql = (
        "SELECT r.pk, COALESCE(c.entries, 0), COALESCE(c.amount, 0), "  # noqa: S608
        "COALESCE(e.entries, 0), COALESCE(e.amount, 0) "
        f"FROM ({runs_sql}) r LEFT JOIN ({chunks_sql}) c ON c.run_id = r.pk "
        f"LEFT JOIN ({posted_sql}) e ON e.run_id = r.pk "
        "WHERE COALESCE(c.entries, 0) <> COALESCE(e.entries, 0) "
        "OR ABS(COALESCE(c.amount, 0) - COALESCE(e.amount, 0)) >= 0.005 ORDER BY r.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*p1, *p2, *p3))
        rows = cursor.fetchall()
    names = BillRun.objects.in_bulk([row[0] for row in rows])
    return [
        Finding(
            ToDo.Kind.BILL_RUN,
            str(run),
            {
                "run": str(names[run]),
                "chunks": [int(entries), str(as_money(amount))],
                "ledger": [int(found), str(as_money(found_amount))],
            },
            {"bill_run": run},
        )
        for run, entries, amount, found, found_amount in rows
    ]


# --- bank statements --------------------------------------------------------------------------

STATEMENT_BATCH = 500
"""Registries whose payment orders are looked up at once (`matches`: a condition per order)."""


STATEMENT_GRACE_DAYS = 3
"""Days after a payment order's date by which its credit is in the bank's statement."""


def statements(tenant: Any) -> list[Finding]:
    """Each payment order whose bank statement credits another amount than its registries
    say was transferred (`kvit.registries.reconciliation`), and each order still awaited
    although the organisation's statements already reach `STATEMENT_GRACE_DAYS` past its
    date: one finding per order, linked to its first registry."""
    registries = list(
        Registry.objects.filter(tenant=tenant, status=Registry.Status.IMPORTED)
        .exclude(order_number="")
        .order_by("pk")
    )
    reach = BankStatement.objects.filter(tenant=tenant).aggregate(until=Max("ends_on"))["until"]
    found: dict[str, Finding] = {}
    for start in range(0, len(registries), STATEMENT_BATCH):
        batch = registries[start : start + STATEMENT_BATCH]
        checked = matches(batch)
        for registry in batch:
            match = checked[registry.pk]
            overdue = (
                match.check is Check.AWAITED
                and reach is not None
                and registry.order_date is not None
                and registry.order_date + timedelta(STATEMENT_GRACE_DAYS) <= reach
            )
            if match.check is not Check.DIFFERS and not overdue:
                continue
            order = f"{registry.order_number} / {registry.order_date} / {registry.bank_inn or '-'}"
            details = {
                "order": registry.order_number,
                "dated": str(registry.order_date),
                "credited": [str(credit.amount) for credit in match.credits],
                "transferred": str(match.transferred),
            }
            if overdue:
                details["until"] = str(reach)
            found.setdefault(
                order, Finding(ToDo.Kind.STATEMENT, order, details, {"registry": registry.pk})
            )
    return list(found.values())


CHECKS: tuple[Callable[[Any], list[Finding]], ...] = (balances, payments, bill_runs, statements)
