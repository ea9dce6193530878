"""Buildings and premises: areas are positive and living area fits the total (spec 1.2, 1.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kvit.premises.models import Building, BuildingResource, Premise

pytestmark = pytest.mark.django_db

POSITIVE = "An area must be greater than zero."


def refused_by_database(obj: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


@pytest.mark.parametrize("field", ["total_area", "common_area"])
@pytest.mark.parametrize("value", [Decimal(0), Decimal("-0.01"), Decimal(-100)])
def test_building_areas_must_be_positive(
    make: Any, tenant: Any, clean_errors: Any, field: str, value: Decimal
) -> None:
    building = make.building(tenant)
    setattr(building, field, value)
    errors = clean_errors(building)
    assert errors[field] == [POSITIVE]
    assert set(errors) <= {field, "__all__"}
    refused_by_database(building)


def test_the_smallest_area_is_allowed(make: Any, tenant: Any) -> None:
    building = make.building(tenant, total_area=Decimal("0.01"), common_area=Decimal("0.01"))
    premise = make.premise(building, area=Decimal("0.01"), living_area=Decimal("0.01"))
    assert Premise.objects.get(pk=premise.pk).living_area == Decimal("0.01")


@pytest.mark.parametrize("value", [Decimal(0), Decimal("-5.50")])
def test_premise_area_must_be_positive(
    make: Any, building: Any, clean_errors: Any, value: Decimal
) -> None:
    premise = make.premise(building, living_area=None)
    premise.area = value
    errors = clean_errors(premise)
    assert errors["area"] == [POSITIVE]
    refused_by_database(premise)


@pytest.mark.parametrize("value", [Decimal(0), Decimal(-1)])
def test_living_area_must_be_positive(
    make: Any, building: Any, clean_errors: Any, value: Decimal
) -> None:
    premise = make.premise(building)
    premise.living_area = value
    assert clean_errors(premise)["living_area"] == [POSITIVE]
    refused_by_database(premise)


def test_living_area_cannot_exceed_the_total_area(
    make: Any, building: Any, clean_errors: Any
) -> None:
    premise = make.premise(building, area=Decimal("40.00"), living_area=Decimal("40.00"))
    premise.living_area = Decimal("40.01")
    assert clean_errors(premise)["living_area"] == ["The living area cannot exceed the total area."]
    refused_by_database(premise)


def test_living_area_may_be_unknown(make: Any, building: Any) -> None:
    assert make.premise(building, living_area=None).living_area is None


@pytest.mark.parametrize("due_day", [0, 29, 31])
def test_building_due_day_is_between_1_and_28(
    make: Any, tenant: Any, clean_errors: Any, due_day: int
) -> None:
    building = make.building(tenant)
    building.due_day = due_day
    assert clean_errors(building)["due_day"] == ["The due day must be between 1 and 28."]
    refused_by_database(building)


@pytest.mark.parametrize("due_day", [1, 28, None])
def test_building_due_day_limits_are_allowed(make: Any, tenant: Any, due_day: int) -> None:
    assert make.building(tenant, due_day=due_day).due_day == due_day


def test_a_premise_must_be_in_a_building_of_its_tenant(
    make: Any, building: Any, other_tenant: Any, clean_errors: Any
) -> None:
    premise = Premise(tenant=other_tenant, building=building, number="1", area=Decimal(30))
    assert clean_errors(premise) == {"building": ["The building belongs to another organisation."]}


def test_premise_numbers_are_unique_per_building(make: Any, tenant: Any, clean_errors: Any) -> None:
    first, second = make.building(tenant), make.building(tenant)
    make.premise(first, number="12")
    make.premise(second, number="12")  # another building: fine
    duplicate = Premise(tenant=tenant, building=first, number="12", area=Decimal(30))
    assert "__all__" in clean_errors(duplicate)
    refused_by_database(duplicate)


def test_one_common_meter_flag_per_resource(make: Any, building: Any, clean_errors: Any) -> None:
    BuildingResource.objects.create(building=building, resource="heat", common_meter="present")
    duplicate = BuildingResource(building=building, resource="heat", common_meter="absent")
    assert "__all__" in clean_errors(duplicate)
    refused_by_database(duplicate)
    assert Building.objects.get(pk=building.pk).resources.get().common_meter == "present"
