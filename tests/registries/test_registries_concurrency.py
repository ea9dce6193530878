"""Registries imported again and again, and at the same moment by several processes (R1;
PostgreSQL).

Processes are forked with their own connection and wait on a barrier, then import at once.
Whatever the order, each line is posted exactly once: the registry's content hash is unique
among imported registries, each payment's key is unique, and one organisation's imports
take their turn, so that two registries never wait for each other in a circle.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Count, Sum
from registry_bank import Bank, Pay, make_bank, sberbank

from kvit.controls import checks
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance_mismatches
from kvit.payments.models import Payment
from kvit.registries import actions
from kvit.registries.actions import import_registry
from kvit.registries.models import Registry, RegistryLine
from kvit.tenants.models import Tenant

PROCESSES = 8
IMPORTS = 20
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_append_only"),
]


def _import(tenant_id: int, files: list[bytes], barrier: Any, results: Any) -> None:
    """In a child: a connection of its own, then all together past the barrier."""
    connections.close_all()
    try:
        connection.ensure_connection()
        tenant = Tenant.objects.get(pk=tenant_id)
        barrier.wait(60)
        for content in files:
            imported = import_registry(tenant, content, "r.txt", "sberbank")
            registry = imported.registry
            results.put(("again" if imported.already_imported else registry.status, registry.pk))
    except Exception as error:  # reported to the parent, which fails the test
        results.put((f"error: {error!r}", None))
    finally:
        connections.close_all()


def at_once(tenant: Tenant, files_per_process: list[list[bytes]]) -> list[tuple[str, int]]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(files_per_process))
    results = context.Queue()
    connections.close_all()  # the children must not share the parent's connection
    children = [
        context.Process(target=_import, args=(tenant.pk, files, barrier, results))
        for files in files_per_process
    ]
    for child in children:
        child.start()
    found = [results.get(timeout=300) for files in files_per_process for _ in files]
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    return found


def posted_once(bank: Bank, lines: int, total: Decimal) -> None:
    """Every line posted exactly once: one payment per operation, one posted registry line
    per payment, and the ledger credited with the control total to the kopeck."""
    payments = Payment.objects.filter(tenant=bank.tenant)
    assert payments.count() == lines
    assert payments.values("external_id").distinct().count() == lines
    posted = RegistryLine.objects.filter(outcome="posted")
    assert posted.count() == lines
    assert posted.values("payment").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    credited = LedgerEntry.objects.filter(tenant=bank.tenant, kind="payment").aggregate(
        total=Sum("amount")
    )["total"]
    assert -credited == total
    assert balance_mismatches(bank.tenant) == []
    assert checks.find(bank.tenant) == []  # R27: registries and payments add up


@pytest.fixture
def bank(make: Any) -> Bank:
    return make_bank(make, accounts=20)


def test_a_registry_imported_again_and_again_and_by_eight_processes_posts_once(
    bank: Bank,
) -> None:
    pays = bank.pays(40)
    content = sberbank(pays)
    first = import_registry(bank.tenant, content, "r.txt", "sberbank")
    assert first.registry.status == "imported"
    for _ in range(99):
        again = import_registry(bank.tenant, content, "r.txt", "sberbank")
        assert again.already_imported and again.registry.pk == first.registry.pk
    posted_once(bank, 40, first.registry.footer_amount)

    # Another registry, 8 processes × 20 imports of it at the same moment.
    more = [Pay(f"MORE-{n}", pay.account, "50.00") for n, pay in enumerate(pays)]
    results = at_once(bank.tenant, [[sberbank(more, order="4712")] * IMPORTS] * PROCESSES)
    outcomes = Counter(outcome for outcome, _pk in results)
    assert outcomes == {"imported": 1, "again": PROCESSES * IMPORTS - 1}, outcomes
    assert len({pk for _outcome, pk in results}) == 1  # every replay names the one imported
    assert Registry.objects.count() == 2
    posted_once(bank, 80, Decimal("4000.00") + Decimal("2000.00"))


def test_overlapping_registries_imported_at_once_post_each_line_once(
    bank: Bank, monkeypatch: Any
) -> None:
    """8 different files holding the same 60 lines, in other orders and cut differently, and
    each with lines of its own, posted a few lines at a time: no line twice, no deadlock
    (each import holds its payments and accounts until it commits), every file imported."""
    monkeypatch.setattr(actions, "BATCH", 7)
    shared = bank.pays(60)
    rng = random.Random(7)
    files, ops, amounts = [], set(), Decimal("0.00")
    for n in range(PROCESSES):
        own = [Pay(f"OWN-{n}-{k}", pay.account, "10.00") for k, pay in enumerate(shared[:5])]
        lines = rng.sample(shared, 40 + n) + own
        files.append([sberbank(lines, order=str(n))])
        for pay in lines:
            if pay.op not in ops:
                ops.add(pay.op)
                amounts += Decimal(pay.amount)
    results = at_once(bank.tenant, files)
    assert [outcome for outcome, _pk in results] == ["imported"] * PROCESSES
    assert set(Payment.objects.values_list("external_id", flat=True)) == ops
    duplicates = RegistryLine.objects.filter(outcome="duplicate").count()
    assert duplicates == sum(40 + n + 5 for n in range(PROCESSES)) - len(ops)
    posted_once(bank, len(ops), amounts)


def analysed(table: str) -> tuple[int, float]:
    """How many times `table` was analysed by a command (autovacuum's own are counted
    apart), and the rows the planner now counts in it."""
    count, _vacuums, rows = _statistics(table)
    return count, rows


def vacuumed(table: str) -> int:
    """How many times `table` was vacuumed by a command."""
    return _statistics(table)[1]


def _statistics(table: str) -> tuple[int, int, float]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT s.analyze_count, s.vacuum_count, c.reltuples FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = %s",
            [table],
        )
        return cursor.fetchone()


def test_a_large_import_refreshes_the_planners_statistics(bank: Bank, monkeypatch: Any) -> None:
    """From `ANALYZE_AFTER` new rows the import analyses the table once it has committed
    (and vacuums the payments): the next import's look-up of replays is planned for the
    table as it now is. A registry sent again adds lines, not payments."""
    before, _rows = analysed("payments_payment")
    vacuums = vacuumed("payments_payment")
    lines_before, _rows = analysed("registries_registryline")
    monkeypatch.setattr(actions, "ANALYZE_AFTER", 30)
    import_registry(bank.tenant, sberbank(bank.pays(29)), "small.txt", "sberbank")
    assert analysed("payments_payment")[0] == before  # below the threshold: autovacuum's
    assert analysed("registries_registryline")[0] == lines_before
    import_registry(bank.tenant, sberbank(bank.pays(30), order="2"), "again.txt", "sberbank")
    assert Payment.objects.count() == 30  # one new, 29 replays
    assert (analysed("payments_payment")[0], vacuumed("payments_payment")) == (before, vacuums)
    assert analysed("registries_registryline")[0] == lines_before + 1
    import_registry(bank.tenant, sberbank(bank.pays(60)[30:]), "large.txt", "sberbank")
    assert analysed("payments_payment") == (before + 1, Payment.objects.count())
    assert vacuumed("payments_payment") == vacuums + 1  # its row marks, with the statistics
    assert analysed("registries_registryline")[0] == lines_before + 2
