"""Read-side queries over meters and readings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from kvit.metering.models import Reading


def latest_readings(meter_ids: Iterable[int], per_zone: int) -> dict[int, list[Reading]]:
    """The newest `per_zone` readings of every zone of each meter, newest first, in one query."""
    ranked = (
        Reading.objects.filter(meter_id__in=list(meter_ids))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("meter_id"), F("zone")],
                order_by=[F("taken_on").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_zone)
        .order_by("meter_id", "-taken_on", "zone", "-id")
    )
    found: dict[int, list[Reading]] = defaultdict(list)
    for reading in ranked:
        found[reading.meter_id].append(reading)
    return found
