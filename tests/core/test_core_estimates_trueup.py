"""The true-up when an actual reading arrives after estimated periods (spec 2.7): in the
current period (default) and by re-rating the past, positive and negative, with the
estimated volumes taken from the posted lines. Numbers are worked out by hand in the
comments. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from test_core_estimates_builders import (
    COLD,
    DEC_2024,
    HALF_YEAR,
    JULY,
    bill_run,
    cold_inputs,
    config,
    monthly,
    volumes,
)
from test_core_rating_builders import (
    account,
    d,
    flat,
    inputs,
    meter,
    metered_service,
    norm,
    persons,
    tiered,
    zoned,
)

from kvit.core.codes import LineKind, Method, Resource, Rule, Zone
from kvit.core.config import Config
from kvit.core.dating import DateRange
from kvit.core.explain import render
from kvit.core.inputs import PostedLine, Reading, Service
from kvit.core.lines import Rating
from kvit.core.periods import Period
from kvit.core.rating import rate

AUGUST, SEPTEMBER = Period(2025, 8), Period(2025, 9)
RERATE = config(trueup_mode="rerate_past")


def run(
    september: str,
    cfg: Config | None = None,
    services: tuple[Service, ...] = (COLD,),
) -> dict[Period, Rating]:
    """July and August without a reading (12.500 each by average), then `september`."""
    history = monthly("C", DEC_2024, *HALF_YEAR, None, None, september)
    return bill_run(
        lambda period: cold_inputs(history, period, cfg=cfg, services=services),
        JULY,
        SEPTEMBER,
    )


# --- trueup_mode = current_period ------------------------------------------------------------


def test_a_late_reading_settles_the_estimates_in_the_current_period() -> None:
    ratings = run("220")
    assert volumes(ratings[JULY]) == volumes(ratings[AUGUST]) == [("average", d("12.500"))]
    september = ratings[SEPTEMBER]
    assert september.issues == ()
    (line,) = september.lines
    # V_true = 220 − 175 = 45; V_est = 12.500 + 12.500 = 25; V_cur = 20 × 50 = 1000.00
    assert (line.kind, line.explanation.rule) == (LineKind.RECALCULATION, Rule.TRUE_UP)
    assert (line.quantity, line.tariff, line.amount) == (d("20.000"), d("50"), d("1000.00"))
    explanation = line.explanation
    assert explanation.values == {"true_volume": d("45"), "estimated_volume": d("25.000")}
    assert explanation.estimated == (JULY, AUGUST)
    assert (explanation.reason, explanation.corrects) == ("actual_reading", None)
    (source,) = explanation.sources
    assert (source.start.taken_on, source.end.taken_on) == (date(2025, 6, 25), date(2025, 9, 25))
    assert render(line, "en") == (
        "Cold water, true-up by actual readings: 220.000 − 175.000 = 45.000 m³ − 25.000 m³ "
        "(estimated for 2025-07, 2025-08) = 20.000 m³ × 50.00 RUB = 1,000.00 RUB (reading of "
        "25.09.2025; an actual reading after estimated periods)"
    )


def test_a_late_reading_below_the_estimates_gives_a_credit() -> None:
    (line,) = run("190")[SEPTEMBER].lines
    # V_true = 15; V_cur = 15 − 25 = −10 m³ × 50 = −500.00
    assert (line.kind, line.quantity, line.amount) == (
        LineKind.RECALCULATION,
        d("-10.000"),
        d("-500.00"),
    )
    assert render(line) == (
        "Холодная вода, перерасчёт по фактическим показаниям: 190,000 − 175,000 = 15,000 м³ − "
        "25,000 м³ (начислено расчётно за 2025-07, 2025-08) = −10,000 м³ × 50,00 ₽ = "
        "−500,00 ₽ (показание от 25.09.2025; получены фактические показания после расчётных "
        "периодов)"
    )


def test_the_estimates_come_from_the_posted_lines_as_they_stand() -> None:
    history = monthly("C", DEC_2024, *HALF_YEAR, None, None, "220")

    def line(
        period: Period,
        rule: str,
        quantity: str,
        kind: LineKind = LineKind.CHARGE,
        service: str = "cold_water",
    ) -> PostedLine:
        return PostedLine("provider-1", service, period, kind, d("1.00"), d(quantity), rule)

    posted = (
        line(JULY, "average", "11.000"),  # an operator corrected July's estimate
        line(AUGUST, "average", "12.500"),
        # the ×K line repeats a volume; recalculations and other services are not estimates
        line(AUGUST, "norm_coefficient", "12.500"),
        line(AUGUST, "absence", "-0.1", LineKind.RECALCULATION),
        line(AUGUST, "average", "3.5", service="hot_water"),
        line(Period(2025, 6), "metered", "15"),
    )
    rating = rate(replace(cold_inputs(history, SEPTEMBER), posted=posted))
    (true_up,) = rating.lines
    assert true_up.quantity == d("21.500")  # 45 − (11.000 + 12.500)
    assert true_up.explanation.values["estimated_volume"] == d("23.500")


def test_periods_by_norm_after_the_limit_are_settled_too() -> None:
    history = monthly("C", DEC_2024, *HALF_YEAR, *[None] * 7, "300")
    ratings = bill_run(lambda period: cold_inputs(history, period), JULY, Period(2026, 2))
    assert volumes(ratings[Period(2026, 1)]) == [("norm_per_person", d("10.000"))]
    (line,) = ratings[Period(2026, 2)].lines
    # V_true = 300 − 175 = 125; V_est = 6 × 12.500 + 10.000 = 85 → 40
    assert (line.quantity, line.amount) == (d("40.000"), d("2000.00"))
    assert len(line.explanation.estimated) == 7


def test_the_current_tariff_segments_split_the_true_up_by_days() -> None:
    change = date(2025, 9, 16)
    cold = metered_service(
        Resource.COLD_WATER, flat("50", end=change), flat("60", start=change), norms=(norm("5"),)
    )
    september = run("220", services=(cold,))[SEPTEMBER]
    # V_cur = 20 over 15 + 15 days of September → 10.000 at 50 and 10.000 at 60
    assert [(line.quantity, line.amount) for line in september.lines] == [
        (d("10.000"), d("500.00")),
        (d("10.000"), d("600.00")),
    ]
    assert september.lines[0].explanation.values["volume"] == d("20.000")
    assert render(september.lines[1], "en").startswith(
        "Cold water, true-up by actual readings: 220.000 − 175.000 = 45.000 m³ − 25.000 m³ "
        "(estimated for 2025-07, 2025-08) = 20.000 m³; 20.000 − 10.000 = 10.000 m³ × 60.00 RUB"
    )


TIERED = metered_service(
    Resource.COLD_WATER,
    tiered(("12", "40"), (None, "80")),
    norms=(norm("5"),),
    method=Method.TIERED,
)


def test_a_tiered_true_up_charge_by_blocks_and_a_credit_at_the_first_tier() -> None:
    ratings = run("220", services=(TIERED,))
    # July: 12 × 40 + 0.5 × 80 = 520.00 (the average by blocks)
    assert [line.amount for line in ratings[JULY].lines] == [d("480.00"), d("40.00")]
    september = ratings[SEPTEMBER]
    # V_cur = 20: 12 × 40 + 8 × 80
    assert [(line.kind, line.tier, line.quantity, line.amount) for line in september.lines] == [
        (LineKind.RECALCULATION, 1, d("12"), d("480.00")),
        (LineKind.RECALCULATION, 2, d("8.000"), d("640.00")),
    ]
    assert render(september.lines[1], "en") == (
        "Cold water, true-up by actual readings: 220.000 − 175.000 = 45.000 m³ − 25.000 m³ "
        "(estimated for 2025-07, 2025-08); tier 2 (above 12 m³): 8.000 of 20.000 m³ × "
        "80.00 RUB = 640.00 RUB (reading of 25.09.2025; an actual reading after estimated "
        "periods)"
    )
    (credit,) = run("190", services=(TIERED,))[SEPTEMBER].lines
    assert (credit.tier, credit.quantity, credit.tariff, credit.amount) == (
        1,
        d("-10.000"),
        d("40"),
        d("-400.00"),
    )


ZONED = metered_service(
    Resource.ELECTRICITY,
    zoned(day="6.00", night="3.00"),
    norms=(norm("100"),),
    method=Method.TIME_OF_USE,
)
TWO_ZONE = meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))


def zone_run(cfg: Config | None = None) -> dict[Period, Rating]:
    # day 100 a month, night 30 a month; July and August missing; September: day +250,
    # night +50
    days = [str(100 * n) for n in range(7)]
    nights = [str(30 * n) for n in range(7)]
    history: list[Reading] = [
        *monthly("E", DEC_2024, *days, None, None, "850", zone=Zone.DAY),
        *monthly("E", DEC_2024, *nights, None, None, "230", zone=Zone.NIGHT),
    ]
    acc = account("electricity", registrations=persons(1))
    return bill_run(
        lambda period: inputs(
            acc, [ZONED], [TWO_ZONE], history, period=period, config=cfg or config()
        ),
        JULY,
        SEPTEMBER,
    )


def test_zone_prices_settle_each_zone_with_its_own_estimates() -> None:
    ratings = zone_run()
    assert [(line.zone, line.quantity) for line in ratings[JULY].lines] == [
        ("day", d("100.000")),
        ("night", d("30.000")),
    ]
    # day: 250 − 200 = 50 × 6; night: 50 − 60 = −10 × 3
    assert [(line.zone, line.quantity, line.amount) for line in ratings[SEPTEMBER].lines] == [
        ("day", d("50.000"), d("300.00")),
        ("night", d("-10.000"), d("-30.00")),
    ]


def test_zone_prices_re_rated_per_zone() -> None:
    september = zone_run(RERATE)[SEPTEMBER]
    # day: 250 over 31/31/30 days → 84.239, 84.239, 81.522; night: 50 → 16.848, 16.848, 16.304
    assert [
        (line.kind, line.zone, line.explanation.corrects, line.quantity, line.amount)
        for line in september.lines
    ] == [
        (LineKind.CHARGE, "day", None, d("81.522"), d("489.13")),
        (LineKind.CHARGE, "night", None, d("16.304"), d("48.91")),
        (LineKind.RECALCULATION, "day", JULY, d("-15.761"), d("-94.57")),
        (LineKind.RECALCULATION, "day", AUGUST, d("-15.761"), d("-94.57")),
        (LineKind.RECALCULATION, "night", JULY, d("-13.152"), d("-39.46")),
        (LineKind.RECALCULATION, "night", AUGUST, d("-13.152"), d("-39.46")),
    ]


def test_two_meters_with_the_same_estimated_periods_are_settled_together() -> None:
    history = [
        *monthly("C", DEC_2024, *HALF_YEAR, None, None, "220"),
        *monthly("K", DEC_2024, *[str(5 * n) for n in range(7)], None, None, "45"),
    ]
    meters = [meter("C", Resource.COLD_WATER), meter("K", Resource.COLD_WATER)]
    ratings = bill_run(lambda period: cold_inputs(history, period, meters), JULY, SEPTEMBER)
    (line,) = ratings[SEPTEMBER].lines
    # (45 + 15) − 2 × (12.500 + 5.000) = 25
    assert (line.quantity, len(line.explanation.sources)) == (d("25.000"), 2)


# --- trueup_mode = rerate_past ----------------------------------------------------------------


def test_rerate_past_spreads_the_true_volume_by_days_and_corrects_each_period() -> None:
    september = run("220", RERATE)[SEPTEMBER]
    # 45 over 31 + 31 + 30 = 92 days: July and August round3(45 × 31 / 92) = 15.163, September
    # the rest 14.674; July: round2(15.163 × 50) − 625.00 = 758.15 − 625.00 = 133.15
    current, july, august = september.lines
    assert (current.kind, current.explanation.rule, current.quantity, current.amount) == (
        LineKind.CHARGE,
        Rule.TRUE_UP,
        d("14.674"),
        d("733.70"),
    )
    assert current.explanation.values == {
        "true_volume": d("45"),
        "allocated": d("14.674"),
        "allocated_before": d("30.326"),
    }
    for line, period in ((july, JULY), (august, AUGUST)):
        assert (line.kind, line.explanation.corrects) == (LineKind.RECALCULATION, period)
        assert (line.quantity, line.amount) == (d("2.663"), d("133.15"))
        assert line.span == period.span
        values = line.explanation.values
        assert (values["allocated"], values["rerated"], values["billed"]) == (
            d("15.163"),
            d("758.15"),
            d("625.00"),
        )
    assert render(current, "en") == (
        "Cold water: 220.000 − 175.000 = 45.000 m³ − 30.326 m³ (spread over 2025-07, 2025-08) "
        "= 14.674 m³ × 50.00 RUB = 733.70 RUB (reading of 25.09.2025; an actual reading "
        "after estimated periods)"
    )
    assert render(july, "en") == (
        "Cold water, true-up by actual readings: 45.000 m³ × 31/92 = 15.163 m³, re-rated "
        "758.15 RUB − billed 625.00 RUB = 133.15 RUB (reading of 25.09.2025; for "
        "01.07.2025–31.07.2025; recalculation for 2025-07; an actual reading after estimated "
        "periods)"
    )
    assert render(july).startswith(
        "Холодная вода, перерасчёт по фактическим показаниям: 45,000 м³ × 31/92 = 15,163 м³, "
        "пересчитано 758,15 ₽ − начислено 625,00 ₽ = 133,15 ₽"
    )


def test_rerate_past_with_a_credit() -> None:
    current, july, august = run("190", RERATE)[SEPTEMBER].lines
    # 15 → 5.054, 5.054, 4.892; July: 252.70 − 625.00 = −372.30
    assert (current.quantity, current.amount) == (d("4.892"), d("244.60"))
    assert [(line.quantity, line.amount) for line in (july, august)] == [
        (d("-7.446"), d("-372.30")),
        (d("-7.446"), d("-372.30")),
    ]


def test_rerate_past_uses_each_periods_tariffs_and_tiers() -> None:
    change = date(2025, 8, 16)
    cold = metered_service(
        Resource.COLD_WATER, flat("50", end=change), flat("60", start=change), norms=(norm("5"),)
    )
    current, july, august = run("220", RERATE, (cold,))[SEPTEMBER].lines
    # August: 15.163 over 15 + 16 days → 7.337 × 50 + 7.826 × 60 = 366.85 + 469.56; billed
    # 12.500 → 6.048 × 50 + 6.452 × 60 = 302.40 + 387.12
    assert (august.explanation.values["rerated"], august.explanation.values["billed"]) == (
        d("836.41"),
        d("689.52"),
    )
    assert (august.amount, august.tariff) == (d("146.89"), d("60"))
    assert (july.amount, current.amount) == (d("133.15"), d("880.44"))
    current, july, august = run("220", RERATE, (TIERED,))[SEPTEMBER].lines[-3:]
    # July: 15.163 → 12 × 40 + 3.163 × 80 = 733.04; billed 520.00 (12 × 40 + 0.5 × 80)
    assert (july.explanation.values["rerated"], july.amount) == (d("733.04"), d("213.04"))
    assert july.tariff == d("80")


def test_rerate_past_tiers_bill_the_current_share_with_the_blocks() -> None:
    lines = run("220", RERATE, (TIERED,))[SEPTEMBER].lines
    # the current share 14.674 is this period's volume: 12 × 40 + 2.674 × 80
    assert [(line.explanation.rule, line.kind, line.amount) for line in lines[:2]] == [
        (Rule.TIER, LineKind.CHARGE, d("480.00")),
        (Rule.TIER, LineKind.CHARGE, d("213.92")),
    ]
    assert lines[0].explanation.values["allocated"] == d("14.674")


def test_rerate_past_without_a_tariff_in_a_past_period_reports_it() -> None:
    cold = metered_service(
        Resource.COLD_WATER, flat("50", start=date(2025, 8, 1)), norms=(norm("5"),)
    )
    ratings = run("220", RERATE, (cold,))
    assert [issue.code for issue in ratings[JULY].issues] == ["no_tariff"]
    september = ratings[SEPTEMBER]
    assert [issue.values["day"] for issue in september.issues] == [date(2025, 7, 1)]
    assert [line.explanation.corrects for line in september.lines] == [None, AUGUST]


def test_rerate_past_a_flat_past_price_for_zone_lines() -> None:
    # zone prices now, a single price in July: July is re-rated at its single price
    changed = metered_service(
        Resource.ELECTRICITY,
        flat("4.00", end=date(2025, 8, 1)),
        zoned(start=date(2025, 8, 1), day="6.00", night="3.00"),
        norms=(norm("100"),),
        method=Method.TIME_OF_USE,
    )
    history = [
        *monthly(
            "E", DEC_2024, *[str(100 * n) for n in range(7)], None, None, "850", zone=Zone.DAY
        ),
        *monthly(
            "E", DEC_2024, *[str(30 * n) for n in range(7)], None, None, "230", zone=Zone.NIGHT
        ),
    ]
    acc = account("electricity", registrations=persons(1))
    ratings = bill_run(
        lambda period: inputs(acc, [changed], [TWO_ZONE], history, period=period, config=RERATE),
        JULY,
        SEPTEMBER,
    )
    # July's single line (130.000 × 4) is not per zone, so nothing of it counts per zone:
    # day July 84.239 × 4 = 336.96 − 0 billed
    day_july = [
        line
        for line in ratings[SEPTEMBER].lines
        if line.zone == "day" and line.explanation.corrects == JULY
    ]
    assert [(line.tariff, line.amount) for line in day_july] == [(d("4.00"), d("336.96"))]


def test_a_stale_register_spans_only_its_days() -> None:
    removed = meter("C", Resource.COLD_WATER, removed_on=date(2025, 9, 20))
    history = [
        *monthly("C", DEC_2024, *HALF_YEAR),
        *monthly("C", Period(2025, 9), "220", day=20),
    ]
    ratings = bill_run(lambda period: cold_inputs(history, period, [removed]), JULY, SEPTEMBER)
    lines = ratings[SEPTEMBER].lines
    # 1–19 September by the true-up, 20–30 by the removed meter's average (a gap)
    # (12.500 × 11 / 30 = 4.5833… → 4.583)
    assert [(line.explanation.rule, line.quantity) for line in lines] == [
        (Rule.AVERAGE, d("4.583")),
        (Rule.TRUE_UP, d("20.000")),
    ]
    assert lines[0].explanation.estimates[0].reason == "replacement_gap"
    assert DateRange(date(2025, 9, 1), date(2025, 10, 1)) == lines[1].span
    assert Decimal(0) < lines[0].amount


def test_a_credit_split_over_the_current_tariff_segments() -> None:
    change = date(2025, 9, 16)
    cold = metered_service(
        Resource.COLD_WATER, flat("50", end=change), flat("60", start=change), norms=(norm("5"),)
    )
    september = run("190", services=(cold,))[SEPTEMBER]
    # V_cur = −10 over 15 + 15 days → −5.000 at 50 and −5.000 at 60
    assert [(line.quantity, line.amount) for line in september.lines] == [
        (d("-5.000"), d("-250.00")),
        (d("-5.000"), d("-300.00")),
    ]


def test_an_account_opened_mid_period_spreads_by_its_own_days() -> None:
    # the account opened on 10 July; the tariff changed on 5 July, before it. July and
    # August: no reading and no history of the account's own → by norm: July 5 × 2 × 22 /
    # 31 = 7.097, August 10.000. September: 220 − 175 = 45 over 22 + 31 + 30 = 83 days →
    # July round3(45 × 22 / 83) = 11.928, August round3(45 × 31 / 83) = 16.807, September
    # 16.265. July: 11.928 × 50 − 7.097 × 50 = 596.40 − 354.85 = 241.55
    cold = metered_service(
        Resource.COLD_WATER,
        flat("40", end=date(2025, 7, 5)),
        flat("50", start=date(2025, 7, 5)),
        norms=(norm("5"),),
    )
    history = monthly("C", DEC_2024, *HALF_YEAR, None, None, "220")
    acc = account("cold_water", registrations=persons(2), opened_on=date(2025, 7, 10))
    ratings = bill_run(
        lambda period: cold_inputs(history, period, cfg=RERATE, acc=acc, services=(cold,)),
        JULY,
        SEPTEMBER,
    )
    assert volumes(ratings[JULY]) == [("norm_per_person", d("7.097"))]
    current, july, august = ratings[SEPTEMBER].lines
    assert (current.quantity, july.quantity, august.quantity) == (
        d("16.265"),
        d("4.831"),
        d("6.807"),
    )
    assert (july.amount, august.amount) == (d("241.55"), d("340.35"))
    assert july.span == DateRange(date(2025, 7, 10), date(2025, 8, 1))
    assert july.explanation.values["days"] == 22
