"""Recording readings: validated, saved, and billed at once (the real-time path).

A reading changes the volume of the period whose window it falls in, and the start of the
next one; so the accounts of the meter's premise (and of its building, when that has a
common-house meter) are recalculated for that period and every later period that is already
billed, in the same transaction. A period that is closed is
corrected in the open one (`kvit.billing.actions.recalculate`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from kvit.billing.actions import billed_since, recalculate_accounts
from kvit.billing.mapping import config_of
from kvit.core.consumption import cutoff_date
from kvit.core.periods import Period
from kvit.core.rebilling import LATE_READING
from kvit.metering.models import Meter, Reading


def reading_period(taken_on: date, cutoff_day: int) -> Period:
    """The period whose reading window holds `taken_on`: after the previous period's
    cutoff, up to and including this period's (spec 1.8)."""
    period = Period.of(taken_on)
    return period if taken_on <= cutoff_date(period, cutoff_day) else period.next()


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
    reading.full_clean()
    with transaction.atomic():
        reading.save()
        if meter.premise_id is not None:
            first = reading_period(
                taken_on, config_of(meter.tenant_id, Period.of(taken_on)).reading_cutoff_day
            )
            recalculate_accounts(
                meter.tenant_id,
                meter.premise.accounts.values_list("pk", flat=True),  # type: ignore[union-attr]
                billed_since(meter.tenant_id, first),
                reason=LATE_READING,
                source=("reading", str(reading.pk)),
                user=user,
            )
    return reading
