"""Builders shared by the estimate and true-up tests (spec 2.3, 2.4, 2.7): monthly reading
histories, posted lines from earlier ratings, and a bill run over several periods. Holds
no tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from test_core_rating_builders import (
    account,
    flat,
    inputs,
    meter,
    metered_service,
    norm,
    persons,
    reading,
)

from kvit.core.codes import Resource, Zone
from kvit.core.config import Config, config_on
from kvit.core.inputs import Account, Meter, PeriodInputs, PostedLine, Reading, Service
from kvit.core.lines import ChargeLine, Rating
from kvit.core.periods import Period
from kvit.core.rating import rate

DEC_2024 = Period(2024, 12)
JULY = Period(2025, 7)

COLD = metered_service(Resource.COLD_WATER, flat("50"), norms=(norm("5"),))
CW = meter("C", Resource.COLD_WATER)

# Readings on the 25th, December 2024 to June 2025: monthly volumes 10, 11, 12, 13, 14, 15
# → V_avg = 75 / 6 = 12.500 m³ for a July without a reading.
HALF_YEAR = ("100", "110", "121", "133", "146", "160", "175")


def config(**overrides: str) -> Config:
    return config_on(date(2025, 7, 1), overrides)


def monthly(
    serial: str,
    first: Period,
    *values: str | None,
    day: int = 25,
    zone: Zone = Zone.TOTAL,
) -> list[Reading]:
    """One reading a month on `day` from `first` on; `None` skips a month."""
    found: list[Reading] = []
    period = first
    for value in values:
        if value is not None:
            found.append(reading(serial, date(period.year, period.month, day), value, zone))
        period = period.next()
    return found


def posted_of(lines: Iterable[ChargeLine]) -> tuple[PostedLine, ...]:
    """What the ledger holds after posting `lines` (the diff step of a bill run)."""
    return tuple(
        PostedLine(
            line.provider,
            line.service,
            line.period,
            line.kind,
            line.amount,
            line.quantity,
            line.explanation.rule.value,
            line.zone,
            line.tier,
            line.span.start,
            line.span.end,
        )
        for line in lines
    )


def cold_inputs(
    readings: Iterable[Reading],
    period: Period = JULY,
    meters: Iterable[Meter] = (CW,),
    cfg: Config | None = None,
    acc: Account | None = None,
    services: Iterable[Service] = (COLD,),
) -> PeriodInputs:
    return inputs(
        acc or account("cold_water", registrations=persons(2)),
        services,
        meters,
        readings,
        period=period,
        config=cfg or config(),
    )


def bill_run(
    make: Callable[[Period], PeriodInputs], first: Period, last: Period
) -> dict[Period, Rating]:
    """Rate every period from `first` to `last`, each with the lines posted before it."""
    posted: tuple[PostedLine, ...] = ()
    ratings: dict[Period, Rating] = {}
    period = first
    while period <= last:
        rating = rate(replace(make(period), posted=posted))
        ratings[period] = rating
        posted += posted_of(rating.lines)
        period = period.next()
    return ratings


def volumes(rating: Rating) -> list[tuple[str, Decimal]]:
    return [(line.explanation.rule.value, line.quantity) for line in rating.lines]
