"""Input changes of one account made at the same moment by two processes are billed one
after the other (R15; PostgreSQL): each locks the accounts it rates before it reads what
stands, so the second diffs against the first's entries and with its inputs."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from kvit.billing.actions import bill
from kvit.ledger.actions import close_period, open_period
from kvit.people.actions import register_resident
from kvit.people.models import Person
from kvit.tariffs.actions import save_tariff
from kvit.tariffs.models import Tariff
from kvit.tenants.models import Tenant
from realtime_world import JULY, JUNE, assert_current, billed, day, water_by_norm

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_append_only"),
]


def _correct_tariff(tariff_id: int) -> None:
    tariff = Tariff.objects.get(pk=tariff_id)
    tariff.value = Decimal("50.000000")
    save_tariff(tariff)


def _move_in(person_id: int) -> None:
    person = Person.objects.get(pk=person_id)
    register_resident(person.tenant.account_set.get(), person, day(6, 16))


def _at_the_barrier(act: Any, pk: int, barrier: Any, results: Any) -> None:
    connections.close_all()
    try:
        connection.ensure_connection()
        barrier.wait(30)
        act(pk)
        results.put("done")
    except Exception as error:  # reported to the parent, which fails the test
        results.put(f"error: {error!r}")
    finally:
        connections.close_all()


@pytest.mark.parametrize("attempt", range(3))
def test_a_tariff_correction_and_a_move_in_at_once(make: Any, attempt: int) -> None:
    account = water_by_norm(make)
    billed(account.tenant)
    tariff = Tariff.objects.get(tenant=account.tenant)
    newcomer = make.person(account.tenant)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    connections.close_all()
    children = [
        context.Process(target=_at_the_barrier, args=(act, pk, barrier, results))
        for act, pk in ((_correct_tariff, tariff.pk), (_move_in, newcomer.pk))
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    assert [results.get(timeout=5) for _ in children] == ["done", "done"]
    # neither change was lost in the other's diff: the ledger is what both together make
    assert_current(account.tenant)


def _bill_july(tenant_id: int) -> None:
    bill(Tenant.objects.get(pk=tenant_id), JULY, today=JULY.end)


@pytest.mark.parametrize("attempt", range(3))
def test_a_bill_run_and_a_move_in_at_once(make: Any, attempt: int) -> None:
    """A bill-run chunk locks its accounts too: July's run and a move-in into July at the
    same moment never both post July's charges."""
    account = water_by_norm(make)
    tenant = account.tenant
    open_period(tenant, JUNE.first_day)
    bill(tenant, JUNE, today=JUNE.end)
    open_period(tenant, JULY.first_day)
    close_period(tenant, JUNE.first_day, None)
    newcomer = make.person(tenant)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    connections.close_all()
    children = [
        context.Process(target=_at_the_barrier, args=(act, pk, barrier, results))
        for act, pk in ((_bill_july, tenant.pk), (_move_in, newcomer.pk))
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    assert [results.get(timeout=5) for _ in children] == ["done", "done"]
    assert_current(tenant)
