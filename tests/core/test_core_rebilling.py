"""kvit.core.rebilling: recompute and diff. Every case by hand (equal, changed, new, no longer
proposed; several entries per key, zones, tiers, two providers; the open and a closed
period), the correction sentences in Russian and English, and Hypothesis properties:
unchanged inputs post nothing (the real engine), posted + corrections net to the proposed
lines per key, a second diff posts nothing, and the corrections add up to Σ proposed −
Σ posted. No database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_core_rating_builders import (
    ACCOUNT,
    CONFIG,
    JULY,
    LONG_AGO,
    PROVIDER,
    account,
    area_service,
    d,
    flat,
    inputs,
    meter,
    metered_service,
    norm,
    persons,
    reading,
    tiered,
    zoned,
)

from kvit.core import estimate_sentences, sentences
from kvit.core.codes import LineKind, Method, Resource, Rule, Unit, Zone
from kvit.core.dating import DateRange
from kvit.core.explain import render
from kvit.core.inputs import (
    BenefitGrant,
    ConnectedService,
    Meter,
    PeriodInputs,
    PostedLine,
    Reading,
    Service,
)
from kvit.core.lines import ChargeLine, Explanation, LineKey, RegisterVolume
from kvit.core.periods import Period
from kvit.core.rating import rate
from kvit.core.rebilling import (
    ABSENCE_DOCUMENTED,
    BENEFIT_CONFIRMED,
    CORRECTED_KIND,
    CORRECTS_ENTRY,
    LATE_READING,
    NOW_AMOUNT,
    NOW_QUANTITY,
    REASONS,
    RECALCULATED,
    TARIFF_CORRECTED,
    WAS_AMOUNT,
    WAS_QUANTITY,
    Pairing,
    corrected_period,
    diff,
    pairing,
    posted_from,
    posted_key,
    rebill,
    settled_key,
)

JUNE = Period(2025, 6)
AUGUST = Period(2025, 8)
SEPTEMBER = Period(2025, 9)
JUNE_25 = date(2025, 6, 25)
JULY_25 = date(2025, 7, 25)
JULY_16 = date(2025, 7, 16)
OTHER = "provider-2"
ZERO = Decimal(0)

COLD = metered_service(
    Resource.COLD_WATER,
    flat("48.95"),
    norms=(norm("4.745"),),
    increase_coefficient_applies=True,
    name="Холодная вода",
)
HOT = metered_service(Resource.HOT_WATER, flat("245.67"), norms=(norm("3.5"),))
SEWERAGE = Service(
    "sewerage",
    "Водоотведение",
    Unit.M3,
    Method.METERED,
    summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
    tariffs=(flat("40.00"),),
)
DAY_NIGHT = metered_service(
    Resource.ELECTRICITY, zoned(day="4.93", night="2.96"), method=Method.TIME_OF_USE
)
TIERED = metered_service(
    Resource.ELECTRICITY, tiered(("100", "5.00"), (None, "7.00")), method=Method.TIERED
)
MAINTENANCE = area_service("maintenance", flat("33.40"), name="Содержание жилого помещения")
WASTE = Service(
    "solid_waste",
    "",
    Unit.M3,
    Method.NORM_PER_PERSON,
    tariffs=(flat("1052.00"),),
    norms=(norm("0.1"),),
)
INTERCOM = Service("intercom", "Домофон", Unit.ACCOUNT, Method.FIXED, tariffs=(flat("55.00"),))
CATALOGUE = {
    service.code: service
    for service in (COLD, HOT, SEWERAGE, DAY_NIGHT, MAINTENANCE, WASTE, INTERCOM)
}


# --- builders -------------------------------------------------------------------------------


def line(
    amount: str,
    quantity: str = "1",
    *,
    service: str = "cold_water",
    provider: str = PROVIDER,
    kind: LineKind = LineKind.CHARGE,
    rule: Rule = Rule.METERED,
    zone: str = "",
    tier: int = 0,
    span: DateRange | None = None,
    period: Period = JULY,
    tariff: str = "48.95",
    unit: Unit = Unit.M3,
    **explained: Any,
) -> ChargeLine:
    return ChargeLine(
        ACCOUNT,
        provider,
        service,
        period,
        kind,
        d(quantity),
        unit,
        d(tariff),
        d(amount),
        Explanation(rule, explained.pop("service_name", ""), **explained),
        span or period.span,
        zone,
        tier,
    )


def entry(amount: str, quantity: str = "1", **fields: Any) -> PostedLine:
    """A posted entry of the key `line(**fields)` would have."""
    (posted,) = posted_from([line(amount, quantity, **fields)])
    return posted


def fix(
    proposed: Sequence[ChargeLine],
    posted: Iterable[PostedLine],
    posting_period: Period = JULY,
    reason: str = LATE_READING,
    period: Period = JULY,
) -> tuple[ChargeLine, ...]:
    return diff(
        proposed,
        posted,
        account=ACCOUNT,
        period=period,
        posting_period=posting_period,
        services=CATALOGUE,
        reason=reason,
    )


Net = dict[LineKey, tuple[Decimal, Decimal]]


def nets(entries: Iterable[PostedLine], period: Period = JULY) -> Net:
    """Σ amount and Σ quantity per key of `period`, keys that net to nothing left out."""
    found: Net = {}
    for posted in entries:
        if posted.period == period:
            key = posted_key(posted)
            amount, quantity = found.get(key, (ZERO, ZERO))
            found[key] = (amount + posted.amount, quantity + posted.quantity)
    return {key: net for key, net in found.items() if net != (ZERO, ZERO)}


def paired(entries: Iterable[PostedLine]) -> dict[Pairing, tuple[Decimal, Decimal]]:
    """`nets` by the key without its kind."""
    found: dict[Pairing, tuple[Decimal, Decimal]] = {}
    for key, (amount, quantity) in nets(entries).items():
        was_amount, was_quantity = found.get(pairing(key), (ZERO, ZERO))
        found[pairing(key)] = (was_amount + amount, was_quantity + quantity)
    return {key: net for key, net in found.items() if net != (ZERO, ZERO)}


def as_recalculations(corrections: Iterable[ChargeLine]) -> tuple[PostedLine, ...]:
    """Corrections counted for the corrected period under their own kind (a correction of a
    closed period as a `recalculation`), not the corrected line's as `posted_from` does."""
    return tuple(
        replace(posted, kind=line.kind)
        for line, posted in zip(corrections, posted_from(corrections), strict=True)
    )


