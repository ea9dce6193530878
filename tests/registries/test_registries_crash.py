"""An import killed half-way leaves nothing visible, and importing the file again gives
exactly the ledger of one clean import (R3).

A child process imports a registry a few lines per batch; when it reaches a line picked by
the seed it tells the parent, which kills it with SIGKILL in the middle of its transaction
(some batches posted, the rest not). The file is then imported again. A second,
identical organisation imports the same file once without interruption: the two ledgers,
written with account numbers and operation numbers instead of ids, must be equal.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from typing import Any

import pytest
from django.db import connection, connections
from registry_bank import Bank, make_bank, sberbank

from kvit.controls import checks
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance_mismatches
from kvit.payments.models import Payment
from kvit.registries import actions
from kvit.registries.actions import import_registry
from kvit.registries.models import Registry, RegistryLine
from kvit.tenants.models import Tenant

LINES = 30
BATCH = 4
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("purge_append_only")]


def _import_until(tenant_id: int, content: bytes, stop_at: int, told: Any) -> None:
    """In a child: import, and at line `stop_at` tell the parent and wait to be killed."""
    connections.close_all()
    connection.ensure_connection()

    def progress(done: int, total: int) -> None:
        if done >= stop_at:
            told.put(done)
            signal.pause()  # mid-transaction, until SIGKILL

    import_registry(
        Tenant.objects.get(pk=tenant_id), content, "r.txt", "sberbank", progress=progress
    )
    told.put("finished")  # not reached: the test fails on it


def killed_mid_file(tenant: Tenant, content: bytes, stop_at: int) -> int:
    context = multiprocessing.get_context("fork")
    told = context.Queue()
    connections.close_all()
    child = context.Process(target=_import_until, args=(tenant.pk, content, stop_at, told))
    child.start()
    reached = told.get(timeout=120)
    assert isinstance(reached, int), reached
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join(30)
    assert child.exitcode == -signal.SIGKILL
    return reached


def ledger(tenant: Tenant) -> list[tuple[Any, ...]]:
    """The tenant's ledger without ids: sorted rows a clean import can be compared with."""
    operations = dict(Payment.objects.filter(tenant=tenant).values_list("pk", "external_id"))
    rows = LedgerEntry.objects.filter(tenant=tenant).values_list(
        "account__number",
        "provider__name",
        "service__code",
        "period",
        "corrects_period",
        "posted_on",
        "kind",
        "rule",
        "amount",
        "source_kind",
        "source_id",
    )
    return sorted(
        (*row[:-1], operations.get(int(row[-1])) if row[-2] == "payment" else row[-1])
        for row in rows
    )


def payments(tenant: Tenant) -> list[tuple[Any, ...]]:
    return sorted(
        Payment.objects.filter(tenant=tenant).values_list(
            "external_id", "account__number", "amount", "fee", "status", "paid_at"
        )
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_import_killed_mid_file_and_run_again_equals_one_clean_import(
    make: Any, seed: int, monkeypatch: Any
) -> None:
    monkeypatch.setattr(actions, "BATCH", BATCH)
    interrupted: Bank = make_bank(make, accounts=6)
    clean: Bank = make_bank(make, accounts=6)
    content = sberbank(interrupted.pays(LINES))
    golden = import_registry(clean.tenant, content, "r.txt", "sberbank").registry
    assert golden.posted == LINES

    stop_at = random.Random(seed).randrange(BATCH + 1, LINES - BATCH)
    reached = killed_mid_file(interrupted.tenant, content, stop_at)
    assert BATCH < reached < LINES  # some batches were posted inside the killed transaction
    # Nothing of the killed import is visible: no payment, entry, line or registry.
    assert not Payment.objects.filter(tenant=interrupted.tenant).exists()
    assert not LedgerEntry.objects.filter(tenant=interrupted.tenant, kind="payment").exists()
    assert not Registry.objects.filter(tenant=interrupted.tenant).exists()

    rerun = import_registry(interrupted.tenant, content, "r.txt", "sberbank")
    assert not rerun.already_imported
    registry = rerun.registry
    assert (registry.status, registry.posted) == ("imported", LINES)
    assert RegistryLine.objects.filter(registry=registry).count() == LINES
    assert ledger(interrupted.tenant) == ledger(clean.tenant)
    assert payments(interrupted.tenant) == payments(clean.tenant)
    assert sorted(Registry.objects.values_list("status", flat=True)) == ["imported"] * 2
    assert balance_mismatches(interrupted.tenant) == []
    assert checks.find(interrupted.tenant) == []  # R27: registries and payments add up
