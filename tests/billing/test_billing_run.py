"""The bill run: refusals, posting, idempotence, skipped accounts, resuming after a kill."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from kvit.billing import actions, posting
from kvit.billing.actions import BillRunRefused, bill, recalculate, start_run
from kvit.billing.models import BillRun, BillRunChunk
from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance

JULY = Period(2025, 7)
TODAY = date(2025, 8, 5)


def housing(make: Any, accounts: int = 3, code: str = "") -> Any:
    """An organisation whose accounts pay maintenance per m² and metered cold water."""
    tenant = make.tenant(**({"code": code} if code else {}))
    maintenance = make.service(
        tenant, code="maintenance", name="Maintenance", unit="m2", method="per_area", resource=""
    )
    make.tariff(maintenance, value=Decimal("32.150000"))
    water = make.service(tenant, code="cold_water", name="Cold water")
    make.tariff(water, value=Decimal("45.120000"))
    provider = make.provider(tenant, name="Vodokanal")
    for index in range(accounts):
        building = make.building(tenant)  # one each: every account may be a chunk of its own
        premise = make.premise(building, number=str(index + 1), area=Decimal(40 + index))
        account = make.account(premise, number=f"{index + 1:06d}")
        make.account_service(account, maintenance, provider)
        make.account_service(account, water, provider)
        meter = make.meter(premise, serial_number=f"CW-{index}")
        make.reading(meter, taken_on=date(2025, 6, 20), value=Decimal("100.000"))
        make.reading(meter, taken_on=date(2025, 7, 20), value=Decimal(105 + index))
    open_period(tenant, JULY.first_day)
    return tenant


def ledger_of(tenant: Any) -> list[tuple[Any, ...]]:
    """The tenant's entries in tenant-independent terms, sorted."""
    return sorted(
        LedgerEntry.objects.filter(tenant=tenant).values_list(
            "account__number", "service__code", "provider__name", "period", "kind", "amount",
            "quantity", "rule", "zone", "tier", "span_from", "span_to",
        )
    )  # fmt: skip


@pytest.mark.django_db
class TestRun:
    def test_posts_every_account_and_sums_up(self, make: Any) -> None:
        tenant = housing(make)
        summary = bill(tenant, JULY, today=TODAY)
        assert summary.run.status == BillRun.Status.COMPLETED
        assert (summary.run.accounts, summary.entries, summary.skipped) == (3, 6, [])
        # 40 m² × 32.15 = 1286.00; 5 m³ × 45.12 = 225.60
        first = LedgerEntry.objects.filter(account__number="000001")
        assert sorted(first.values_list("amount", flat=True)) == [
            Decimal("225.60"),
            Decimal("1286.00"),
        ]
        assert balance(first[0].account) == Decimal("1511.60")
        assert summary.amount == sum(
            LedgerEntry.objects.filter(tenant=tenant).values_list("amount", flat=True),
            Decimal(0),
        )

    def test_a_second_run_posts_nothing(self, make: Any) -> None:
        tenant = housing(make)
        bill(tenant, JULY, today=TODAY)
        before = ledger_of(tenant)
        again = bill(tenant, JULY, today=TODAY)
        assert again.entries == 0 and again.amount == 0
        assert ledger_of(tenant) == before

    def test_a_late_reading_posts_only_the_difference(self, make: Any) -> None:
        tenant = housing(make, accounts=1)
        bill(tenant, JULY, today=TODAY)
        meter = tenant.meter_set.get()
        make.reading(meter, taken_on=date(2025, 7, 24), value=Decimal("106.000"))
        again = bill(tenant, JULY, today=TODAY)
        assert again.entries == 1
        assert again.amount == Decimal("45.12")  # one more m³
        assert balance(meter.premise.accounts.get()) == Decimal("1286.00") + Decimal("270.72")

    def test_accounts_with_errors_are_skipped_and_reported(self, make: Any) -> None:
        tenant = housing(make)
        tenant.meter_set.get(serial_number="CW-1").readings.all().delete()
        summary = bill(tenant, JULY, today=TODAY)
        assert [s["account"] for s in summary.skipped] == ["000002"]
        assert summary.skipped[0]["issues"][0]["code"] == "no_start_reading"
        assert not LedgerEntry.objects.filter(account__number="000002").exists()
        assert LedgerEntry.objects.filter(tenant=tenant).count() == 4

    def test_chunks_follow_buildings(self, make: Any) -> None:
        tenant = housing(make, accounts=5)
        run, _ = start_run(tenant, JULY, chunk_size=2, today=TODAY)
        assert [len(c.account_ids) for c in run.chunks.order_by("index")] == [2, 2, 1]
        # a building is never split, however small the chunk size
        assert list(actions.chunked([(1, None), (2, None), (3, 7), (4, 7), (5, 8)], 1)) == [
            [1],
            [2],
            [3, 4],
            [5],
        ]