def applied(
    proposed: Sequence[ChargeLine], posted: Sequence[PostedLine], posting_period: Period
) -> None:
    """The properties of one diff: posting it makes the ledger net to the proposal, the
    corrections add up to Σ proposed − Σ posted, and a second diff posts nothing (also when
    the corrections are counted as recalculations)."""
    corrections = fix(proposed, posted, posting_period)
    after = (*posted, *posted_from(corrections))
    assert nets(after) == nets(posted_from(proposed))
    counted = (*posted, *as_recalculations(corrections))
    assert paired(counted) == paired(posted_from(proposed))
    assert fix(proposed, counted, posting_period) == ()
    ours = [posted for posted in posted if posted.period == JULY]
    assert sum(line.amount for line in corrections) == sum(line.amount for line in proposed) - sum(
        posted.amount for posted in ours
    )
    assert sum(line.quantity for line in corrections) == sum(
        line.quantity for line in proposed
    ) - sum(posted.quantity for posted in ours)
    for correction in corrections:
        assert correction.period == posting_period
        assert settled_key(correction)[2] == JULY
    assert fix(proposed, after, posting_period) == ()
    assert fix(proposed, after, SEPTEMBER) == ()


# --- each case --------------------------------------------------------------------------------


def test_an_equal_key_gives_nothing_in_the_open_and_in_a_closed_period() -> None:
    proposed = [line("379.36", "7.750")]
    posted = [entry("379.36", "7.750")]
    assert fix(proposed, posted) == ()
    assert fix(proposed, posted, SEPTEMBER) == ()


