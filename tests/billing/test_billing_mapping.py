"""ORM rows → engine inputs: what a chunk's fetch builds, and in how many queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from kvit.billing.mapping import (
    QUERIES_PER_CHUNK,
    REFERENCE_DATA,
    Catalogue,
    config_of,
    fetch,
    reference_stamp,
)
from kvit.core import inputs as core
from kvit.core.codes import Resource, Zone
from kvit.core.periods import Period
from kvit.core.rating import rate
from kvit.people.models import Absence

pytestmark = pytest.mark.django_db
JULY = Period(2025, 7)


def water_account(make: Any, tenant: Any = None, **account: Any) -> Any:
    """An account with metered cold water, its meter read on 20 June and 20 July."""
    from kvit.tariffs.models import Service

    tenant = tenant or make.tenant()
    premise = make.premise(make.building(tenant), rooms=2)
    acc = make.account(premise, **account)
    water = Service.objects.filter(tenant=tenant, code="cold_water").first()
    if water is None:
        water = make.service(tenant, code="cold_water")
        make.tariff(water, value=Decimal("45.120000"))
    make.account_service(acc, water)
    meter = make.meter(premise, serial_number="CW-1")
    make.reading(meter, taken_on=date(2025, 6, 20), value=Decimal("100.250"))
    make.reading(meter, taken_on=date(2025, 7, 20), value=Decimal("107.500"))
    return acc


def test_a_metered_account_is_rated_from_its_rows(make: Any) -> None:
    acc = water_account(make)
    chunk = fetch(Catalogue.load(acc.tenant_id, JULY), [acc.pk])
    (inputs,) = chunk.inputs
    assert inputs.account.number == acc.number
    assert inputs.account.area == Decimal("54.30")
    assert inputs.account.rooms == 2
    assert [m.serial for m in inputs.meters] == ["CW-1"]
    assert inputs.meters[0].resource is Resource.COLD_WATER
    assert [(r.zone, r.value) for r in inputs.readings] == [
        (Zone.TOTAL, Decimal("100.250")),
        (Zone.TOTAL, Decimal("107.500")),
    ]
    assert chunk.account_ids == {acc.number: acc.pk}
    (line,) = rate(inputs).lines
    assert line.quantity == Decimal("7.250")
    assert line.amount == Decimal("327.12")  # 7.250 × 45.12 = 327.12
    assert line.provider == str(acc.services.get().provider_id)


def test_people_shares_owners_and_benefits_come_across(make: Any) -> None:
    acc = water_account(make, share_numerator=1, share_denominator=2)
    make.ownership(acc.premise)
    make.ownership(acc.premise, effective_to=date(2025, 7, 10))
    make.ownership(acc.premise, effective_to=date(2025, 6, 1))  # ended before July
    first = make.registration(acc)
    make.registration(acc, effective_from=date(2025, 7, 15))
    make.registration(acc, effective_from=date(2025, 8, 1))  # after July
    category = make.benefit_category(acc.tenant, rate=Decimal("0.5"))
    category.services.set([acc.services.get().service])
    make.benefit(acc, person=first.person, category=category)
    (inputs,) = fetch(Catalogue.load(acc.tenant_id, JULY), [acc.pk]).inputs
    account = inputs.account
    assert account.share == Fraction(1, 2)
    assert account.owners == 2
    assert [r.effective_from for r in account.registrations] == [
        date(2020, 1, 1),
        date(2025, 7, 15),
    ]
    (grant,) = account.benefits
    assert (grant.person, grant.rate, grant.services) == (
        str(first.person_id),
        Decimal("0.5000"),
        ("cold_water",),
    )


def test_temporary_absences_come_across_once_the_person_is_back(make: Any) -> None:
    acc = water_account(make)
    person = make.registration(acc).person
    Absence.objects.create(
        account=acc,
        person=person,
        effective_from=date(2025, 6, 20),
        effective_to=date(2025, 7, 10),
        filed_on=date(2025, 7, 15),
    )
    Absence.objects.create(account=acc, person=person, effective_from=date(2025, 7, 20))
    Absence.objects.create(
        account=acc, person=person, effective_from=date(2025, 5, 1), effective_to=date(2025, 6, 1)
    )  # before July
    (inputs,) = fetch(Catalogue.load(acc.tenant_id, JULY), [acc.pk]).inputs
    assert inputs.account.absences == (
        core.Absence(str(person.pk), date(2025, 6, 20), date(2025, 7, 10), date(2025, 7, 15)),
    )  # the one still going on waits for the arrival day


def test_rejected_and_too_old_readings_stay_out(make: Any) -> None:
    acc = water_account(make)
    meter = acc.premise.meters.get()
    make.reading(
        meter, taken_on=date(2025, 7, 22), value=Decimal("1.000"), status="rejected", reason="x"
    )
    make.reading(meter, taken_on=date(2020, 1, 25), value=Decimal("1.000"))  # years back
    make.reading(meter, taken_on=date(2025, 8, 1), value=Decimal("120.000"))  # after July
    (inputs,) = fetch(Catalogue.load(acc.tenant_id, JULY), [acc.pk]).inputs
    assert [r.taken_on for r in inputs.readings] == [date(2025, 6, 20), date(2025, 7, 20)]


def test_another_tenants_accounts_are_not_fetched(make: Any) -> None:
    mine, theirs = water_account(make), water_account(make)
    chunk = fetch(Catalogue.load(mine.tenant_id, JULY), [mine.pk, theirs.pk])
    assert [i.account.number for i in chunk.inputs] == [mine.number]


def test_the_query_count_does_not_grow_with_the_chunk(
    make: Any, django_assert_num_queries: Any
) -> None:
    tenant = make.tenant()
    accounts = [water_account(make, tenant) for _ in range(4)]
    catalogue = Catalogue.load(tenant.pk, JULY)
    # every register read in both windows, no house meter: all but the older readings and
    # the buildings' house meters with their readings
    with django_assert_num_queries(QUERIES_PER_CHUNK - 4):
        assert len(fetch(catalogue, [accounts[0].pk]).inputs) == 1
    with django_assert_num_queries(QUERIES_PER_CHUNK - 4):
        assert len(fetch(catalogue, [a.pk for a in accounts]).inputs) == 4
    for account in accounts[1:]:  # June estimated: July's reading settles a true-up
        account.premise.meters.get().readings.filter(taken_on=date(2025, 6, 20)).delete()
    with django_assert_num_queries(QUERIES_PER_CHUNK - 3):
        assert len(fetch(catalogue, [a.pk for a in accounts]).inputs) == 4
    for account in accounts:  # the buildings get house meters: their meters and readings
        building = account.premise.building
        building.resources.create(resource="cold_water", common_meter="present")
        make.meter(tenant=tenant, building=building, kind="common_house")
    catalogue = Catalogue.load(tenant.pk, JULY)
    with django_assert_num_queries(QUERIES_PER_CHUNK):
        chunk = fetch(catalogue, [a.pk for a in accounts])
    assert set(chunk.houses) == {a.premise.building_id for a in accounts}


def test_registers_that_may_estimate_get_their_history(make: Any) -> None:
    acc = water_account(make)
    meter = acc.premise.meters.get()
    make.reading(meter, taken_on=date(2024, 12, 20), value=Decimal("80.000"))
    catalogue = Catalogue.load(acc.tenant_id, JULY)
    (inputs,) = fetch(catalogue, [acc.pk]).inputs
    assert len(inputs.readings) == 2  # read in both windows: December is not needed
    meter.readings.filter(taken_on=date(2025, 7, 20)).delete()
    (inputs,) = fetch(catalogue, [acc.pk]).inputs
    assert [r.taken_on for r in inputs.readings] == [date(2024, 12, 20), date(2025, 6, 20)]


def test_the_configuration_takes_the_tenants_overrides_in_force(make: Any) -> None:
    tenant = make.tenant()
    make.parameter(tenant, name="due_day", value="12", effective_to=date(2025, 7, 1))
    make.parameter(tenant, name="due_day", value="20", effective_from=date(2025, 7, 1))
    assert config_of(tenant.pk, JULY).due_day == 20
    assert config_of(tenant.pk, Period(2025, 6)).due_day == 12
    assert config_of(make.tenant().pk, JULY).due_day == 10  # the spec's default


@pytest.mark.postgres
def test_a_catalogue_is_read_again_only_when_its_rows_changed(
    make: Any, django_assert_num_queries: Any
) -> None:
    acc = water_account(make)
    other = water_account(make)  # another tenant's rows are not in the stamp
    tenant = acc.tenant
    first = Catalogue.load(tenant.pk, JULY)
    with django_assert_num_queries(1):  # the stamp alone
        assert Catalogue.load(tenant.pk, JULY) is first
    tariff = acc.services.get().service.tariffs.get()
    other.services.get().service.tariffs.update(value=Decimal("1.000000"))
    assert Catalogue.load(tenant.pk, JULY) is first
    tariff.value = Decimal("50.000000")
    tariff.save()
    changed = Catalogue.load(tenant.pk, JULY)
    assert changed is not first
    assert changed == Catalogue.read(tenant.pk, JULY)
    (version,) = changed.services["cold_water"].tariffs
    assert version.value == Decimal("50.000000")
    category = make.benefit_category(tenant)  # a change in any table of the stamp
    assert Catalogue.load(tenant.pk, JULY).categories.keys() == {category.pk}
    category.services.set([tariff.service])
    assert Catalogue.load(tenant.pk, JULY).categories[category.pk][2] == ("cold_water",)


@pytest.mark.postgres
def test_the_stamp_covers_every_table_the_catalogue_reads(make: Any) -> None:
    acc = water_account(make)
    tenant = acc.tenant
    service = acc.services.get().service
    tariff = service.tariffs.get()
    category = make.benefit_category(tenant)
    rows = {
        "parameters.parameter": lambda: make.parameter(tenant, name="due_day", value="12"),
        "tariffs.service": lambda: make.service(tenant, code="heating"),
        "tariffs.tariff": lambda: make.tariff(service, group="privileged"),
        "tariffs.tarifftier": lambda: tariff.tiers.create(upper_bound=10, value=Decimal(1)),
        "tariffs.tariffzone": lambda: tariff.zones.create(zone="day", value=Decimal(1)),
        "tariffs.norm": lambda: make.norm(service),
        "people.benefitcategory": lambda: make.benefit_category(tenant, code="other"),
        "people.benefitcategory_services": lambda: category.services.add(service),
    }
    assert set(rows) == {model._meta.label_lower for model, _ in REFERENCE_DATA}
    for label, add in rows.items():
        before = reference_stamp(tenant.pk)
        add()
        assert reference_stamp(tenant.pk) != before, label


def test_without_a_stamp_the_catalogue_is_read_every_time(make: Any, monkeypatch: Any) -> None:
    from kvit.billing import mapping

    acc = water_account(make)
    monkeypatch.setattr(mapping, "reference_stamp", lambda tenant_id: None)
    first = Catalogue.load(acc.tenant_id, JULY)
    assert Catalogue.load(acc.tenant_id, JULY) is not first
    assert Catalogue.load(acc.tenant_id, JULY) == first
