"""kvit.core quality reductions (2.15), properties (Hypothesis): a reduction is never
positive and never exceeds the period's charge for the service; without dead-end accidents,
`excess_mode = per_event` never reduces less than `total`. No database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from test_core_rating_builders import account, flat, inputs, metered_service, norm, persons

from kvit.core.codes import LineKind, Resource
from kvit.core.config import config_on
from kvit.core.inputs import Interruption
from kvit.core.rating import rate

STARTS = st.integers(-3 * 24 * 60, 31 * 24 * 60).map(
    lambda minutes: datetime(2025, 7, 1) + timedelta(minutes=minutes)
)


@given(
    resource=st.sampled_from([Resource.COLD_WATER, Resource.HOT_WATER, Resource.ELECTRICITY]),
    tariff=st.integers(0, 10**5).map(lambda n: Decimal(n).scaleb(-2)),
    percent=st.integers(0, 1000).map(lambda n: Decimal(n).scaleb(-2)),
    people=st.integers(0, 5),
    pieces=st.lists(
        st.tuples(STARTS, st.integers(0, 40 * 24 * 60), st.booleans(), st.booleans()),
        max_size=5,
    ),
)
def test_a_reduction_never_exceeds_the_period_charge(
    resource: Resource,
    tariff: Decimal,
    percent: Decimal,
    people: int,
    pieces: list[tuple[datetime, int, bool, bool]],
) -> None:
    service = metered_service(resource, flat(str(tariff)), norms=(norm("4.745"),))
    interruptions = tuple(
        Interruption(service.code, start, start + timedelta(minutes=length), planned, dead_end)
        for start, length, planned, dead_end in pieces
    )
    config = config_on(date(2025, 7, 1), {"quality_reduction_pct_per_hour": str(percent)})
    acc = account(
        service.code,
        registrations=persons(people),
        owners=1,
        interruptions=interruptions,
        meter_impossible=frozenset(Resource),
    )
    rating = rate(inputs(acc, [service], config=config))
    charge = sum((line.amount for line in rating.lines if line.kind is LineKind.CHARGE), Decimal(0))
    reductions = [line for line in rating.lines if line.kind is LineKind.QUALITY_REDUCTION]
    assert len(reductions) <= 1
    for line in reductions:
        assert Decimal(0) < -line.amount <= charge


@given(
    resource=st.sampled_from([Resource.COLD_WATER, Resource.HOT_WATER, Resource.ELECTRICITY]),
    pieces=st.lists(
        st.tuples(STARTS, st.integers(0, 40 * 24 * 60), st.booleans()),
        max_size=5,
    ),
)
def test_per_event_never_reduces_less_than_the_total_without_dead_end_accidents(
    resource: Resource, pieces: list[tuple[datetime, int, bool]]
) -> None:
    service = metered_service(resource, flat("48.95"), norms=(norm("4.745"),))
    interruptions = tuple(
        Interruption(service.code, start, start + timedelta(minutes=length), planned)
        for start, length, planned in pieces
    )
    acc = account(
        service.code,
        registrations=persons(3),
        interruptions=interruptions,
        meter_impossible=frozenset(Resource),
    )

    def reduction(mode: str) -> Decimal:
        config = config_on(date(2025, 7, 1), {"excess_mode": mode})
        rating = rate(inputs(acc, [service], config=config))
        return -sum(
            (line.amount for line in rating.lines if line.kind is LineKind.QUALITY_REDUCTION),
            Decimal(0),
        )

    total, per_event = reduction("total"), reduction("per_event")
    assert total <= per_event
    if resource is Resource.ELECTRICITY:  # no single-event limit
        assert total == per_event