def test_a_changed_amount_in_the_open_period_keeps_the_key() -> None:
    (correction,) = fix([line("401.10", "8.194")], [entry("379.36", "7.750")], reason=RECALCULATED)
    assert correction.key == line("0").key
    assert (correction.period, correction.kind) == (JULY, LineKind.CHARGE)
    assert (correction.quantity, correction.amount) == (d("0.444"), d("21.74"))
    assert (correction.unit, correction.tariff) == (Unit.M3, d("48.95"))
    explanation = correction.explanation
    assert (explanation.rule, explanation.corrects, explanation.reason) == (
        Rule.METERED,
        None,
        RECALCULATED,
    )
    assert explanation.values == {
        CORRECTED_KIND: "charge",
        WAS_AMOUNT: d("379.36"),
        NOW_AMOUNT: d("401.10"),
        WAS_QUANTITY: d("7.750"),
        NOW_QUANTITY: d("8.194"),
    }
    assert settled_key(correction) == correction.key


def test_a_changed_amount_of_a_closed_period_is_a_recalculation_of_the_open_one() -> None:
    first_half = DateRange(JULY.first_day, JULY_16)
    original = line("190.00", "4.000", zone="day", tier=2, span=first_half, service_name="ХВС")
    proposed = replace(original, quantity=d("4.500"), amount=d("213.75"))
    (correction,) = fix([proposed], posted_from([original]), SEPTEMBER, TARIFF_CORRECTED)
    assert (correction.period, correction.kind) == (SEPTEMBER, LineKind.RECALCULATION)
    assert (correction.zone, correction.tier, correction.span) == ("day", 2, first_half)
    assert (correction.quantity, correction.amount) == (d("0.500"), d("23.75"))
    explanation = correction.explanation
    assert (explanation.rule, explanation.service_name) == (Rule.METERED, "ХВС")
    assert (explanation.corrects, explanation.reason) == (JULY, TARIFF_CORRECTED)
    assert explanation.values[CORRECTED_KIND] == "charge"
    # its own key is not the corrected line's, but it settles that one
    assert correction.key != original.key
    assert correction.key[2:4] == (SEPTEMBER, LineKind.RECALCULATION)
    assert settled_key(correction) == original.key
    assert corrected_period(correction) == JULY
    assert corrected_period(original) is None


def test_a_changed_quantity_alone_is_corrected_too() -> None:
    (correction,) = fix([line("100.00", "2.000")], [entry("100.00", "1.000")])
    assert (correction.quantity, correction.amount) == (d("1.000"), ZERO)


def test_a_new_key_in_the_open_period_is_the_line_itself() -> None:
    proposed = line("379.36", "7.750")
    (posted,) = fix([proposed], [])
    assert posted is proposed
    zero = line("0.00", "0.000", service="maintenance")
    assert fix([zero], []) == (zero,)  # a zero line is posted: the document shows the service


def test_a_new_key_of_a_closed_period_is_a_recalculation_with_its_explanation() -> None:
    register = RegisterVolume(
        "C",
        Zone.TOTAL,
        reading("C", JUNE_25, "345.120"),
        reading("C", JULY_25, "352.870"),
        0,
        d("100000"),
        d("1"),
        d("7.750"),
    )
    proposed = line("379.36", "7.750", sources=(register,), values={"volume": d("7.750")})
    zero = line("0.00", "0.000", service="maintenance", rule=Rule.PER_AREA)
    (correction,) = fix([proposed, zero], [], SEPTEMBER, BENEFIT_CONFIRMED)
    assert correction == replace(
        proposed,
        period=SEPTEMBER,
        kind=LineKind.RECALCULATION,
        explanation=replace(
            proposed.explanation,
            values={
                "volume": d("7.750"),
                CORRECTED_KIND: "charge",
                WAS_AMOUNT: ZERO,
                NOW_AMOUNT: d("379.36"),
                WAS_QUANTITY: ZERO,
                NOW_QUANTITY: d("7.750"),
            },
            corrects=JULY,
            reason=BENEFIT_CONFIRMED,
        ),
    )
    assert settled_key(correction) == proposed.key


def test_a_key_no_longer_proposed_is_reversed() -> None:
    posted = [entry("1813.62", "54.30", service="maintenance", rule=Rule.PER_AREA)]
    (reversal,) = fix([], posted)
    assert (reversal.kind, reversal.period, reversal.service) == (
        LineKind.CHARGE,
        JULY,
        "maintenance",
    )
    assert (reversal.quantity, reversal.amount) == (d("-54.30"), d("-1813.62"))
    # no proposed line: the unit and name from the catalogue, no tariff
    assert (reversal.unit, reversal.tariff) == (Unit.M2, ZERO)
    assert reversal.explanation.service_name == "Содержание жилого помещения"
    assert reversal.explanation.rule is Rule.PER_AREA
    (closed,) = fix([], posted, SEPTEMBER)
    assert (closed.kind, closed.period, closed.explanation.corrects) == (
        LineKind.RECALCULATION,
        SEPTEMBER,
        JULY,
    )
    assert closed.amount == d("-1813.62")


