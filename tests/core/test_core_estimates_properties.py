"""Properties of estimates and true-ups over a run of periods (spec 2.4, 2.7), with random
patterns of submitted and missing readings: recomputing unchanged inputs gives the same
lines; whatever was estimated, the volumes billed add up exactly to what the meter
measured once an actual reading arrives; re-rated shares add up to the true volume. No
database."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from test_core_estimates_builders import (
    DEC_2024,
    HALF_YEAR,
    JULY,
    bill_run,
    cold_inputs,
    config,
    monthly,
    posted_of,
)

from kvit.core.codes import LineKind, Rule
from kvit.core.config import Config
from kvit.core.lines import Rating
from kvit.core.periods import Period
from kvit.core.rating import rate

VOLUME_RULES = {Rule.METERED, Rule.AVERAGE, Rule.NORM_PER_PERSON, Rule.TRUE_UP}


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[str | None], Period]:
    """Monthly readings after June 2025: each month submitted or not, the last one always
    submitted; the meter keeps counting either way."""
    months = draw(st.integers(2, 14))
    submitted = [*draw(st.lists(st.booleans(), min_size=months - 1, max_size=months - 1)), True]
    total = Decimal(HALF_YEAR[-1])
    values: list[str | None] = []
    for sent in submitted:
        total += Decimal(draw(st.integers(0, 30_000))).scaleb(-3)
        values.append(str(total) if sent else None)
    last = JULY
    for _ in range(months - 1):
        last = last.next()
    return values, last


def bills(values: list[str | None], last: Period, cfg: Config) -> dict[Period, Rating]:
    history = monthly("C", DEC_2024, *HALF_YEAR, *values)
    return bill_run(lambda period: cold_inputs(history, period, cfg=cfg), JULY, last)


def billed_volume(ratings: dict[Period, Rating]) -> Decimal:
    return sum(
        (
            line.quantity
            for rating in ratings.values()
            for line in rating.lines
            if line.explanation.rule in VOLUME_RULES
        ),
        Decimal(0),
    )


@given(histories())
@settings(max_examples=60, deadline=None)
def test_current_period_true_ups_bill_exactly_what_the_meter_measured(
    case: tuple[list[str | None], Period],
) -> None:
    values, last = case
    ratings = bills(values, last, config())
    assert billed_volume(ratings) == Decimal(values[-1] or "0") - Decimal(HALF_YEAR[-1])
    for rating in ratings.values():
        assert rating.issues == ()


@given(histories())
@settings(max_examples=60, deadline=None)
def test_rerated_shares_add_up_to_the_true_volume(case: tuple[list[str | None], Period]) -> None:
    values, last = case
    ratings = bills(values, last, config(trueup_mode="rerate_past"))
    assert billed_volume(ratings) == Decimal(values[-1] or "0") - Decimal(HALF_YEAR[-1])
    final = ratings[last]
    current = [line for line in final.lines if line.kind is LineKind.CHARGE]
    past = [line for line in final.lines if line.kind is LineKind.RECALCULATION]
    if past:  # the last reading settles estimated periods
        (share,) = current
        true_volume = share.explanation.values["true_volume"]
        allocated = [line.explanation.values["allocated"] for line in (*past, share)]
        assert sum(_decimals(allocated), Decimal(0)) == true_volume
        assert [line.explanation.corrects for line in past] == list(share.explanation.estimated)
        for line in past:
            values_ = line.explanation.values
            rerated, billed = _decimals([values_["rerated"], values_["billed"]])
            assert line.amount == rerated - billed


@given(histories(), st.randoms(use_true_random=False))
@settings(max_examples=40, deadline=None)
def test_recomputing_unchanged_inputs_gives_the_same_lines(
    case: tuple[list[str | None], Period], shuffle: random.Random
) -> None:
    values, last = case
    history = monthly("C", DEC_2024, *HALF_YEAR, *values)
    ratings = bill_run(lambda period: cold_inputs(history, period), JULY, last)
    assert bill_run(lambda period: cold_inputs(history, period), JULY, last) == ratings
    # the last period again, from the posted lines of the others and the readings in
    # another order: the same lines, the same issues
    posted = posted_of(
        line for period, rating in ratings.items() if period < last for line in rating.lines
    )
    shuffled = list(history)
    shuffle.shuffle(shuffled)
    again = rate(replace(cold_inputs(shuffled, last), posted=posted))
    assert again == ratings[last]


def _decimals(values: Sequence[object]) -> list[Decimal]:
    assert all(isinstance(value, Decimal) for value in values)
    return [value for value in values if isinstance(value, Decimal)]
