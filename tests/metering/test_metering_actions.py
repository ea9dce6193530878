"""Recording a reading bills it at once: the balance read afterwards is current."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kvit.billing.actions import bill
from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance
from kvit.metering.actions import reading_period, record_reading, record_readings
from kvit.metering.models import Reading
from realtime_world import water_by_meter

JULY = Period(2025, 7)


@pytest.mark.parametrize(
    ("taken_on", "period"),
    [
        (date(2025, 7, 25), "2025-07"),
        (date(2025, 7, 26), "2025-08"),
        (date(2025, 12, 31), "2026-01"),
    ],
)
def test_a_reading_belongs_to_the_window_up_to_the_cutoff(taken_on: date, period: str) -> None:
    assert reading_period(taken_on, 25) == Period.parse(period)


def metered(make: Any) -> Any:
    account, meter = water_by_meter(make)
    make.reading(meter, taken_on=date(2025, 6, 20), value=Decimal("100.000"))
    open_period(account.tenant, JULY.first_day)
    return account, meter


@pytest.mark.django_db
def test_the_open_period_follows_a_new_reading_at_once(make: Any) -> None:
    account, meter = metered(make)
    record_reading(meter, Decimal("105.000"), date(2025, 7, 20))
    assert balance(account) == Decimal("225.60")  # 5 m³ × 45.12, no bill run needed
    record_reading(meter, Decimal("106.000"), date(2025, 7, 24))
    assert balance(account) == Decimal("270.72")
    assert bill(account.tenant, JULY, today=date(2025, 8, 1)).entries == 0  # already current


@pytest.mark.django_db
def test_a_late_reading_for_a_closed_period_is_a_recalculation_in_the_open_one(make: Any) -> None:
    account, meter = metered(make)
    record_reading(meter, Decimal("105.000"), date(2025, 7, 20))
    open_period(account.tenant, date(2025, 8, 1))
    close_period(account.tenant, JULY.first_day, make.user(account.tenant))
    record_reading(meter, Decimal("106.000"), date(2025, 7, 24))
    entry = LedgerEntry.objects.get(kind="recalculation")
    assert (entry.period, entry.corrects_period, entry.amount) == (
        date(2025, 8, 1),
        JULY.first_day,
        Decimal("45.12"),
    )
    assert entry.explanation["reason"] == "late_reading"


@pytest.mark.django_db
def test_a_reading_that_does_not_fit_the_meter_is_refused_and_nothing_posted(make: Any) -> None:
    _account, meter = metered(make)
    with pytest.raises(ValidationError, match="integer digits"):
        record_reading(meter, Decimal("100000.000"), date(2025, 7, 20))
    assert not LedgerEntry.objects.exists()
    assert meter.readings.count() == 1


# --- many readings at once (a registry's) ---------------------------------------------------


def metered_premises(make: Any, count: int) -> list[tuple[Any, Any]]:
    tenant = make.tenant()
    building = make.building(tenant)
    water = make.service(tenant, code="cold_water")
    make.tariff(water, value=Decimal("45.120000"))
    found = []
    for _ in range(count):
        premise = make.premise(building)
        account = make.account(premise)
        make.account_service(account, water)
        meter = make.meter(premise)
        make.reading(meter, taken_on=date(2025, 6, 20), value=Decimal("100.000"))
        found.append((account, meter))
    open_period(tenant, JULY.first_day)
    return found


@pytest.mark.django_db
def test_many_readings_recorded_at_once_bill_like_one_after_the_other(make: Any) -> None:
    (first, meter_1), (second, meter_2), (third, meter_3) = metered_premises(make, 3)
    results = record_readings(
        [
            Reading(meter=meter_1, zone="total", taken_on=date(2025, 7, 20), value=Decimal("105")),
            Reading(meter=meter_2, zone="total", taken_on=date(2025, 7, 20), value=Decimal("1e6")),
            Reading(meter=meter_3, zone="total", taken_on=date(2025, 7, 20), value=Decimal("102")),
        ],
        source=("registry", "7"),
    )
    assert results[0] is None and results[2] is None
    assert results[1] is not None and "integer digits" in results[1].messages[0]
    assert balance(first) == Decimal("225.60")  # 5 m³ × 45.12, as record_reading bills it
    assert balance(second) == Decimal("0.00")  # its reading was refused: nothing changed
    assert balance(third) == Decimal("90.24")
    assert meter_2.readings.count() == 1
    assert set(LedgerEntry.objects.values_list("source_kind", "source_id")) == {("registry", "7")}
    assert meter_1.readings.get(taken_on=date(2025, 7, 20)).history.count() == 1


@pytest.mark.django_db
def test_many_readings_cost_the_same_queries_as_a_few(make: Any) -> None:
    premises = metered_premises(make, 12)

    def recorded(pairs: list[tuple[Any, Any]], day: int) -> int:
        readings = [
            Reading(
                meter=meter, zone="total", taken_on=date(2025, 7, day), value=Decimal(101 + day)
            )
            for _account, meter in pairs
        ]
        with CaptureQueriesContext(connection) as captured:
            assert record_readings(readings) == [None] * len(readings)
        return len(captured)

    recorded(premises[:1], 9)  # reads the catalogue, which the next ones may reuse
    assert recorded(premises[1:3], 10) == recorded(premises[3:], 11)


@pytest.mark.django_db
def test_a_reading_reaches_its_premise_or_its_whole_building(make: Any) -> None:
    from kvit.metering.actions import READINGS

    tenant = make.tenant()
    building = make.building(tenant)
    flat, neighbour = make.premise(building), make.premise(building)
    first, second = make.account(flat), make.account(flat)
    other = make.account(neighbour)
    make.account(make.premise(make.building(tenant)))  # another building
    individual = make.reading(make.meter(flat))
    common = make.reading(make.meter(tenant=tenant, building=building, kind="common_house"))
    node = make.node(tenant)
    feeder = make.reading(
        make.meter(tenant=tenant, node=node, kind="feeder_head", resource="electricity")
    )

    def reached(reading: Any) -> set[int]:
        version = READINGS.version(reading.pk)
        assert version is not None and version.tenant_id == tenant.pk
        return set(READINGS.accounts(version, version.span.start))

    assert reached(individual) == {first.pk, second.pk}
    assert reached(common) == {first.pk, second.pk, other.pk}
    assert reached(feeder) == set()