def test_a_correction_names_the_first_entry_of_its_key() -> None:
    first = replace(entry("379.36", "7.750"), entry="1041")
    again = replace(entry("10.00", "0.200"), entry="2077")
    (correction,) = fix([line("401.10", "8.194")], [first, again], AUGUST)
    assert correction.explanation.values[CORRECTS_ENTRY] == "1041"
    (reversal,) = fix([], [again, first])
    assert reversal.explanation.values[CORRECTS_ENTRY] == "2077"
    (unnamed,) = fix([], [entry("1.00")])  # an entry without an id (not from the ledger)
    assert CORRECTS_ENTRY not in unnamed.explanation.values


def test_entries_that_net_to_nothing_are_neither_reversed_nor_paired() -> None:
    posted = [entry("379.36", "7.750"), entry("-379.36", "-7.750")]
    assert fix([], posted) == ()
    proposed = line("401.10", "8.194")
    assert fix([proposed], posted) == (proposed,)  # nothing stands: the line itself


def test_several_entries_of_one_key_are_netted() -> None:
    # July as billed, corrected in July (open), then in August (closed): 379.36 → 390.00 → 401.10
    billed = line("379.36", "7.750")
    in_july = fix([line("390.00", "7.967")], posted_from([billed]))
    in_august = fix([line("401.10", "8.194")], posted_from([billed, *in_july]), AUGUST)
    posted = posted_from([billed, *in_july, *in_august])
    assert [posted.period for posted in posted] == [JULY, JULY, JULY]
    assert nets(posted) == {billed.key: (d("401.10"), d("8.194"))}
    assert fix([line("401.10", "8.194")], posted, SEPTEMBER) == ()
    (correction,) = fix([line("395.00", "8.069")], posted, SEPTEMBER, ABSENCE_DOCUMENTED)
    assert (correction.amount, correction.quantity) == (d("-6.10"), d("-0.125"))
    assert correction.explanation.values[WAS_AMOUNT] == d("401.10")


def test_a_correction_counted_as_a_recalculation_of_the_corrected_period_pairs_too() -> None:
    billed = line("379.36", "7.750")
    (correction,) = fix([line("401.10", "8.194")], posted_from([billed]), SEPTEMBER)
    # the ledger may count it for July as a recalculation rather than as the July charge
    counted = replace(posted_from([correction])[0], kind=LineKind.RECALCULATION)
    assert posted_key(counted) != billed.key
    assert pairing(posted_key(counted)) == pairing(billed.key)
    assert fix([line("401.10", "8.194")], [*posted_from([billed]), counted], SEPTEMBER) == ()


def test_lines_of_one_key_but_another_kind_are_paired() -> None:
    # a true-up posted as a recalculation (current_period), proposed as this period's charge
    # share after the mode became rerate_past: one correction, kind as now proposed
    posted = entry("-50.00", "-1.000", kind=LineKind.RECALCULATION, rule=Rule.TRUE_UP)
    proposed = line("30.00", "0.600", rule=Rule.TRUE_UP)
    (correction,) = fix([proposed], [posted])
    assert (correction.kind, correction.amount, correction.quantity) == (
        LineKind.CHARGE,
        d("80.00"),
        d("1.600"),
    )
    assert fix([proposed], [posted, *posted_from([correction])]) == ()


def test_two_corrections_in_one_posting_period_add_up() -> None:
    billed = posted_from([line("379.36", "7.750")])
    late = fix([line("401.10", "8.194")], billed, SEPTEMBER, LATE_READING)
    both = (*billed, *posted_from(late))
    confirmed = fix([line("350.00", "8.194")], both, SEPTEMBER, BENEFIT_CONFIRMED)
    assert [c.amount for c in (*late, *confirmed)] == [d("21.74"), d("-51.10")]
    assert late[0].key == confirmed[0].key  # two entries of one key in September
    assert fix([line("350.00", "8.194")], (*both, *posted_from(confirmed)), SEPTEMBER) == ()


