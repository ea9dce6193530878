"""The reconciliation checks (reliability R27): what must add up, asked of the database.

* **balances**: each cached balance is the sum of its ledger entries (`balance_mismatches`);
* **registries**: each imported registry's counts of posted and suspended lines and their
  amounts are what its lines' payments hold, and each of those payments has on the ledger
  exactly what its status says — its amount credited while it stands on an account, nothing
  while it is in suspense, reversed or refunded;
* **bill runs**: each finished run's chunks posted, by their counts, the entries the ledger
  holds for the run.

Each check reads a whole organisation in a few aggregate queries (a join of lines, payments
and entries made by the database, never a query per registry or account) and returns a
`Finding` per subject that does not add up; what is fine returns nothing. Money is compared
to the kopeck (SQLite sums decimals as floats).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, Count, F, Sum, Value, When
from django.db.models.functions import Cast

from kvit.accounts.models import Account
from kvit.billing.models import BillRun, BillRunChunk
from kvit.controls.models import ToDo
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import ReversedAs, as_money, balance_mismatches
from kvit.payments.mapping import PAYMENT_SOURCE
from kvit.payments.models import Payment
from kvit.providers.models import Provider
from kvit.registries.models import Registry, RegistryLine
from kvit.tariffs.models import Service

ZERO = Decimal("0.00")
MONEY = LedgerEntry._meta.get_field("amount")
EXAMPLES = 10
"""Payments named in a registry's finding whose ledger differs: the first ones, by id."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A subject that does not add up: `details` holds the numbers (JSON: money as text)."""

    kind: ToDo.Kind
    subject: str
    details: dict[str, Any]
    links: dict[str, int] = field(default_factory=dict)  # account, registry, bill_run → id


def find(tenant: Any) -> list[Finding]:
    """Every check's findings for `tenant`."""
    return [*balances(tenant), *registries(tenant), *bill_runs(tenant)]


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


# --- registries -------------------------------------------------------------------------------

# The lines whose payment this registry recorded (a duplicate's or a conflict's payment is
# an earlier one's).
_OWN = (RegistryLine.Outcome.POSTED, RegistryLine.Outcome.SUSPENSE)
_COUNTERS = {
    RegistryLine.Outcome.POSTED: ("posted", "posted_amount"),
    RegistryLine.Outcome.SUSPENSE: ("suspense", "suspense_amount"),
}


def registries(tenant: Any) -> list[Finding]:
    # The registries are listed first and only they are checked: one imported while the
    # lines are summed is left to the next run, not reported as lines without their counts.
    imported = list(
        Registry.objects.filter(tenant=tenant, status=Registry.Status.IMPORTED).order_by("pk")
    )
    own = RegistryLine.objects.filter(
        registry__tenant=tenant, registry__status=Registry.Status.IMPORTED, outcome__in=_OWN
    )
    counted = {
        (registry, outcome): (lines, as_money(amount or 0))
        for registry, outcome, lines, amount in own.values_list("registry_id", "outcome")
        .annotate(lines=Count("pk"), amount=Sum("payment__amount"))
        .order_by()
    }
    ledger = _ledger_differences(tenant, own)
    found = []
    for registry in imported:
        details: dict[str, Any] = {}
        for outcome, (count_field, amount_field) in _COUNTERS.items():
            lines, amount = counted.get((registry.pk, outcome), (0, ZERO))
            said = (getattr(registry, count_field), getattr(registry, amount_field))
            if (lines, amount) != said:
                details[outcome] = {
                    "registry": [said[0], str(said[1])],
                    "lines": [lines, str(amount)],
                }
        if registry.pk in ledger:
            details["ledger"] = ledger[registry.pk]
        if details:
            details["name"] = str(registry)
            found.append(
                Finding(ToDo.Kind.REGISTRY, str(registry.pk), details, {"registry": registry.pk})
            )
    return found


def _ledger_differences(tenant: Any, own: Any) -> dict[int, dict[str, Any]]:
    """Registry → its payments whose ledger entries differ from what their status says: how
    many, what they should add up to and do, and the first `EXAMPLES` of them."""
    should = own.annotate(
        key=Cast("payment_id", CharField()),
        expected=Case(
            When(payment__status__in=Payment.ON_ACCOUNT, then=-F("payment__amount")),
            default=Value(ZERO),
            output_field=MONEY,
        ),
    ).values_list("registry_id", "payment_id", "key", "expected")
    posted = (
        LedgerEntry.objects.filter(tenant=tenant, source_kind=PAYMENT_SOURCE)
        .annotate(line_kind=ReversedAs("kind"))
        .filter(line_kind=LedgerEntry.Kind.PAYMENT)  # its penalties' recalculations are not it
        .values_list("source_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    should_sql, should_params = should.query.sql_with_params()
    posted_sql, posted_params = posted.query.sql_with_params()
    # The database joins the payments to their entries by the entries' text source id.
    differing = (
        f"SELECT l.registry_id, l.payment_id, l.expected, COALESCE(p.total, 0) AS total "  # noqa: S608
        f"FROM ({should_sql}) l LEFT JOIN ({posted_sql}) p ON p.source_id = l.key "
        "WHERE ABS(l.expected - COALESCE(p.total, 0)) >= 0.005"
    )
    params = (*should_params, *posted_params)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT registry_id, COUNT(*), SUM(expected), SUM(total) "  # noqa: S608
            f"FROM ({differing}) d GROUP BY registry_id",
            params,
        )
        totals = cursor.fetchall()
        if not totals:
            return {}
        cursor.execute(
            "SELECT registry_id, payment_id FROM ("  # noqa: S608
            "SELECT registry_id, payment_id, ROW_NUMBER() OVER "
            f"(PARTITION BY registry_id ORDER BY payment_id) AS n FROM ({differing}) d"
            ") e WHERE n <= %s ORDER BY registry_id, payment_id",
            (*params, EXAMPLES),
        )
        examples: dict[int, list[int]] = defaultdict(list)
        for registry, payment in cursor.fetchall():
            examples[registry].append(payment)
    return {
        registry: {
            "payments": count,
            "expected": str(as_money(expected)),
            "entries": str(as_money(total)),
            "examples": examples.get(registry, []),
        }
        for registry, count, expected, total in totals
    }


# --- bill runs --------------------------------------------------------------------------------


def bill_runs(tenant: Any) -> list[Finding]:
    # Listed first, as the registries are: a run completed meanwhile is left to the next check.
    completed = BillRun.objects.filter(tenant=tenant, status=BillRun.Status.COMPLETED)
    runs = list(completed.order_by("pk"))
    chunks = {
        run: (entries or 0, as_money(amount or 0))
        for run, entries, amount in BillRunChunk.objects.filter(run__in=completed)
        .values_list("run_id")
        .annotate(entries=Sum("entries"), amount=Sum("amount"))
        .order_by()
    }
    posted = {
        run: (entries, as_money(amount))
        for run, entries, amount in LedgerEntry.objects.filter(tenant=tenant, run_id__isnull=False)
        .values_list("run_id")
        .annotate(entries=Count("pk"), amount=Sum("amount"))
        .order_by()
    }
    found = []
    for run in runs:
        said = chunks.get(run.pk, (0, ZERO))
        holds = posted.get(run.pk, (0, ZERO))
        if said != holds:
            found.append(
                Finding(
                    ToDo.Kind.BILL_RUN,
                    str(run.pk),
                    {
                        "run": str(run),
                        "chunks": [said[0], str(said[1])],
                        "ledger": [holds[0], str(holds[1])],
                    },
                    {"bill_run": run.pk},
                )
            )
    return found
