"""Recording readings: validated, saved, and billed at once (the real-time path).

A reading changes the volume of the period whose window it falls in, and the start of the
next one; so the accounts of the meter's premise — of its whole building, for a
common-house meter — are recalculated for that period and every later period that is
already billed, in the same transaction. A period that is closed is corrected in the open
one (`kvit.billing.changes`). One reading is saved, corrected or removed through
`save_reading` / `remove_reading` (the back office, `record_reading`); many at once through
`record_readings` (a bank registry's).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from kvit.accounts.models import Account
from kvit.billing.actions import billed_since, recalculate_accounts
from kvit.billing.changes import Input, Recalculation, Version, remove, save
from kvit.billing.mapping import METER_COLUMNS, config_of
from kvit.core.consumption import cutoff_date
from kvit.core.dating import DateRange
from kvit.core.periods import Period
from kvit.core.rebilling import LATE_READING, METER_CHANGED
from kvit.metering.models import Meter, Reading
from kvit.premises.actions import accounts_of


def reading_period(taken_on: date, cutoff_day: int) -> Period:
    """The period whose reading window holds `taken_on`: after the previous period's
    cutoff, up to and including this period's (spec 1.8)."""
    period = Period.of(taken_on)
    return period if taken_on <= cutoff_date(period, cutoff_day) else period.next()


def _version(pk: int) -> Version | None:
    """A reading as billing sees it: from the first day of its reading period on."""
    row = (
        Reading.objects.filter(pk=pk)
        .values_list(
            "meter__tenant_id",
            "taken_on",
            "meter_id",
            "zone",
            "value",
            "kind",
            "status",
            "meter__premise_id",
            "meter__building_id",
        )
        .first()
    )
    if row is None:
        return None
    tenant_id, taken_on, *key = row
    cutoff = config_of(tenant_id, Period.of(taken_on)).reading_cutoff_day
    first = reading_period(taken_on, cutoff).first_day
    return Version(tenant_id, DateRange(first, None), (taken_on, *key))


def _accounts(version: Version, since: date) -> list[int]:
    """The premise's accounts; for a common-house meter, the building's; none for a meter of
    a network node (the energy balance, not a charge)."""
    premise_id, building_id = version.key[-2:]
    return accounts_of(premise_id, building_id)


READINGS = Input("reading", LATE_READING, _version, _accounts)
METER_FIELDS = tuple(name for name in METER_COLUMNS if name not in ("pk", "installed_on"))
"""What billing reads of a meter besides its installation day (`kvit.billing.mapping`)."""


def _meter_version(pk: int) -> Version | None:
    """A meter as billing sees it: from its installation day on, whatever it changed (a
    removal day, a failure, a transformation ratio changes the volumes since then)."""
    row = (
        Meter.objects.filter(pk=pk)
        .values_list("tenant_id", "installed_on", *METER_FIELDS, "premise_id", "building_id")
        .first()
    )
    if row is None:
        return None
    tenant_id, installed_on, *key = row
    return Version(tenant_id, DateRange(installed_on, None), tuple(key))


METERS = Input("meter", METER_CHANGED, _meter_version, _accounts)


def save_meter(meter: Meter, *, user: Any = None) -> Recalculation:
    """Save a new or changed meter (ValidationError: nothing saved), billed at once from its
    installation day, with the readings saved in the same block (its page's)."""
    return save(METERS, meter, user=user)


def remove_meter(meter: Meter, *, user: Any = None) -> Recalculation:
    """Delete a meter entered by mistake (one without readings), billed at once."""
    return remove(METERS, meter, user=user)


def save_reading(reading: Reading, *, user: Any = None) -> Recalculation:
    """Save a new or corrected reading (ValidationError: nothing saved), billed at once."""
    return save(READINGS, reading, user=user)


def remove_reading(reading: Reading, *, user: Any = None) -> Recalculation:
    """Delete a reading entered by mistake, billed at once."""
    return remove(READINGS, reading, user=user)


def record_reading(
    meter: Meter,
    value: Decimal,
    taken_on: date,
    *,
    zone: str = "",
    source: str = Reading.Source.OPERATOR,
    user: Any = None,
) -> Reading:
    """Save an accepted reading (ValidationError when it does not fit the meter) and bill
    its premise's accounts again for the periods it changes."""
    reading = Reading(
        meter=meter,
        zone=zone or meter.zone_codes[0],
        taken_on=taken_on,
        value=value,
        source=source,
    )
    save_reading(reading, user=user)
    return reading


def record_readings(
    readings: Sequence[Reading],
    *,
    source: tuple[str, str] = ("readings", ""),
    user: Any = None,
) -> list[ValidationError | None]:
    """Save many accepted readings at once (a bank registry's, an import's) and bill their
    premises' accounts again, in bulk.

    Each reading is checked by itself as `record_reading` does, without a query (pass the
    readings with their meters loaded); the valid ones are inserted together with their
    history, and the accounts of their premises are rated again, a chunk of accounts at a
    time (`kvit.billing.actions.recalculate_accounts`), for every period already opened
    from the first one a reading changes: a few queries per chunk, not a recalculation per
    reading. One result per reading, in order: None when
    it was saved, else why not."""
    results: list[ValidationError | None] = []
    valid: list[Reading] = []
    for reading in readings:
        try:
            reading.clean_fields(exclude=["meter"])
            reading.clean()
        except ValidationError as error:
            results.append(error)
            continue
        results.append(None)
        valid.append(reading)
    if not valid:
        return results
    with transaction.atomic():
        bulk_create_with_history(valid, Reading, batch_size=1_000, default_user=_user(user))
        _recalculate_premises(valid, source, user)
    return results


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _recalculate_premises(readings: list[Reading], source: tuple[str, str], user: Any) -> None:
    """Rate the accounts of the readings' premises again for the periods the readings
    change (see `record_readings`): the accounts that start from the same period together
    (`kvit.billing.actions.recalculate_accounts`: a chunk of accounts at a time)."""
    by_tenant: dict[int, dict[int, date]] = defaultdict(dict)  # premise → first day changed
    for reading in readings:
        meter = reading.meter
        if meter.premise_id is None:
            continue
        firsts = by_tenant[meter.tenant_id]
        earlier = firsts.get(meter.premise_id)
        if earlier is None or reading.taken_on < earlier:
            firsts[meter.premise_id] = reading.taken_on
    for tenant_id, firsts in by_tenant.items():
        cutoffs: dict[Period, int] = {}
        starts: dict[int, Period] = {}
        for premise_id, taken_on in firsts.items():
            month = Period.of(taken_on)
            if month not in cutoffs:
                cutoffs[month] = config_of(tenant_id, month).reading_cutoff_day
            starts[premise_id] = reading_period(taken_on, cutoffs[month])
        accounts: dict[Period, list[int]] = defaultdict(list)
        for pk, premise_id in Account.objects.filter(premise_id__any_of=list(starts)).values_list(
            "pk", "premise_id"
        ):
            accounts[starts[premise_id]].append(pk)
        for first, ids in sorted(accounts.items()):
            recalculate_accounts(
                tenant_id,
                ids,
                billed_since(tenant_id, first),
                reason=LATE_READING,
                source=source,
                user=_user(user),
            )