def test_several_proposed_lines_of_one_key_are_compared_by_their_sum() -> None:
    proposed = [line("100.00", "2"), line("50.00", "1")]
    assert fix(proposed, [entry("150.00", "3")]) == ()
    (correction,) = fix(proposed, [entry("120.00", "3")])
    assert correction.amount == d("30.00")


def test_zones_and_tiers_are_corrected_one_by_one() -> None:
    def day_night(day_end: str) -> PeriodInputs:
        return inputs(
            account("electricity"),
            [DAY_NIGHT],
            [meter("E-2", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))],
            [
                reading("E-2", JUNE_25, "10250", Zone.DAY),
                reading("E-2", JUNE_25, "4105", Zone.NIGHT),
                reading("E-2", JULY_25, day_end, Zone.DAY),
                reading("E-2", JULY_25, "4203", Zone.NIGHT),
            ],
        )

    before, after = rate(day_night("10462")).lines, rate(day_night("10500")).lines
    (correction,) = fix(after, posted_from(before), AUGUST)
    assert (correction.zone, correction.quantity, correction.amount) == (
        "day",
        d("38"),
        d("187.34"),
    )
    assert render(correction) == (
        "Электроэнергия, день, перерасчёт за июль 2025: было 212,000 кВт·ч на 1\u00a0045,16 ₽, "
        "стало 250,000 кВт·ч на 1\u00a0232,50 ₽, разница +38,000 кВт·ч и +187,34 ₽ "
        "(поздние показания)"
    )

    def blocks(end: str) -> tuple[ChargeLine, ...]:
        return rate(
            inputs(
                account("electricity"),
                [TIERED],
                [meter("E", Resource.ELECTRICITY)],
                [reading("E", JUNE_25, "1000"), reading("E", JULY_25, end)],
            )
        ).lines

    assert [(line.tier, line.amount) for line in blocks("1150")] == [
        (1, d("500.00")),
        (2, d("350.00")),
    ]
    corrections = fix(blocks("1080"), posted_from(blocks("1150")), AUGUST)
    assert [(c.tier, c.quantity, c.amount) for c in corrections] == [
        (1, d("-20"), d("-100.00")),
        (2, d("-50"), d("-350.00")),
    ]
    assert [settled_key(c)[6] for c in corrections] == [1, 2]
    assert render(corrections[1], "en") == (
        "Electricity, tier 2, recalculation for July 2025: was 50.000 kWh for 350.00 RUB, "
        "now 0.000 kWh for 0.00 RUB, difference -50.000 kWh and -350.00 RUB (late reading)"
    )


def test_a_service_moved_to_another_provider_is_reversed_and_posted_anew() -> None:
    def billed(provider: str) -> tuple[ChargeLine, ...]:
        services = (
            ConnectedService("maintenance", provider, LONG_AGO),
            ConnectedService("intercom", PROVIDER, LONG_AGO),
        )
        acc = account(services=services)
        return rate(inputs(acc, [MAINTENANCE, INTERCOM])).lines

    before, after = billed(PROVIDER), billed(OTHER)
    corrections = fix(after, posted_from(before), AUGUST, RECALCULATED)
    assert [(c.provider, c.service, c.amount) for c in corrections] == [
        (OTHER, "maintenance", d("1813.62")),
        (PROVIDER, "maintenance", d("-1813.62")),
    ]
    assert all(c.explanation.corrects == JULY for c in corrections)
    applied(after, posted_from(before), AUGUST)


def test_entries_of_other_periods_are_ignored() -> None:
    june = entry("300.00", "6.000", period=JUNE)
    assert fix([line("379.36", "7.750")], [june, entry("379.36", "7.750")]) == ()
    assert fix([], [june]) == ()


def test_an_entry_without_days_covers_its_period() -> None:
    posted = replace(entry("379.36", "7.750"), span_from=None, span_to=None)
    assert posted_key(posted) == line("0").key
    assert fix([line("379.36", "7.750")], [posted]) == ()


