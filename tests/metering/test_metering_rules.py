"""Meters (kind, location, zones, digits) and the readings they accept (spec 1.8)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kvit.metering.models import Meter, Reading

pytestmark = pytest.mark.django_db

INSTALLED, REMOVED = date(2023, 3, 15), date(2024, 9, 30)


def refused_by_database(obj: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


# --- meters -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["individual", "common_apartment", "room"])
def test_a_premise_meter_needs_a_premise(tenant: Any, clean_errors: Any, kind: str) -> None:
    meter = Meter(
        tenant=tenant, kind=kind, resource="cold_water", serial_number="1", installed_on=INSTALLED
    )
    assert clean_errors(meter) == {
        "premise": ["An individual, common-apartment or room meter needs a premise."]
    }


def test_a_common_house_meter_needs_a_building(
    tenant: Any, building: Any, clean_errors: Any
) -> None:
    meter = Meter(
        tenant=tenant,
        kind="common_house",
        resource="heat",
        serial_number="1",
        installed_on=INSTALLED,
    )
    assert clean_errors(meter) == {"building": ["A common-house meter needs a building."]}
    meter.building = building
    assert clean_errors(meter) == {}


def test_a_feeder_head_meter_needs_a_node(make: Any, tenant: Any, clean_errors: Any) -> None:
    meter = Meter(
        tenant=tenant,
        kind="feeder_head",
        resource="electricity",
        serial_number="1",
        installed_on=INSTALLED,
        integer_digits=8,
    )
    assert clean_errors(meter) == {"node": ["A feeder head meter needs a hierarchy node."]}
    meter.node = make.node(tenant, kind="feeder")
    assert clean_errors(meter) == {}


def test_a_meter_cannot_be_removed_before_installation(
    make: Any, premise: Any, clean_errors: Any
) -> None:
    meter = make.meter(premise, installed_on=INSTALLED)
    meter.removed_on, meter.status = date(2023, 3, 14), Meter.Status.REMOVED
    errors = clean_errors(meter)
    assert errors["removed_on"] == ["A meter cannot be removed before it was installed."]
    refused_by_database(meter)


def test_removed_on_the_day_of_installation_is_allowed(make: Any, premise: Any) -> None:
    meter = make.meter(premise, installed_on=INSTALLED, removed_on=INSTALLED, status="removed")
    assert Meter.objects.get(pk=meter.pk).removed_on == INSTALLED


@pytest.mark.parametrize(
    ("status", "removed_on"), [("removed", None), ("active", REMOVED), ("failed", REMOVED)]
)
def test_status_removed_exactly_with_a_removal_date(
    make: Any, premise: Any, clean_errors: Any, status: str, removed_on: date | None
) -> None:
    meter = make.meter(premise, failed_on=INSTALLED if status == "failed" else None)
    meter.status, meter.removed_on = status, removed_on
    assert clean_errors(meter) == {
        "status": ["A meter has the status “removed” exactly when it has a removal date."]
    }


def test_a_failed_meter_needs_its_failure_date(make: Any, premise: Any, clean_errors: Any) -> None:
    meter = make.meter(premise, installed_on=INSTALLED)
    meter.status = "failed"
    assert clean_errors(meter) == {"failed_on": ["A failed meter needs the date it failed."]}
    meter.failed_on = INSTALLED - timedelta(days=1)
    assert clean_errors(meter) == {"failed_on": ["A meter cannot fail before it was installed."]}
    meter.failed_on = INSTALLED
    assert clean_errors(meter) == {}


@pytest.mark.parametrize("resource", ["cold_water", "hot_water", "heat", "gas"])
def test_only_electricity_meters_have_zones(
    make: Any, premise: Any, clean_errors: Any, resource: str
) -> None:
    meter = make.meter(premise, resource=resource)
    meter.zones = 2
    assert clean_errors(meter) == {"zones": ["Only electricity meters have day/night zones."]}


def test_zone_codes_by_number_of_zones(make: Any, premise: Any) -> None:
    single = make.meter(premise, resource="electricity")
    double = make.meter(premise, resource="electricity", zones=2)
    triple = make.meter(premise, resource="electricity", zones=3)
    assert single.zone_codes == ("total",)
    assert double.zone_codes == ("day", "night")
    assert triple.zone_codes == ("peak", "semipeak", "night")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("integer_digits", 0),
        ("integer_digits", 13),
        ("fraction_digits", 7),
        ("transform_ratio", Decimal(0)),
    ],
)
def test_digits_and_ratio_are_in_range(
    make: Any, premise: Any, clean_errors: Any, field: str, value: Any
) -> None:
    meter = make.meter(premise)
    setattr(meter, field, value)
    assert field in clean_errors(meter)
    refused_by_database(meter)


def test_capacity_and_verification_due(make: Any, premise: Any) -> None:
    meter = make.meter(
        premise, integer_digits=6, verified_on=date(2020, 2, 29), verification_interval_years=6
    )
    assert meter.capacity == Decimal(1000000)
    assert meter.next_verification_due == date(2026, 2, 28)
    meter.verified_on = date(2021, 7, 14)
    assert meter.next_verification_due == date(2027, 7, 14)
    meter.verified_on = None
    assert meter.next_verification_due is None


# --- readings -----------------------------------------------------------------------------


@pytest.fixture
def water_meter(make: Any, premise: Any) -> Meter:
    return make.meter(
        premise,
        integer_digits=5,
        fraction_digits=3,
        installed_on=INSTALLED,
        removed_on=REMOVED,
        status="removed",
    )


def reading(meter: Meter, **fields: Any) -> Reading:
    fields = {"zone": "total", "taken_on": date(2024, 1, 25), "value": Decimal("12.5"), **fields}
    return Reading(meter=meter, **fields)


@pytest.mark.parametrize(("zones", "zone"), [(1, "day"), (2, "total"), (2, "peak"), (3, "day")])
def test_a_reading_for_a_zone_the_meter_does_not_have(
    make: Any, premise: Any, clean_errors: Any, zones: int, zone: str
) -> None:
    meter = make.meter(premise, resource="electricity", zones=zones)
    errors = clean_errors(reading(meter, zone=zone))
    assert list(errors) == ["zone"]
    assert f"Meter {meter.serial_number} has no zone “{zone}”" in errors["zone"][0]


def test_a_reading_for_each_zone_of_the_meter(make: Any, premise: Any, clean_errors: Any) -> None:
    meter = make.meter(premise, resource="electricity", zones=3)
    for zone in ("peak", "semipeak", "night"):
        assert clean_errors(reading(meter, zone=zone)) == {}


@pytest.mark.parametrize("value", [Decimal(100000), Decimal("100000.001"), Decimal(10**9)])
def test_a_value_the_display_cannot_show(
    water_meter: Meter, clean_errors: Any, value: Decimal
) -> None:
    errors = clean_errors(reading(water_meter, value=value))
    assert list(errors) == ["value"]
    assert "does not fit the meter's 5 integer digits" in errors["value"][0]


def test_the_largest_value_the_display_shows(water_meter: Meter, clean_errors: Any) -> None:
    assert clean_errors(reading(water_meter, value=Decimal("99999.999"))) == {}


@pytest.mark.parametrize(("digits", "value"), [(3, "1.2345"), (0, "12.5"), (1, "0.05")])
def test_more_decimals_than_the_meter_shows(
    make: Any, premise: Any, clean_errors: Any, digits: int, value: str
) -> None:
    meter = make.meter(premise, fraction_digits=digits)
    errors = clean_errors(reading(meter, value=Decimal(value)))
    assert list(errors) == ["value"]
    assert f"has more decimals than the meter shows ({digits})" in errors["value"][0]


@pytest.mark.parametrize(("digits", "value"), [(3, "1.234"), (0, "12"), (0, "12.000")])
def test_as_many_decimals_as_the_meter_shows(
    make: Any, premise: Any, clean_errors: Any, digits: int, value: str
) -> None:
    meter = make.meter(premise, fraction_digits=digits)
    assert clean_errors(reading(meter, value=Decimal(value))) == {}


def test_a_negative_value_is_refused(water_meter: Meter, clean_errors: Any) -> None:
    candidate = reading(water_meter, value=Decimal("-0.001"))
    assert "value" in clean_errors(candidate)
    refused_by_database(candidate)


@pytest.mark.parametrize(
    ("taken_on", "message"),
    [
        (date(2023, 3, 14), "The meter was installed on 2023-03-15, after this date."),
        (date(2024, 10, 1), "The meter was removed on 2024-09-30, before this date."),
    ],
)
def test_a_reading_outside_the_meter_service_life(
    water_meter: Meter, clean_errors: Any, taken_on: date, message: str
) -> None:
    assert clean_errors(reading(water_meter, taken_on=taken_on)) == {"taken_on": [message]}


@pytest.mark.parametrize("taken_on", [INSTALLED, REMOVED])
def test_readings_on_installation_and_removal_days(
    water_meter: Meter, clean_errors: Any, taken_on: date
) -> None:
    assert clean_errors(reading(water_meter, taken_on=taken_on)) == {}


def test_a_rejected_reading_needs_a_reason(water_meter: Meter, clean_errors: Any) -> None:
    rejected = reading(water_meter, status=Reading.Status.REJECTED)
    assert clean_errors(rejected)["reason"] == ["A rejected reading needs a reason."]
    refused_by_database(rejected)
    rejected.reason = "Lower than the previous reading"
    assert clean_errors(rejected) == {}
    rejected.save()


def test_the_factory_reading_is_valid(make: Any, water_meter: Meter) -> None:
    saved = make.reading(water_meter)
    assert Reading.objects.get(pk=saved.pk).value == Decimal("123.456")


def test_missing_zones_is_a_field_error_not_a_crash(
    make: Any, premise: Any, clean_errors: Any
) -> None:
    meter = make.meter(premise)
    meter.zones = None
    assert list(clean_errors(meter)) == ["zones"]
