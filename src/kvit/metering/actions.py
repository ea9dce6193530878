"""Recording readings: validated, saved, and billed at once (the real-time path).

A reading changes the volume of the period whose window it falls in, and the start of the
next one; so the accounts of the meter's premise are recalculated for that period and every
later period that is already billed, in the same transaction. A period that is closed is
corrected in the open one (`kvit.billing.actions.recalculate`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from kvit.accounts.models import Account
from kvit.billing.actions import BillRunRefused, posting_period_of, recalculate
from kvit.billing.mapping import Catalogue, config_of
from kvit.billing.recompute import recompute
from kvit.core.consumption import cutoff_date
from kvit.core.periods import Period
from kvit.core.rebilling import LATE_READING
from kvit.ledger.models import BillingPeriod
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
            billed = [
                Period.of(day)
                for day in BillingPeriod.objects.filter(
                    tenant_id=meter.tenant_id, period__gte=first.first_day
                ).values_list("period", flat=True)
            ]
            for account in meter.premise.accounts.all():  # type: ignore[union-attr]
                recalculate(
                    account,
                    billed,
                    reason=LATE_READING,
                    source=("reading", str(reading.pk)),
                    user=user,
                )
    return reading


RECOMPUTE_CHUNK = 2_000
"""Accounts rated together when many readings are recorded at once (the bill run's chunk)."""


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
    history, and the accounts of their premises are rated again with the bill run's step
    (`kvit.billing.recompute.recompute`) per period, a chunk of accounts at a time, for
    every period already opened from the first one a reading changes: a few queries per
    chunk, not a recalculation per reading. One result per reading, in order: None when
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
    change (see `record_readings`)."""
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
        billed = sorted(
            Period.of(day)
            for day in BillingPeriod.objects.filter(
                tenant_id=tenant_id, period__gte=min(starts.values()).first_day
            ).values_list("period", flat=True)
        )
        accounts = list(
            Account.objects.filter(premise_id__in=list(starts))
            .order_by("premise__building_id", "pk")
            .values_list("pk", "premise_id")
        )
        for period in billed:
            due = [pk for pk, premise_id in accounts if starts[premise_id] <= period]
            if not due:
                continue
            posting_period = posting_period_of(tenant_id, period)
            if posting_period is None:
                raise BillRunRefused(
                    _("No open period to post the recalculation of %(period)s into.")
                    % {"period": period}
                )
            catalogue = Catalogue.load(tenant_id, period)
            for start in range(0, len(due), RECOMPUTE_CHUNK):
                recompute(
                    catalogue,
                    due[start : start + RECOMPUTE_CHUNK],
                    posting_period=posting_period,
                    reason=LATE_READING,
                    source=source,
                    user=_user(user),
                )