def test_a_recalculation_the_engine_proposes_keeps_its_own_key() -> None:
    # a true-up re-rating June (rerate_past) is a July line that names June; no correction
    rerated = line(
        "-12.40",
        "0",
        kind=LineKind.RECALCULATION,
        rule=Rule.TRUE_UP,
        span=JUNE.span,
        corrects=JUNE,
        reason="actual_reading",
    )
    assert settled_key(rerated) == rerated.key
    assert corrected_period(rerated) is None  # the ledger files it under July, not June
    (posted,) = posted_from([rerated])
    assert (posted.period, posted.kind, posted.span_from) == (
        JULY,
        LineKind.RECALCULATION,
        JUNE.first_day,
    )
    assert fix([rerated], [posted]) == ()


def test_rebill_diffs_a_rating_against_its_inputs_posted() -> None:
    given = inputs(account("maintenance", "intercom"), [MAINTENANCE, INTERCOM])
    rating = rate(given)
    assert rebill(given, rating, posting_period=JULY, reason=RECALCULATED) == rating.lines
    posted = replace(given, posted=posted_from(rating.lines))
    assert rebill(posted, rate(posted), posting_period=AUGUST, reason=RECALCULATED) == ()
    smaller = replace(posted, account=account("maintenance", "intercom", area="50.00"))
    (correction,) = rebill(smaller, rate(smaller), posting_period=AUGUST, reason=RECALCULATED)
    assert (correction.service, correction.amount) == ("maintenance", d("-143.62"))


def test_what_a_diff_refuses() -> None:
    with pytest.raises(ValueError, match="earlier period"):
        fix([], [], JUNE)
    with pytest.raises(ValueError, match="needs a reason"):
        fix([], [], reason="")
    with pytest.raises(ValueError, match="not of account"):
        fix([line("1.00", period=AUGUST)], [])
    with pytest.raises(ValueError, match="not of account"):
        fix([replace(line("1.00"), account="other")], [])
    with pytest.raises(ValueError, match="not in the catalogue"):
        fix([], [entry("1.00", service="gone")])
    with pytest.raises(ValueError, match="no engine rule"):
        fix([], [replace(entry("1.00"), rule="")])


# --- sentences ----------------------------------------------------------------------------


def test_the_correction_sentences_in_both_languages() -> None:
    billed = line(
        "1813.62", "54.30", service="maintenance", rule=Rule.PER_AREA, unit=Unit.M2, tariff="33.40"
    )
    retariffed = replace(billed, tariff=d("35.00"), amount=d("1900.50"))
    (closed,) = fix([retariffed], posted_from([billed]), SEPTEMBER, TARIFF_CORRECTED)
    assert (render(closed), render(closed, "en")) == (
        "Содержание жилого помещения, перерасчёт за июль 2025: было 1\u00a0813,62 ₽, "
        "стало 1\u00a0900,50 ₽, разница +86,88 ₽ (исправлен тариф)",
        "Maintenance, recalculation for July 2025: was 1,813.62 RUB, now 1,900.50 RUB, "
        "difference +86.88 RUB (tariff corrected)",
    )
    (open_,) = fix([billed], posted_from([retariffed]), reason=RECALCULATED)
    assert (render(open_), render(open_, "en")) == (
        "Содержание жилого помещения, перерасчёт: было 1\u00a0900,50 ₽, стало 1\u00a0813,62 ₽, "
        "разница −86,88 ₽ (изменились данные расчёта)",
        "Maintenance, recalculation: was 1,900.50 RUB, now 1,813.62 RUB, "
        "difference -86.88 RUB (calculation data changed)",
    )


def test_a_correction_names_the_days_and_what_the_line_was() -> None:
    half = DateRange(JULY_16, JULY.end)
    benefit = line(
        "-100.00",
        "54.30",
        service="maintenance",
        kind=LineKind.BENEFIT,
        rule=Rule.BENEFIT,
        zone="veteran",
        unit=Unit.M2,
        span=half,
    )
    (correction,) = fix([replace(benefit, amount=d("-120.00"))], posted_from([benefit]), AUGUST)
    assert render(correction) == (
        "Содержание жилого помещения, льгота «veteran», перерасчёт за июль 2025: "
        "было −100,00 ₽, стало −120,00 ₽, разница −20,00 ₽ "
        "(за 16.07.2025–31.07.2025; поздние показания)"
    )
    absence = line("-116.16", "-2.373", kind=LineKind.RECALCULATION, rule=Rule.ABSENCE)
    (correction,) = fix([], posted_from([absence]), AUGUST, ABSENCE_DOCUMENTED)
    assert render(correction, "en") == (
        "Cold water, temporary absence, recalculation for July 2025: was -2.373 m³ for "
        "-116.16 RUB, now 0.000 m³ for 0.00 RUB, difference +2.373 m³ and +116.16 RUB "
        "(temporary absence documented)"
    )
    surcharge = line("189.74", "7.750", rule=Rule.NORM_COEFFICIENT, tier=1)
    (correction,) = fix([], posted_from([surcharge]), reason="actual_reading")
    assert render(correction) == (
        "Холодная вода, повышающий коэффициент, ступень 1, перерасчёт: было 7,750 м³ на "
        "189,74 ₽, стало 0,000 м³ на 0,00 ₽, разница −7,750 м³ и −189,74 ₽ "
        "(получены фактические показания после расчётных периодов)"
    )