@pytest.mark.django_db
class TestRefused:
    def test_a_period_not_begun(self, make: Any) -> None:
        tenant = housing(make)
        with pytest.raises(BillRunRefused, match="has not begun"):
            bill(tenant, JULY, today=date(2025, 6, 30))

    def test_a_period_never_opened(self, make: Any) -> None:
        tenant = housing(make)
        with pytest.raises(BillRunRefused, match="not open"):
            bill(tenant, Period(2025, 6), today=TODAY)

    def test_a_closed_period(self, make: Any) -> None:
        tenant = housing(make)
        close_period(tenant, JULY.first_day, make.user(tenant))
        with pytest.raises(BillRunRefused, match="closed"):
            bill(tenant, JULY, today=TODAY)

    def test_a_day_without_a_tariff(self, make: Any) -> None:
        tenant = housing(make)
        tariff = tenant.service_set.get(code="cold_water").tariffs.get()
        # history is append-only for operators, but a test may rewrite a row
        type(tariff).objects.filter(pk=tariff.pk).update(effective_from=date(2025, 7, 10))
        with pytest.raises(BillRunRefused, match=r"Cold water \(01\.07–09\.07\.2025\)"):
            bill(tenant, JULY, today=TODAY)
        assert not BillRun.objects.exists()

    def test_the_tariff_check_reads_each_service_and_group_once(
        self, make: Any, django_assert_num_queries: Any
    ) -> None:
        tenant = housing(make, accounts=3)
        services = dict(tenant.service_set.values_list("code", "pk"))
        with django_assert_num_queries(1) as captured:
            used = actions.used_tariffs(actions._scope(tenant, None), JULY)
        assert used == {(services["maintenance"], ""), (services["cold_water"], "")}
        # one row per pair from the database too, not one per connection (6 here)
        assert "ORDER BY" not in captured.captured_queries[0]["sql"]

    def test_while_another_run_is_alive(self, make: Any) -> None:
        tenant = housing(make)
        start_run(tenant, JULY, today=TODAY)
        with pytest.raises(BillRunRefused, match="in progress"):
            bill(tenant, JULY, today=TODAY)

    def test_an_interrupted_run_of_another_period_must_be_finished_first(self, make: Any) -> None:
        tenant = housing(make)
        open_period(tenant, date(2025, 8, 1))
        run, _ = start_run(tenant, JULY, today=TODAY)
        BillRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
        with pytest.raises(BillRunRefused, match="2025-07"):
            bill(tenant, Period(2025, 8), today=date(2025, 9, 1))


@pytest.mark.django_db
def test_an_interrupted_run_is_resumed(make: Any) -> None:
    tenant = housing(make, accounts=4)
    golden_tenant = housing(make, accounts=4)
    bill(golden_tenant, JULY, today=TODAY)
    run, _ = start_run(tenant, JULY, chunk_size=1, today=TODAY)
    BillRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    summary = bill(tenant, JULY, today=TODAY)
    assert summary.resumed and summary.run.pk == run.pk
    assert ledger_of(tenant) == ledger_of(golden_tenant)


def after_writing(chunk: int, act: Callable[[], None]) -> Callable[..., Any]:
    """`posting.write` that does `act` once the `chunk`-th chunk of this process has written
    its entries, inside its transaction: before the chunk is marked done and committed."""
    real = posting.write
    count = [0]

    def write(*args: Any, **kwargs: Any) -> Any:
        written = real(*args, **kwargs)
        count[0] += 1
        if count[0] == chunk:
            act()
        return written

    return write


