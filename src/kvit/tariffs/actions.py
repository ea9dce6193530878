"""Tariff and norm versions: corrected or added, and billed at once (`kvit.billing.changes`).

A version reaches every account connected to its service (a tariff: with its tariff group)
on the days it changed, and with them every account of their buildings that have a
common-house meter. They are rated again from the first changed day for that period and
every later one already opened, chunk by chunk (`kvit.billing.actions.recalculate_accounts`:
a fixed number of queries per chunk), in the transaction of the correction; a closed period
is corrected by recalculation entries in the open one with the reason "tariff corrected".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import F, Q

from kvit.accounts.models import AccountService
from kvit.billing.changes import Input, Recalculation, Version, add_version, dated, remove, save
from kvit.core.rebilling import TARIFF_CORRECTED
from kvit.tariffs.models import Norm, Tariff, TariffTier, TariffZone


def _tiers_and_zones(tariff_id: int) -> tuple[Any, ...]:
    tiers = TariffTier.objects.filter(tariff_id=tariff_id).order_by(
        F("upper_bound").asc(nulls_last=True)
    )
    zones = TariffZone.objects.filter(tariff_id=tariff_id).order_by("zone")
    return (
        tuple(tiers.values_list("upper_bound", "value")),
        tuple(zones.values_list("zone", "value")),
    )


def connected_accounts(service_id: int, since: date, group: str | None = None) -> Iterable[int]:
    """The accounts connected to the service (in `group`, unless None) on some day from
    `since`, and not closed by then."""
    rows = (
        AccountService.objects.filter(service_id=service_id)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=since))
        .filter(Q(account__closed_on__isnull=True) | Q(account__closed_on__gt=since))
    )
    if group is not None:
        rows = rows.filter(tariff_group=group)
    return rows.order_by().values_list("account_id", flat=True).distinct()


def _tariff_accounts(version: Version, since: date) -> Iterable[int]:
    service, group = version.key[:2]
    return connected_accounts(service, since, group)


def _norm_accounts(version: Version, since: date) -> Iterable[int]:
    return connected_accounts(version.key[0], since)


TARIFFS = Input(
    "tariff",
    TARIFF_CORRECTED,
    dated(
        Tariff,
        "tenant_id",
        "service_id",
        "group",
        "value",
        "vat_included",
        children=_tiers_and_zones,
    ),
    _tariff_accounts,
)
NORMS = Input(
    "norm",
    TARIFF_CORRECTED,
    dated(Norm, "tenant_id", "service_id", "kind", "rooms", "persons", "value"),
    _norm_accounts,
)


def save_tariff(tariff: Tariff, *, user: Any = None) -> Recalculation:
    """Save a new or corrected tariff version (its tiers and zones may be saved in the
    same `recalculating` block: they count as the version's)."""
    return save(TARIFFS, tariff, user=user)


def add_tariff_version(tariff: Tariff, *, user: Any = None) -> Recalculation:
    """A new price from `tariff.effective_from`: the version in force that day ends there."""
    return add_version(TARIFFS, tariff, user=user)


def remove_tariff(tariff: Tariff, *, user: Any = None) -> Recalculation:
    """Delete a tariff version entered by mistake (with its tiers and zones). The days it
    leaves without a tariff are reported by the recalculation, and the bill run refuses."""
    return remove(TARIFFS, tariff, user=user)


def save_norm(norm: Norm, *, user: Any = None) -> Recalculation:
    return save(NORMS, norm, user=user)


def add_norm_version(norm: Norm, *, user: Any = None) -> Recalculation:
    """A new norm from `norm.effective_from`: the version in force that day ends there."""
    return add_version(NORMS, norm, user=user)


def remove_norm(norm: Norm, *, user: Any = None) -> Recalculation:
    return remove(NORMS, norm, user=user)