def test_reasons_are_worded_in_both_languages_and_others_shown_as_they_are() -> None:
    for language in ("ru", "en"):
        assert set(sentences.REASONS[language]) == set(REASONS)
        assert not set(REASONS) & set(estimate_sentences.REASONS[language])
    (correction,) = fix([], [entry("1.00", "0")], reason="court_order")
    assert render(correction, "en").endswith("difference -1.00 RUB (court_order)")
    bare = replace(correction, explanation=replace(correction.explanation, reason=""))
    assert render(bare, "en").endswith("difference -1.00 RUB")
    assert sentences.month(Period(2025, 12), "ru") == "декабрь 2025"


# --- properties ---------------------------------------------------------------------------

JULY_DAYS = st.integers(2, 31).map(lambda day: date(2025, 7, day))
VOLUMES = st.integers(0, 60_000).map(lambda n: Decimal(n).scaleb(-3))
STARTS = st.integers(0, 50_000_000).map(lambda n: Decimal(n).scaleb(-3))


def _metered(
    draw: st.DrawFn, serial: str, resource: Resource, zones: tuple[Zone, ...] = (Zone.TOTAL,)
) -> tuple[list[Meter], list[Reading]]:
    """A meter (or none), its June reading, and a July reading (or none: an estimate)."""
    if not draw(st.booleans()):
        return [], []
    found = []
    for zone in zones:
        start = draw(STARTS)
        found.append(reading(serial, JUNE_25, str(start), zone))
        if draw(st.booleans()):
            found.append(reading(serial, JULY_25, str(start + draw(VOLUMES)), zone))
    return [meter(serial, resource, zones=zones, integer_digits=6)], found


@st.composite
def period_inputs(draw: st.DrawFn) -> PeriodInputs:
    """An account's July: a few of the catalogue's services (cold water's tariff may change
    in the month; electricity by zones or tiers), two providers, people moving in,
    meters with or without a reading, maybe a benefit."""
    change = draw(st.one_of(st.none(), JULY_DAYS))
    cold = (
        COLD
        if change is None
        else replace(COLD, tariffs=(flat("48.95", end=change), flat("50.10", start=change)))
    )
    electricity = draw(st.sampled_from([DAY_NIGHT, TIERED]))
    catalogue = [cold, HOT, SEWERAGE, electricity, MAINTENANCE, WASTE, INTERCOM]
    chosen = draw(st.sets(st.sampled_from([service.code for service in catalogue]), min_size=1))
    water = {"cold_water", "hot_water", "sewerage"}
    services = tuple(
        ConnectedService(code, OTHER if code in water else PROVIDER, LONG_AGO)
        for code in sorted(chosen)
    )
    meters, readings = [], []
    for serial, resource, zones in (
        ("C", Resource.COLD_WATER, (Zone.TOTAL,)),
        ("H", Resource.HOT_WATER, (Zone.TOTAL,)),
        (
            "E",
            Resource.ELECTRICITY,
            (Zone.DAY, Zone.NIGHT) if electricity is DAY_NIGHT else (Zone.TOTAL,),
        ),
    ):
        found, rows = _metered(draw, serial, resource, zones)
        meters += found
        readings += rows
    grants: tuple[BenefitGrant, ...] = ()
    if draw(st.booleans()):
        rate_ = draw(st.sampled_from(["0.3", "0.5", "1"]))
        grants = (
            BenefitGrant("p0", "veteran", d(rate_), ("maintenance", "solid_waste"), LONG_AGO),
        )
    acc = account(
        services=services,
        area=str(draw(st.integers(1_000, 20_000).map(lambda n: Decimal(n).scaleb(-2)))),
        registrations=persons(draw(st.integers(0, 3)))
        + persons(draw(st.integers(0, 1)), start=draw(JULY_DAYS)),
        opened_on=draw(st.sampled_from([LONG_AGO, date(2025, 7, 10)])),
        benefits=grants,
    )
    return inputs(acc, catalogue, meters, readings, config=CONFIG)


