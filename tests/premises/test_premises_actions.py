"""A premise's and a building's own fields, a meter's and an ownership are billed at once:
every billed period of the accounts they reach is rated again (a closed one corrected in the
open one, with the reason), and the ledger is then what a fresh bill run would make."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kvit.ledger.queries import balance
from kvit.metering.actions import save_meter
from kvit.people.actions import record_absence, remove_ownership, save_absence, save_ownership
from kvit.people.models import Ownership
from kvit.premises.actions import (
    remove_meter_impossibility,
    save_building,
    save_building_resource,
    save_meter_impossibility,
    save_premise,
)
from kvit.premises.models import BuildingResource, MeterImpossibility
from realtime_world import (
    JULY,
    JUNE,
    assert_current,
    billed,
    day,
    entries,
    water_by_meter,
    water_by_norm,
)

pytestmark = pytest.mark.django_db
TARIFF = Decimal("33.400000")  # maintenance, per m²


def maintained(make: Any, building: Any = None) -> Any:
    """An account billed for maintenance per m² of its premise (54.30 m²: 1,813.62 a month)."""
    tenant = building.tenant if building is not None else make.tenant()
    service = tenant.service_set.filter(code="maintenance").first()
    if service is None:
        service = make.service(tenant, code="maintenance", name="Maintenance", method="per_area")
        make.tariff(service, value=TARIFF)
    account = make.account(make.premise(building or make.building(tenant)))
    make.account_service(account, service)
    return account


def test_a_corrected_area_is_billed_in_every_period_at_once(make: Any) -> None:
    account = maintained(make)
    billed(account.tenant)
    assert balance(account) == 2 * Decimal("1813.62")
    premise = account.premise
    premise.area = Decimal("60.00")  # 60 × 33.40 = 2,004.00
    done = save_premise(premise)
    assert (done.changed, done.periods, done.amount) == (1, [JUNE, JULY], Decimal("380.76"))
    assert entries(account) == [
        (JULY.first_day, "recalculation", JUNE.first_day, "premise_changed", Decimal("190.38")),
        (JULY.first_day, "charge", None, "premise_changed", Decimal("190.38")),
    ]
    assert balance(account) == 2 * Decimal("2004.00")
    assert_current(account.tenant)
    assert save_premise(premise).entries == 0  # the same again posts nothing
    premise.number = "12a"  # not read by billing: nothing is rated
    assert save_premise(premise).periods == []


def test_a_building_change_reaches_every_account_of_the_building(make: Any) -> None:
    tenant = make.tenant()
    service = make.service(
        tenant,
        code="soi",
        name="Common-house electricity",
        method="common_house_by_area",
        resource="electricity",
    )
    make.tariff(service, value=Decimal("6.430000"))
    make.norm(service, kind="per_common_area", value=Decimal("0.730000"))
    building = make.building(tenant)
    accounts = []
    for _ in range(2):
        account = make.account(make.premise(building))
        make.account_service(account, service)
        accounts.append(account)
    BuildingResource.objects.create(
        building=building, resource="electricity", common_meter="absent"
    )
    billed(tenant)
    before = [balance(account) for account in accounts]
    assert all(amount > 0 for amount in before)
    building.common_area = Decimal("800.00")  # twice the common area: twice the norm volume
    done = save_building(building)
    assert (done.changed, done.periods) == (2, [JUNE, JULY])
    assert {e[3] for a in accounts for e in entries(a)} == {"building_changed"}
    assert all(balance(a) > amount for a, amount in zip(accounts, before, strict=True))
    assert_current(tenant)
    flag = BuildingResource.objects.get(building=building)
    flag.common_meter = "impossible"
    assert save_building_resource(flag).periods == [JUNE, JULY]
    assert_current(tenant)


def test_a_meter_impossibility_act_is_billed_at_once_and_so_is_its_removal(make: Any) -> None:
    account = water_by_norm(make, persons=3)
    billed(account.tenant)
    charged = balance(account)
    person = account.registrations.first().person
    absence = record_absence(account, person, day(6, 3), day(6, 19))
    absence.filed_on, absence.document = day(7, 1), "certificate of the sanatorium"
    save_absence(absence)
    assert balance(account) == charged  # documented, but a meter could be installed (2.14)
    act = MeterImpossibility(
        premise=account.premise, resource="cold_water", act_number="7", act_on=date(2020, 1, 1)
    )
    done = save_meter_impossibility(act)
    assert (done.periods, done.amount) == ([JUNE, JULY], Decimal("-116.16"))  # spec example 16
    assert entries(account) == [
        (JULY.first_day, "recalculation", JUNE.first_day, "premise_changed", Decimal("-116.16"))
    ]
    assert_current(account.tenant)
    assert remove_meter_impossibility(act).amount == Decimal("116.16")
    assert balance(account) == charged
    assert_current(account.tenant)


def test_a_corrected_meter_is_billed_from_its_installation(make: Any) -> None:
    account, meter = water_by_meter(make)
    make.reading(meter, taken_on=date(2025, 5, 20), value=Decimal("90.000"))
    make.reading(meter, taken_on=date(2025, 6, 20), value=Decimal("100.000"))
    make.reading(meter, taken_on=date(2025, 7, 20), value=Decimal("105.000"))
    billed(account.tenant)
    assert balance(account) == Decimal("676.80")  # 10 + 5 m³ × 45.12
    meter.transform_ratio = Decimal("2")  # a transformer-rated meter: every m³ counts twice
    done = save_meter(meter)
    assert (done.periods, done.amount) == ([JUNE, JULY], Decimal("676.80"))
    assert entries(account) == [
        (JULY.first_day, "recalculation", JUNE.first_day, "meter_changed", Decimal("451.20")),
        (JULY.first_day, "charge", None, "meter_changed", Decimal("225.60")),
    ]
    assert_current(account.tenant)
    assert save_meter(meter).entries == 0


def test_an_ownership_is_billed_at_once(make: Any) -> None:
    account = water_by_norm(make)
    billed(account.tenant)
    ownership = Ownership(
        premise=account.premise, owner=make.person(account.tenant), effective_from=date(2025, 6, 1)
    )
    done = save_ownership(ownership)
    assert done.periods == [JUNE, JULY]
    assert_current(account.tenant)
    assert remove_ownership(ownership).periods == [JUNE, JULY]
    assert_current(account.tenant)
