"""A premise's and a building's own fields, saved and billed at once (`kvit.billing.changes`).

They carry no dates: billing reads what they hold now for every period, so a corrected area,
premise kind, heating scheme or common-house meter flag reaches every billed period of the
accounts it concerns (a closed one by recalculations in the open one). A premise's fields
reach its accounts; a building's, every account of the building.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kvit.accounts.models import Account
from kvit.billing.changes import Input, Recalculation, Version, remove, save, undated
from kvit.core.rebilling import BUILDING_CHANGED, PREMISE_CHANGED
from kvit.premises.models import Building, BuildingResource, MeterImpossibility, Premise


def accounts_of(premise_id: int | None = None, building_id: int | None = None) -> list[int]:
    """The ids of the accounts of a premise, or of every premise of a building."""
    if premise_id is not None:
        accounts = Account.objects.filter(premise_id=premise_id)
    elif building_id is not None:
        accounts = Account.objects.filter(premise__building_id=building_id)
    else:
        return []
    return list(accounts.values_list("pk", flat=True))


def premise_accounts(version: Version, since: date) -> list[int]:
    """`Input.accounts` of a row whose last key field is its premise's id."""
    return accounts_of(premise_id=version.key[-1])


def building_accounts(version: Version, since: date) -> list[int]:
    """`Input.accounts` of a row whose last key field is its building's id."""
    return accounts_of(building_id=version.key[-1])


# What billing reads of each (`kvit.billing.mapping`), the row's own id last.
PREMISES = Input(
    "premise",
    PREMISE_CHANGED,
    undated(Premise, "tenant_id", "kind", "area", "rooms", "building_id", "pk"),
    premise_accounts,
)
METER_IMPOSSIBILITIES = Input(
    "meter_impossibility",
    PREMISE_CHANGED,
    undated(MeterImpossibility, "premise__tenant_id", "resource", "premise_id"),
    premise_accounts,
)
BUILDINGS = Input(
    "building",
    BUILDING_CHANGED,
    undated(Building, "tenant_id", "total_area", "common_area", "heating_scheme", "due_day", "pk"),
    building_accounts,
)
BUILDING_RESOURCES = Input(
    "building_resource",
    BUILDING_CHANGED,
    undated(BuildingResource, "building__tenant_id", "resource", "common_meter", "building_id"),
    building_accounts,
)


def save_premise(premise: Premise, *, user: Any = None) -> Recalculation:
    """Save a new or changed premise (its kind, area, rooms, building)."""
    return save(PREMISES, premise, user=user)


def save_building(building: Building, *, user: Any = None) -> Recalculation:
    """Save a new or changed building (its areas, heating scheme, due day)."""
    return save(BUILDINGS, building, user=user)


def save_building_resource(row: BuildingResource, *, user: Any = None) -> Recalculation:
    """Say whether the building has a common-house meter for a resource."""
    return save(BUILDING_RESOURCES, row, user=user)


def remove_building_resource(row: BuildingResource, *, user: Any = None) -> Recalculation:
    return remove(BUILDING_RESOURCES, row, user=user)


def save_meter_impossibility(row: MeterImpossibility, *, user: Any = None) -> Recalculation:
    """Record (or correct) the act saying a premise's meter cannot be installed."""
    return save(METER_IMPOSSIBILITIES, row, user=user)


def remove_meter_impossibility(row: MeterImpossibility, *, user: Any = None) -> Recalculation:
    return remove(METER_IMPOSSIBILITIES, row, user=user)