@given(period_inputs())
@settings(max_examples=60)
def test_recomputing_unchanged_inputs_posts_nothing(given_inputs: PeriodInputs) -> None:
    rating = rate(given_inputs)
    posted = posted_from(rating.lines)
    for posting_period in (JULY, SEPTEMBER):
        assert fix(rating.lines, posted, posting_period) == ()
    with_posted = replace(given_inputs, posted=posted)
    assert rebill(with_posted, rate(with_posted), posting_period=AUGUST, reason=RECALCULATED) == ()


@given(period_inputs(), period_inputs(), st.sampled_from([JULY, AUGUST, SEPTEMBER]))
@settings(max_examples=60)
def test_rerating_with_other_inputs_nets_to_the_new_lines(
    before: PeriodInputs, after: PeriodInputs, posting_period: Period
) -> None:
    applied(rate(after).lines, posted_from(rate(before).lines), posting_period)


SPANS = [JULY.span, DateRange(JULY.first_day, JULY_16), DateRange(JULY_16, JULY.end)]
KEYS = st.tuples(
    st.sampled_from([PROVIDER, OTHER]),
    st.sampled_from(["cold_water", "maintenance"]),
    st.sampled_from(
        [
            (LineKind.CHARGE, Rule.METERED),
            (LineKind.CHARGE, Rule.TIER),
            (LineKind.RECALCULATION, Rule.ABSENCE),
            (LineKind.BENEFIT, Rule.BENEFIT),
        ]
    ),
    st.sampled_from(["", "day", "night"]),
    st.integers(0, 2),
    st.sampled_from(SPANS),
)
AMOUNTS = st.integers(-100_000, 100_000).map(lambda n: str(Decimal(n).scaleb(-2)))
QUANTITIES = st.integers(-10_000, 10_000).map(lambda n: str(Decimal(n).scaleb(-3)))


def _drawn(draw: st.DrawFn, period: Period = JULY) -> ChargeLine:
    provider, service, (kind, rule), zone, tier, span = draw(KEYS)
    if period != JULY:
        span = period.span
    return line(
        draw(AMOUNTS),
        draw(QUANTITIES),
        provider=provider,
        service=service,
        kind=kind,
        rule=rule,
        zone=zone,
        tier=tier,
        span=span,
        period=period,
    )


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[ChargeLine], list[PostedLine], Period]:
    """Proposed lines and posted entries over a few keys (several per key, zero amounts, a
    June entry), and the posting period."""
    lines = [_drawn(draw) for _ in range(draw(st.integers(0, 8)))]
    posted = [_drawn(draw) for _ in range(draw(st.integers(0, 8)))]
    posted += [_drawn(draw, JUNE) for _ in range(draw(st.integers(0, 1)))]
    if posted and draw(st.booleans()):  # the same key posted again, or reversed
        again = draw(st.sampled_from(posted))
        posted.append(replace(again, amount=-again.amount, quantity=-again.quantity))
    return lines, list(posted_from(posted)), draw(st.sampled_from([JULY, AUGUST, SEPTEMBER]))


@given(ledgers(), st.lists(st.integers(0, 7), max_size=4))
@settings(max_examples=300)
def test_posted_and_the_diff_net_to_the_proposal(
    case: tuple[list[ChargeLine], list[PostedLine], Period], kept: list[int]
) -> None:
    proposed, posted, posting_period = case
    applied(proposed, posted, posting_period)
    # and again from there, with a smaller proposal (lines reversed, later in the year)
    corrections = fix(proposed, posted, posting_period)
    later = (*posted, *posted_from(corrections))
    fewer = [proposed[index] for index in sorted(set(kept)) if index < len(proposed)]
    applied(fewer, list(later), SEPTEMBER)