def _bill_and_die(tenant_id: int, after: int) -> None:
    """Bill in a child process and SIGKILL it inside the transaction of chunk `after`."""
    from kvit.tenants.models import Tenant

    die = partial(os.kill, os.getpid(), signal.SIGKILL)
    posting.write = after_writing(after, die)  # type: ignore[assignment]
    bill(Tenant.objects.get(pk=tenant_id), JULY, chunk_size=1, today=TODAY)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_a_worker_killed_mid_chunk_and_started_again_gives_the_same_ledger(make: Any) -> None:
    golden = housing(make, accounts=6, code="golden")
    tenant = housing(make, accounts=6, code="killed")
    bill(golden, JULY, today=TODAY)
    connections.close_all()  # the child opens its own connection
    child = multiprocessing.get_context("fork").Process(target=_bill_and_die, args=(tenant.pk, 3))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    run = BillRun.objects.get(tenant=tenant)
    assert run.status == BillRun.Status.RUNNING
    assert run.chunks.filter(status=BillRunChunk.Status.DONE).count() == 2  # the third rolled back
    BillRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    BillRunChunk.objects.filter(run=run).update(finished_at=timezone.now() - timedelta(hours=1))
    summary = bill(tenant, JULY, today=TODAY)
    assert summary.resumed and summary.run.status == BillRun.Status.COMPLETED
    assert ledger_of(tenant) == ledger_of(golden)


@pytest.mark.django_db
class TestRecalculate:
    def test_a_late_reading_for_an_open_period_posts_the_difference_in_it(self, make: Any) -> None:
        tenant = housing(make, accounts=1)
        bill(tenant, JULY, today=TODAY)
        meter = tenant.meter_set.get()
        account = meter.premise.accounts.get()
        make.reading(meter, taken_on=date(2025, 7, 24), value=Decimal("106.000"))
        (outcome,) = recalculate(account, [JULY])
        assert (outcome.entries, outcome.amount) == (1, Decimal("45.12"))
        assert recalculate(account, [JULY])[0].entries == 0

    def test_a_closed_period_is_corrected_in_the_open_one_once(self, make: Any) -> None:
        tenant = housing(make, accounts=1)
        bill(tenant, JULY, today=TODAY)
        open_period(tenant, date(2025, 8, 1))
        close_period(tenant, JULY.first_day, make.user(tenant))
        meter = tenant.meter_set.get()
        account = meter.premise.accounts.get()
        make.reading(meter, taken_on=date(2025, 7, 24), value=Decimal("106.000"))
        (outcome,) = recalculate(account, [JULY], reason="late_reading")
        assert (outcome.entries, outcome.amount) == (1, Decimal("45.12"))
        entry = LedgerEntry.objects.get(kind="recalculation")
        assert (entry.period, entry.corrects_period) == (date(2025, 8, 1), JULY.first_day)
        assert entry.explanation["reason"] == "late_reading"
        assert recalculate(account, [JULY])[0].entries == 0
        assert balance(account) == Decimal("1286.00") + Decimal("270.72")

    def test_nothing_open_to_post_into(self, make: Any) -> None:
        tenant = housing(make, accounts=1)
        close_period(tenant, JULY.first_day, make.user(tenant))
        account = tenant.account_set.get()
        with pytest.raises(BillRunRefused, match="No open period"):
            recalculate(account, [JULY])


def _bill_at_the_barrier(tenant_id: int, barrier: Any, results: Any) -> None:
    """One of two processes starting the same run at the same moment (R9)."""
    from kvit.tenants.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    barrier.wait(30)
    try:
        summary = bill(tenant, JULY, chunk_size=1, today=TODAY)
    except BillRunRefused as refused:
        results.put(("refused", str(refused)))
    else:
        results.put(("billed", summary.entries))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_the_same_run_started_twice_at_once_posts_once(make: Any) -> None:
    golden = housing(make, accounts=4, code="golden")
    tenant = housing(make, accounts=4, code="twice")
    bill(golden, JULY, today=TODAY)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    children = [
        context.Process(target=_bill_at_the_barrier, args=(tenant.pk, barrier, results))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in children]
    # the second start was refused while the first was alive, or came after it and found
    # nothing to post: either way everything was posted once
    assert sum(posted for what, posted in outcomes if what == "billed") == 8
    assert all(what == "billed" or "in progress" in str(why) for what, why in outcomes)
    assert ledger_of(tenant) == ledger_of(golden)
