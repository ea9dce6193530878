"""Registrations, benefits and temporary absences are billed at once: the open period is
corrected in place, a closed one in the open period with the reason, and the ledger is then
what a fresh bill run would make of the inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kvit.billing.actions import bill
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance
from kvit.people.actions import (
    end_benefit,
    end_registration,
    grant_benefit,
    record_absence,
    register_resident,
    remove_registration,
    save_absence,
    save_registration,
)
from kvit.people.models import Absence
from kvit.premises.models import MeterImpossibility
from realtime_world import (
    JULY,
    JUNE,
    TARIFF,
    assert_current,
    billed,
    day,
    entries,
    water_by_norm,
)

pytestmark = pytest.mark.django_db
ONE_PERSON = Decimal("232.27")  # 4.745 m³ × 48.95
TWO_PERSONS = Decimal("464.54")  # 9.490 m³ × 48.95


def test_a_move_in_during_a_closed_period_is_a_recalculation_in_the_open_one(make: Any) -> None:
    account = water_by_norm(make)
    billed(account.tenant)
    assert balance(account) == 2 * ONE_PERSON
    newcomer = make.person(account.tenant)
    registration = register_resident(account, newcomer, day(6, 16))
    # June: (30 + 15) person-days / 30 = 1.5 persons, 7.118 m³ = 348.43; July: two persons
    assert entries(account) == [
        (JULY.first_day, "recalculation", JUNE.first_day, "residents_changed", Decimal("116.16")),
        (JULY.first_day, "charge", None, "residents_changed", TWO_PERSONS - ONE_PERSON),
    ]
    assert balance(account) == Decimal("348.43") + TWO_PERSONS
    assert_current(account.tenant)
    assert save_registration(registration).entries == 0  # the same again posts nothing
    assert len(entries(account)) == 2


def test_a_move_out_in_the_open_period_corrects_it_in_place(make: Any) -> None:
    account = water_by_norm(make, persons=2)
    billed(account.tenant)
    leaving = account.registrations.first()
    done = end_registration(leaving, day(7, 16))
    assert (done.changed, done.periods, done.entries) == (1, [JULY], 1)
    # July: (31 + 15) / 31 persons × 4.745 = 7.041 m³ = 344.66
    assert balance(account) == TWO_PERSONS + Decimal("344.66")
    assert [e[:3] for e in entries(account)] == [(JULY.first_day, "charge", None)]
    assert_current(account.tenant)
    assert end_registration(leaving, day(7, 16)).entries == 0


def test_a_registration_entered_by_mistake_is_removed_and_billed_back(make: Any) -> None:
    account = water_by_norm(make, persons=2)
    billed(account.tenant)
    done = remove_registration(account.registrations.last())
    assert done.amount == 2 * (ONE_PERSON - TWO_PERSONS)
    assert balance(account) == 2 * ONE_PERSON
    assert_current(account.tenant)


def test_a_benefit_confirmed_afterwards_and_then_ended(make: Any) -> None:
    account = water_by_norm(make)
    billed(account.tenant)
    category = make.benefit_category(account.tenant, rate=Decimal("0.5"))
    category.services.set([account.services.get().service])
    person = account.registrations.get().person
    benefit = grant_benefit(account, person, category, day(6, 1))
    half = -Decimal("116.14")  # 50 % of 232.27, rounded once
    assert entries(account) == [
        (JULY.first_day, "recalculation", JUNE.first_day, "benefit_confirmed", half),
        (JULY.first_day, "benefit", None, "", half),  # a new line of the open period
    ]
    assert_current(account.tenant)
    end_benefit(benefit, day(7, 1))
    assert entries(account)[2:] == [
        (JULY.first_day, "benefit", None, "benefit_ended", -half),
    ]
    assert balance(account) == 2 * ONE_PERSON + half
    assert_current(account.tenant)


def absent_world(make: Any) -> Any:
    """Spec example 16: three persons, cold water by norm, a meter technically impossible."""
    account = water_by_norm(make, persons=3)
    MeterImpossibility.objects.create(
        premise=account.premise, resource="cold_water", act_number="7", act_on=date(2020, 1, 1)
    )
    billed(account.tenant)
    return account


def test_an_absence_is_recalculated_once_documented(make: Any) -> None:
    account = absent_world(make)
    person = account.registrations.first().person
    absence = record_absence(account, person, day(6, 3), day(6, 19))
    assert entries(account) == []  # no documents yet: nothing to recalculate
    absence.filed_on = day(7, 1)
    absence.document = "certificate of the sanatorium"
    done = save_absence(absence)
    assert entries(account) == [
        (JULY.first_day, "recalculation", JUNE.first_day, "absence_documented", Decimal("-116.16"))
    ]  # 15 full days: 4.745 × 15 / 30 = 2.373 m³ × 48.95 (spec example 16)
    assert (done.changed, done.periods) == (1, [JUNE, JULY])
    assert_current(account.tenant)
    assert save_absence(absence).entries == 0


def test_an_absence_still_going_on_waits_for_the_return(make: Any) -> None:
    account = absent_world(make)
    person = account.registrations.first().person
    absence = record_absence(account, person, day(7, 3), filed_on=day(7, 1))
    assert entries(account) == []
    absence.effective_to = day(7, 20)
    save_absence(absence)
    # 16 full days of July: 4.745 × 16 / 31 = 2.449 m³ × 48.95 = 119.88
    assert entries(account) == [
        (JULY.first_day, "recalculation", None, "", Decimal("-119.88"))  # July's own line
    ]
    assert_current(account.tenant)


# --- bad input: refused with a clear message, nothing saved, nothing posted -------------------


def refused(field: str, message: str, action: Any, *args: Any, **kwargs: Any) -> None:
    posted = LedgerEntry.objects.count()
    absences = Absence.objects.count()
    with pytest.raises(ValidationError) as caught:
        action(*args, **kwargs)
    assert any(message in text for text in caught.value.message_dict[field]), caught.value
    assert (LedgerEntry.objects.count(), Absence.objects.count()) == (posted, absences)


def test_overlapping_absences_of_one_person_are_refused(make: Any) -> None:
    account = absent_world(make)
    person = account.registrations.first().person
    record_absence(account, person, day(6, 3), day(6, 19), filed_on=day(7, 1))
    refused(
        "effective_from",
        "Overlaps the row effective 2025-06-03 – 2025-06-19",
        record_absence,
        account,
        person,
        day(6, 10),
        day(6, 25),
    )


def test_an_arrival_before_the_departure_is_refused(make: Any) -> None:
    account = absent_world(make)
    person = account.registrations.first().person
    refused(
        "__all__",
        "“Effective to” must be later than “effective from”",
        record_absence,
        account,
        person,
        day(6, 19),
        day(6, 3),
    )


def test_another_organisations_person_is_refused(make: Any) -> None:
    account = absent_world(make)
    stranger = make.person(make.tenant())
    refused(
        "person",
        "The person belongs to another organisation.",
        record_absence,
        account,
        stranger,
        day(6, 3),
        day(6, 19),
    )
    refused(
        "person",
        "The person belongs to another organisation.",
        register_resident,
        account,
        stranger,
        day(6, 3),
    )


def test_only_a_registered_person_can_be_absent(make: Any) -> None:
    account = absent_world(make)
    lodger = make.person(account.tenant)
    refused(
        "person",
        "is not registered on this account while away",
        record_absence,
        account,
        lodger,
        day(6, 3),
        day(6, 19),
    )


def test_a_change_with_no_open_period_to_post_into_is_refused_whole(make: Any) -> None:
    account = water_by_norm(make)
    billed(account.tenant)
    open_period(account.tenant, date(2025, 8, 1))
    close_period(account.tenant, JULY.first_day, None)
    close_period(account.tenant, date(2025, 8, 1), None)
    newcomer = make.person(account.tenant)
    with pytest.raises(ValidationError, match="No open period to post the recalculation"):
        register_resident(account, newcomer, day(6, 16))
    assert not account.registrations.filter(person=newcomer).exists()
    assert entries(account) == []


def test_a_move_in_is_rated_with_the_whole_house_balance(make: Any) -> None:
    """With a common-house meter, the house volume is the meter's less every premise's own
    (spec 2.8): the flat that changed is rated with its neighbours, and gets the share the
    bill run gives it; the neighbours' shares follow at the bill run."""
    tenant = make.tenant()
    building = make.building(tenant, total_area=Decimal("108.60"), common_area=Decimal("20.00"))
    building.resources.create(resource="cold_water", common_meter="present")
    house_meter = make.meter(tenant=tenant, building=building, kind="common_house")
    for taken_on, value in ((day(5, 25), "100"), (day(6, 25), "115"), (day(7, 25), "130")):
        make.reading(house_meter, taken_on=taken_on, value=Decimal(value))
    common = make.service(tenant, code="cold_water_soi", method="common_house_by_area")
    make.tariff(common, value=TARIFF)
    make.norm(common, kind="per_common_area", value=Decimal("1.000000"))
    flats = []
    for number in ("1", "2"):
        account = water_by_norm(make, tenant)
        account.premise.building = building
        account.premise.number = number
        account.premise.save()
        make.account_service(account, common)
        flats.append(account)
    billed(tenant)
    register_resident(flats[0], make.person(tenant), day(6, 16))
    # June: 15 − (7.118 + 4.745) = 3.137 m³ for the house, 1.569 m³ a flat instead of 2.755
    assert [e[:4] for e in entries(flats[0], service=common)] == [
        (JULY.first_day, "recalculation", JUNE.first_day, "residents_changed"),
        (JULY.first_day, "charge", None, "residents_changed"),
    ]
    assert entries(flats[1]) == []
    run = bill(tenant, JULY, today=JULY.end).run
    posted = LedgerEntry.objects.filter(run_id=run.pk)
    assert set(posted.values_list("account", "service")) == {(flats[1].pk, common.pk)}
