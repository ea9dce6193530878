"""Estimated volumes of metered services (spec 2.3, 2.4): the average, its window and
minimum, the limits by cause, the norm afterwards with its coefficients, failures
mid-month, replacement gaps, zones and heating seasons. Numbers are worked out by hand in
the comments. No database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from test_core_estimates_builders import (
    COLD,
    CW,
    DEC_2024,
    HALF_YEAR,
    JULY,
    cold_inputs,
    config,
    monthly,
    volumes,
)
from test_core_rating_builders import (
    account,
    connect,
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

from kvit.core.codes import (
    ConsumerKind,
    LineKind,
    Method,
    NormKind,
    PremiseKind,
    ReadingKind,
    Resource,
    Rule,
    Unit,
    Zone,
)
from kvit.core.config import Config
from kvit.core.dating import DateRange
from kvit.core.explain import render
from kvit.core.history import history_start
from kvit.core.inputs import AccessRefusal, Building, Reading, Service
from kvit.core.lines import Rating
from kvit.core.periods import Period
from kvit.core.rating import rate

AUGUST, SEPTEMBER, OCTOBER = Period(2025, 8), Period(2025, 9), Period(2025, 10)
HISTORY = monthly("C", DEC_2024, *HALF_YEAR)  # V_avg = (10+11+12+13+14+15) / 6 = 12.500


def rated(*args: Any, **kwargs: Any) -> Rating:
    return rate(cold_inputs(*args, **kwargs))


def periods(*texts: str) -> tuple[Period, ...]:
    return tuple(Period.parse(text) for text in texts)


FIRST_HALF = periods("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")


# --- the average (2.4 step 1) ---------------------------------------------------------------


def test_no_reading_bills_the_average_of_the_last_six_actual_months() -> None:
    rating = rated(HISTORY)
    assert rating.issues == ()
    (line,) = rating.lines
    assert (line.kind, line.explanation.rule) == (LineKind.CHARGE, Rule.AVERAGE)
    assert (line.quantity, line.tariff, line.amount) == (d("12.500"), d("50"), d("625.00"))
    explanation = line.explanation
    assert explanation.reason == "no_reading"
    assert explanation.average_periods == FIRST_HALF
    (estimate,) = explanation.estimates
    assert (estimate.meter, estimate.zone, estimate.average) == ("C", Zone.TOTAL, d("12.500"))
    assert (estimate.days, estimate.period_days, estimate.number, estimate.limit) == (31, 31, 1, 6)
    assert render(line) == (
        "Холодная вода, по среднему: 12,500 м³ × 50,00 ₽ = 625,00 ₽ (среднее за 6 мес.: "
        "2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06; 1-й период из 6; "
        "показания не переданы)"
    )
    assert render(line, "en") == (
        "Cold water, by average: 12.500 m³ × 50.00 RUB = 625.00 RUB (average of 6 months: "
        "2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06; period 1 of 6; "
        "no reading submitted)"
    )


def test_the_average_is_rounded_to_three_decimals() -> None:
    # volumes 10, 11, 12, 13, 14, 15.12 → 75.12 / 6 = 12.52
    # and 10, 11, 12, 13, 14, 15.001 → 75.001 / 6 = 12.500166… → 12.500
    history = monthly("C", DEC_2024, "100", "110", "121", "133", "146", "160", "175.001")
    assert volumes(rated(history)) == [("average", d("12.500"))]
    history = monthly("C", DEC_2024, "100", "110", "121", "133", "146", "160", "175.004")
    # 75.004 / 6 = 12.500666… → 12.501
    assert volumes(rated(history)) == [("average", d("12.501"))]


def test_estimated_and_true_up_periods_are_skipped_and_only_the_latest_six_count() -> None:
    # Sep 2024 0, Oct 20, Nov 40, Dec 60 (20 a month), Jan 70 (10), Feb 81 (11), March
    # without a reading (estimated), April 106 (from February's reading: a true-up, not
    # actual), May 120 (14), June 135 (15). Back from June: 15, 14, —, —, 11, 10, 20, 20
    # → 90 / 6 = 15.000 over Nov 2024 – Feb 2025, May, June; October is the 7th.
    history = monthly(
        "C", Period(2024, 9), "0", "20", "40", "60", "70", "81", None, "106", "120", "135"
    )
    (line,) = rated(history).lines
    assert line.quantity == d("15.000")
    assert line.explanation.average_periods == periods(
        "2024-11", "2024-12", "2025-01", "2025-02", "2025-05", "2025-06"
    )


def test_fewer_than_six_but_at_least_three_actual_months_are_used() -> None:
    # installed 10 February: February's window is partial; March 4, April 5, May 6,
    # June 7 → 22 / 4 = 5.500
    meter_ = meter("C", Resource.COLD_WATER, installed_on=date(2025, 2, 10))
    history = [
        reading("C", date(2025, 2, 10), "0", kind=ReadingKind.INITIAL),
        *monthly("C", Period(2025, 2), "2", "6", "11", "17", "24"),
    ]
    (line,) = rated(history, meters=[meter_]).lines
    assert (line.quantity, line.amount) == (d("5.500"), d("275.00"))
    assert line.explanation.average_periods == periods("2025-03", "2025-04", "2025-05", "2025-06")


def test_fewer_than_three_actual_months_go_straight_to_the_norm() -> None:
    meter_ = meter("C", Resource.COLD_WATER, installed_on=date(2025, 4, 1))
    history = [
        reading("C", date(2025, 4, 1), "10", kind=ReadingKind.INITIAL),
        *monthly("C", Period(2025, 4), "11", "17", "24"),
    ]
    rating = rated(history, meters=[meter_])
    (line,) = rating.lines  # norm 5 × 2 persons; no coefficient after missing readings
    assert (line.explanation.rule, line.quantity, line.amount) == (
        Rule.NORM_PER_PERSON,
        d("10.000"),
        d("500.00"),
    )
    assert line.explanation.reason == "no_reading"
    assert line.explanation.values["fallback"] == "history"
    assert (line.explanation.values["months"], line.explanation.values["min_months"]) == (2, 3)
    assert render(line, "en") == (
        "Cold water: 5 m³ × 2 persons = 10.000 m³ × 50.00 RUB = 500.00 RUB (no reading "
        "submitted; by norm: actual readings for only 2 months, the average needs at least 3)"
    )
    assert render(line).endswith(
        "(показания не переданы; по нормативу: фактические показания есть только за 2 мес., "
        "для среднего нужно не меньше 3)"
    )


def test_a_previous_tenants_readings_do_not_make_the_new_tenants_average() -> None:
    # the meter's readings go back to December 2024 (an average of 12.500 for the tenant
    # before); the new account opens on 1 March: March's window is partial, so only April 13,
    # May 14 and June 15 are its actual months → 42 / 3 = 14.000
    def july(opened_on: date, connected_on: date = date(2020, 1, 1)) -> Rating:
        acc = account(
            "cold_water",
            registrations=persons(2),
            opened_on=opened_on,
            services=connect("cold_water", start=connected_on),
        )
        return rated(HISTORY, acc=acc)

    (line,) = july(date(2025, 3, 1)).lines
    assert (line.explanation.rule, line.quantity, line.amount) == (
        Rule.AVERAGE,
        d("14.000"),
        d("700.00"),
    )
    assert line.explanation.average_periods == periods("2025-04", "2025-05", "2025-06")
    # the same when an old account connects the service on 1 March
    (connected,) = july(date(2020, 1, 1), date(2025, 3, 1)).lines
    assert connected.explanation.average_periods == line.explanation.average_periods
    # opened on 1 April: May and June only, fewer than 3 → the norm, not the old average
    (norm_line,) = july(date(2025, 4, 1)).lines
    assert norm_line.explanation.rule is Rule.NORM_PER_PERSON
    assert (norm_line.explanation.values["fallback"], norm_line.explanation.values["months"]) == (
        "history",
        2,
    )


def test_two_meters_of_one_service_without_readings_make_one_line() -> None:
    second = meter("K", Resource.COLD_WATER)
    history = [*HISTORY, *monthly("K", DEC_2024, "0", "5", "10", "15", "20", "25", "30")]
    (line,) = rated(history, meters=[CW, second]).lines
    assert (line.quantity, line.amount) == (d("17.500"), d("875.00"))  # 12.500 + 5.000
    assert [e.meter for e in line.explanation.estimates] == ["C", "K"]
    assert render(line, "en").startswith(
        "Cold water, by average: 12.500 m³ + 5.000 m³ = 17.500 m³ × 50.00 RUB = 875.00 RUB"
    )


def test_a_tariff_change_splits_the_average_by_days() -> None:
    change = date(2025, 7, 16)
    cold = metered_service(
        Resource.COLD_WATER, flat("50", end=change), flat("60", start=change), norms=(norm("5"),)
    )
    rating = rated(HISTORY, services=[cold])
    # 12.500 × 15 / 31 = 6.0483… → 6.048 at 50; the rest 6.452 at 60
    assert [(line.quantity, line.amount) for line in rating.lines] == [
        (d("6.048"), d("302.40")),
        (d("6.452"), d("387.12")),
    ]
    first, second = rating.lines
    assert first.explanation.values == {"volume": d("12.500"), "days": 15, "whole_days": 31}
    assert second.explanation.values == {"volume": d("12.500"), "others": d("6.048")}
    assert render(first, "en").startswith(
        "Cold water, by average: 12.500 m³ = 12.500 m³; 12.500 × 15/31 = 6.048 m³ × 50.00 RUB"
    )


def test_sewerage_adds_the_estimated_volume() -> None:
    sewerage = Service(
        "sewerage",
        "",
        Unit.M3,
        Method.METERED,
        summed_resources=(Resource.COLD_WATER,),
        tariffs=(flat("40"),),
    )
    acc = account("cold_water", "sewerage", registrations=persons(2))
    rating = rated(HISTORY, services=[COLD, sewerage], acc=acc)
    assert volumes(rating) == [("average", d("12.500")), ("sewerage", d("12.500"))]


def test_tiers_price_an_average_by_blocks() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY,
        tiered(("3900", "4.93"), ("6000", "8.27"), (None, "9.47")),
        method=Method.TIERED,
    )
    history = monthly("E", DEC_2024, *[str(4000 * n) for n in range(7)])
    rating = rate(
        inputs(
            account("electricity"),
            [electricity],
            [meter("E", Resource.ELECTRICITY, integer_digits=6)],
            history,
        )
    )
    assert [(line.explanation.rule, line.quantity, line.amount) for line in rating.lines] == [
        (Rule.TIER, d("3900"), d("19227.00")),
        (Rule.TIER, d("100.000"), d("827.00")),
    ]
    assert rating.lines[0].explanation.estimates[0].average == d("4000.000")
    assert render(rating.lines[0], "en").endswith("(no reading submitted)")


def test_a_missing_zone_reading_gets_the_zone_average() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY, zoned(day="6.00", night="3.00"), method=Method.TIME_OF_USE
    )
    two_zone = meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))
    night = ("0", "30", "60", "90", "120", "150", "186")  # 30 × 5 + 36 → 186 / 6 = 31.000
    history = [
        *monthly("E", DEC_2024, *[str(100 * n) for n in range(8)], zone=Zone.DAY),
        *monthly("E", DEC_2024, *night, zone=Zone.NIGHT),
    ]
    rating = rate(inputs(account("electricity"), [electricity], [two_zone], history))
    assert [
        (line.zone, line.explanation.rule, line.quantity, line.amount) for line in rating.lines
    ] == [
        ("day", Rule.METERED, d("100"), d("600.00")),
        ("night", Rule.AVERAGE, d("31.000"), d("93.00")),
    ]
    assert rating.lines[1].explanation.estimates[0].zone is Zone.NIGHT


# --- the limits (2.4 step 2) and the norm after them (step 3) -------------------------------


def test_readings_not_submitted_six_periods_by_average_the_seventh_by_norm() -> None:
    sixth = rated(HISTORY, period=Period(2025, 12))
    assert volumes(sixth) == [("average", d("12.500"))]
    assert sixth.lines[0].explanation.estimates[0].number == 6
    seventh = rated(HISTORY, period=Period(2026, 1))
    (line,) = seventh.lines
    assert (line.explanation.rule, line.quantity, line.amount) == (
        Rule.NORM_PER_PERSON,
        d("10.000"),
        d("500.00"),
    )
    assert (line.explanation.values["fallback"], line.explanation.values["limit"]) == ("limit", 6)
    assert render(line, "en").endswith(
        "(no reading submitted; by norm: the average is allowed for at most 6 periods in a row)"
    )
    assert render(line).endswith(
        "(показания не переданы; по нормативу: по среднему можно начислять не более 6 "
        "периодов подряд)"
    )


def test_a_limit_of_zero_means_the_norm_at_once() -> None:
    rating = rated(HISTORY, cfg=config(avg_max_periods_no_reading="0"))
    assert volumes(rating) == [("norm_per_person", d("10.000"))]


def test_norm_coefficient_after_readings_were_not_submitted() -> None:
    rating = rated(
        HISTORY, period=Period(2026, 1), cfg=config(norm_coefficient_after_no_reading="1.2")
    )
    _, surcharge = rating.lines
    assert (surcharge.explanation.rule, surcharge.amount) == (Rule.NORM_COEFFICIENT, d("100.00"))
    assert surcharge.explanation.reason == "no_reading"
    assert render(surcharge, "en").endswith("(no reading submitted)")


FAILED_JULY_1 = meter("C", Resource.COLD_WATER, failed_on=date(2025, 7, 1))


def test_a_failed_meter_three_periods_by_average_then_the_norm() -> None:
    for period, number in ((JULY, 1), (AUGUST, 2), (SEPTEMBER, 3)):
        rating = rated(HISTORY, period=period, meters=[FAILED_JULY_1])
        (line,) = rating.lines
        assert (line.quantity, line.explanation.reason) == (d("12.500"), "meter_failed")
        assert (line.explanation.estimates[0].number, line.explanation.estimates[0].limit) == (
            number,
            3,
        )
        (issue,) = rating.issues
        assert (issue.code, issue.meter, issue.values["day"]) == (
            "meter_failed",
            "C",
            date(2025, 7, 1),
        )
    october = rated(HISTORY, period=OCTOBER, meters=[FAILED_JULY_1])
    (line,) = october.lines
    assert (line.explanation.rule, line.quantity) == (Rule.NORM_PER_PERSON, d("10.000"))
    assert line.explanation.values["limit"] == 3
    assert "the meter failed on 01.07.2025" in october.issues[0].message("en")
    assert "счётчик вышел из строя 01.07.2025" in october.issues[0].message("ru")


def test_a_non_residential_premise_two_periods_by_average() -> None:
    acc = account("cold_water", registrations=persons(2), premise_kind=PremiseKind.NON_RESIDENTIAL)
    assert volumes(rated(HISTORY, period=AUGUST, meters=[FAILED_JULY_1], acc=acc)) == [
        ("average", d("12.500"))
    ]
    september = rated(HISTORY, period=SEPTEMBER, meters=[FAILED_JULY_1], acc=acc)
    assert volumes(september) == [("norm_per_person", d("10.000"))]
    assert september.lines[0].explanation.values["limit"] == 2


def test_missing_readings_before_a_failure_do_not_shorten_its_limit() -> None:
    # no reading in May and June, the meter fails on 1 July: the failure counts from July
    # (3 periods), the average comes from before the first estimated period (May)
    history = monthly("C", Period(2024, 10), "70", "80", "90", "100", "110", "121", "133")
    rating = rated(history, period=SEPTEMBER, meters=[FAILED_JULY_1])
    (line,) = rating.lines
    # Nov 10, Dec 10, Jan 10, Feb 10, Mar 11, Apr 12 → 63 / 6 = 10.500
    assert (line.quantity, line.explanation.estimates[0].number) == (d("10.500"), 3)
    assert line.explanation.average_periods == periods(
        "2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04"
    )


ELECTRICITY = metered_service(
    Resource.ELECTRICITY,
    flat("6"),
    norms=(norm("150", rooms=1, persons=1), norm("93", rooms=1, persons=2)),
)
E_HISTORY = monthly("E", DEC_2024, "1000", "1100", "1210", "1330", "1460", "1600", "1750")
E_FAILED = meter("E", Resource.ELECTRICITY, failed_on=date(2025, 7, 1))


def electricity(period: Period, cfg: Config | None = None, **extra: Any) -> Rating:
    acc = account("electricity", registrations=persons(2), **extra)
    return rate(
        inputs(acc, [ELECTRICITY], [E_FAILED], E_HISTORY, period=period, config=cfg or config())
    )


def test_household_electricity_of_the_supplier_is_averaged_until_replaced() -> None:
    # 100, 110, 120, 130, 140, 150 → 750 / 6 = 125.000 kWh, month after month, no limit
    rating = electricity(Period(2026, 3))
    (line,) = rating.lines
    assert (line.explanation.rule, line.quantity, line.amount) == (
        Rule.AVERAGE,
        d("125.000"),
        d("750.00"),
    )
    estimate = line.explanation.estimates[0]
    assert (estimate.number, estimate.limit) == (9, None)
    assert render(line, "en").endswith("period 9, until the meter is replaced; the meter failed)")
    assert "9-й период, до замены счётчика" in render(line)


def test_electricity_norm_by_rooms_and_persons_when_the_supplier_rule_is_off() -> None:
    off = electricity(Period(2026, 3), cfg=config(electricity_meter_owned_by_supplier="false"))
    legal = electricity(Period(2026, 3), consumer_kind=ConsumerKind.LEGAL)
    for rating in (off, legal):
        (line,) = rating.lines  # the 2-person row of a 1-room flat: 93 × 2 = 186 kWh
        assert (line.explanation.rule, line.quantity, line.amount) == (
            Rule.NORM_PER_PERSON,
            d("186.000"),
            d("1116.00"),
        )


def test_supplier_meters_get_no_coefficient_even_by_norm() -> None:
    refusals = (
        AccessRefusal(Resource.ELECTRICITY, date(2025, 1, 10)),
        AccessRefusal(Resource.ELECTRICITY, date(2025, 2, 10)),
    )
    short = [r for r in E_HISTORY if r.taken_on >= date(2025, 4, 1)]  # 2 actual months
    acc = account("electricity", registrations=persons(2), access_refusals=refusals)
    rating = rate(inputs(acc, [ELECTRICITY], [E_FAILED], short, period=AUGUST))
    assert volumes(rating) == [("norm_per_person", d("186.000"))]


def test_a_verification_expiring_in_a_freeze_window_does_not_fail_the_meter() -> None:
    frozen = config(verification_freeze_windows='[{"from": "2025-07-01", "to": "2025-07-31"}]')
    due = meter("C", Resource.COLD_WATER, verification_due=date(2025, 7, 5))
    history = [*HISTORY, reading("C", date(2025, 7, 25), "189")]
    july = rated(history, meters=[due], cfg=frozen)
    assert (volumes(july), july.issues) == ([("metered", d("14"))], ())
    # it expires at the end of the window: from 1 August it is estimated (1 of 3), by
    # Feb 11, Mar 12, Apr 13, May 14, Jun 15, Jul 14 → 79 / 6 = 13.1666… → 13.167
    august = rated(history, period=AUGUST, meters=[due], cfg=frozen)
    (line,) = august.lines
    assert (line.explanation.reason, line.quantity) == ("verification_expired", d("13.167"))
    (issue,) = august.issues
    assert (issue.values["due"], issue.values["day"]) == (date(2025, 7, 31), date(2025, 8, 1))
    # without the window the due date of 5 July stops the meter: the reading of 25 July
    # does not count, so all of July is estimated
    assert volumes(rated(history, meters=[due])) == [("average", d("12.500"))]


def test_the_second_refusal_of_access_raises_the_norm_by_half_from_the_next_period() -> None:
    def october(*recorded: date, resource: Resource = Resource.COLD_WATER) -> Rating:
        refusals = tuple(AccessRefusal(resource, day) for day in recorded)
        acc = account("cold_water", registrations=persons(2), access_refusals=refusals)
        return rated(HISTORY, period=OCTOBER, meters=[FAILED_JULY_1], acc=acc)

    rating = october(date(2025, 8, 10), date(2025, 9, 5))
    base, surcharge = rating.lines
    assert (base.amount, surcharge.explanation.rule, surcharge.amount) == (
        d("500.00"),
        Rule.NORM_COEFFICIENT,
        d("250.00"),  # 10.000 × 50 × (1.5 − 1)
    )
    assert (surcharge.explanation.values["coefficient"], surcharge.explanation.reason) == (
        d("1.5"),
        "refused_access",
    )
    assert render(surcharge, "en").endswith("(access to check the meter was refused twice)")
    assert render(surcharge).endswith("(потребитель дважды не допустил к проверке счётчика)")
    # the second refusal in October itself, one refusal, or another resource's: no ×1.5
    assert len(october(date(2025, 8, 10), date(2025, 10, 3)).lines) == 1
    assert len(october(date(2025, 8, 10)).lines) == 1
    assert len(october(date(2025, 8, 1), date(2025, 8, 2), resource=Resource.GAS).lines) == 1


def test_the_refused_access_coefficient_on_a_tiered_norm() -> None:
    tiered_cold = metered_service(
        Resource.COLD_WATER, tiered(("6", "40"), (None, "80")), norms=(norm("5"),)
    )
    refusals = (
        AccessRefusal(Resource.COLD_WATER, date(2025, 8, 10)),
        AccessRefusal(Resource.COLD_WATER, date(2025, 9, 5)),
    )
    acc = account("cold_water", registrations=persons(2), access_refusals=refusals)
    rating = rated(
        HISTORY, period=OCTOBER, meters=[FAILED_JULY_1], acc=acc, services=(tiered_cold,)
    )
    first, _, surcharge = rating.lines
    # the norm 10.000 m³: 6 × 40 + 4 × 80 = 560.00; ×1.5: round2(560 × 0.5) = 280.00
    assert [(line.explanation.rule, line.amount) for line in rating.lines] == [
        (Rule.TIER, d("240.00")),
        (Rule.TIER, d("320.00")),
        (Rule.NORM_COEFFICIENT, d("280.00")),
    ]
    assert (first.explanation.reason, surcharge.explanation.reason) == (
        "meter_failed",
        "refused_access",
    )
    assert render(surcharge, "en") == (
        "Cold water, increasing coefficient: (6.000 m³ × 40.00 RUB + 4.000 m³ × 80.00 RUB) × "
        "(1.5 − 1) = 280.00 RUB (access to check the meter was refused twice)"
    )


def test_the_coefficient_after_a_failure_is_configurable() -> None:
    cfg = config(norm_coefficient_after_failure="1.2")
    rating = rated(HISTORY, period=OCTOBER, meters=[FAILED_JULY_1], cfg=cfg)
    _, surcharge = rating.lines
    assert (surcharge.amount, surcharge.explanation.reason) == (d("100.00"), "meter_failed")
    # a refusal coefficient lower than the failure's does not lower it
    cfg = config(norm_coefficient_after_failure="2", norm_coefficient_refused_access="1.5")
    refusals = (
        AccessRefusal(Resource.COLD_WATER, date(2025, 1, 1)),
        AccessRefusal(Resource.COLD_WATER, date(2025, 2, 1)),
    )
    acc = account("cold_water", registrations=persons(2), access_refusals=refusals)
    rating = rated(HISTORY, period=OCTOBER, meters=[FAILED_JULY_1], cfg=cfg, acc=acc)
    assert rating.lines[1].amount == d("500.00")


# --- a failure mid-month, replacement gaps (2.3, 2.4) ---------------------------------------


def test_a_failure_mid_month_days_before_by_reading_the_rest_by_average() -> None:
    failed = meter("C", Resource.COLD_WATER, failed_on=date(2025, 7, 10))
    history = [
        *HISTORY,
        reading("C", date(2025, 7, 10), "180"),
        reading("C", date(2025, 7, 25), "190"),
    ]
    rating = rated(history, meters=[failed])
    # by reading: 180 − 175 = 5 (the reading of the failure day counts, the later one not);
    # 10–31 July: 12.500 × 22 / 31 = 8.8709… → 8.871
    assert [(line.explanation.rule, line.quantity, line.amount) for line in rating.lines] == [
        (Rule.METERED, d("5"), d("250.00")),
        (Rule.AVERAGE, d("8.871"), d("443.55")),
    ]
    estimate = rating.lines[1].explanation.estimates[0]
    assert (estimate.days, estimate.period_days, estimate.number) == (22, 31, 1)
    assert render(rating.lines[1]) == (
        "Холодная вода, по среднему: 12,500 м³ × 22/31 = 8,871 м³ × 50,00 ₽ = 443,55 ₽ "
        "(среднее за 6 мес.: 2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06; "
        "1-й период из 3; счётчик вышел из строя)"
    )


def test_a_failure_without_a_reading_before_it_is_estimated_for_the_whole_month() -> None:
    failed = meter("C", Resource.COLD_WATER, failed_on=date(2025, 7, 10))
    assert volumes(rated(HISTORY, meters=[failed])) == [("average", d("12.500"))]


def test_a_failure_after_the_cutoff_estimates_the_last_days_only() -> None:
    failed = meter("C", Resource.COLD_WATER, failed_on=date(2025, 7, 28))
    history = [*HISTORY, reading("C", date(2025, 7, 25), "189")]
    # the window (25 June, 25 July] is measured: 14; 28–31 July: 12.500 × 4 / 31 → 1.613
    assert volumes(rated(history, meters=[failed])) == [
        ("metered", d("14")),
        ("average", d("1.613")),
    ]


def test_replacement_gap_days_are_billed_by_the_removed_meters_average() -> None:
    meters = [
        meter("C", Resource.COLD_WATER, removed_on=date(2025, 7, 14)),
        meter("N", Resource.COLD_WATER, installed_on=date(2025, 7, 18)),
    ]
    history = [
        *HISTORY,
        reading("C", date(2025, 7, 14), "178.750", kind=ReadingKind.FINAL),
        reading("N", date(2025, 7, 18), "0", kind=ReadingKind.INITIAL),
        reading("N", date(2025, 7, 25), "4.2"),
    ]
    rating = rated(history, meters=meters)
    # 3.750 + 4.200 = 7.950 by reading; 14–17 July: round3(12.500 × 4 / 31) = 1.613
    assert [(line.explanation.rule, line.quantity, line.amount) for line in rating.lines] == [
        (Rule.METERED, d("7.950"), d("397.50")),
        (Rule.AVERAGE, d("1.613"), d("80.65")),
    ]
    estimate = rating.lines[1].explanation.estimates[0]
    assert (estimate.reason, estimate.days, estimate.number, estimate.limit) == (
        "replacement_gap",
        4,
        0,
        None,
    )
    assert render(rating.lines[1], "en") == (
        "Cold water, by average: 12.500 m³ × 4/31 = 1.613 m³ × 50.00 RUB = 80.65 RUB "
        "(average of 6 months: 2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06; "
        "days without a meter during its replacement)"
    )


def test_a_gap_without_history_goes_to_the_norm_with_the_failure_coefficient() -> None:
    meters = [
        meter("C", Resource.COLD_WATER, removed_on=date(2025, 7, 14)),
        meter("N", Resource.COLD_WATER, installed_on=date(2025, 7, 18)),
    ]
    history = [
        *monthly("C", Period(2025, 5), "146", "160"),
        reading("C", date(2025, 7, 14), "163", kind=ReadingKind.FINAL),
        reading("N", date(2025, 7, 18), "0", kind=ReadingKind.INITIAL),
        reading("N", date(2025, 7, 25), "4.2"),
    ]
    rating = rated(history, meters=meters, cfg=config(norm_coefficient_after_failure="1.5"))
    # 5 × 2 persons × 4 / 31 = 1.2903… → 1.290 m³; ×K line 1.290 × 50 × 0.5 = 32.25
    assert [(line.explanation.rule, line.quantity, line.amount) for line in rating.lines] == [
        (Rule.METERED, d("7.200"), d("360.00")),
        (Rule.NORM_PER_PERSON, d("1.290"), d("64.50")),
        (Rule.NORM_COEFFICIENT, d("1.290"), d("32.25")),
    ]
    assert rating.lines[1].span == DateRange(date(2025, 7, 14), date(2025, 7, 18))
    assert rating.lines[1].explanation.reason == "replacement_gap"
    assert render(rating.lines[1], "en").endswith(
        "(for 14.07.2025–17.07.2025; days without a meter during its replacement; by norm: "
        "actual readings for only 1 months, the average needs at least 3)"
    )


def test_days_before_a_first_meter_are_billed_like_no_meter() -> None:
    cold = metered_service(
        Resource.COLD_WATER, flat("50"), norms=(norm("5"),), increase_coefficient_applies=True
    )
    first = meter("C", Resource.COLD_WATER, installed_on=date(2025, 7, 10))
    history = [
        reading("C", date(2025, 7, 10), "0", kind=ReadingKind.INITIAL),
        reading("C", date(2025, 7, 25), "3"),
    ]
    rating = rated(history, meters=[first], services=[cold])
    # 1–9 July: 5 × 2 × 9 / 31 = 2.903 m³, with the ×1.5 of a missing meter (2.5)
    assert [(line.explanation.rule, line.quantity, line.amount) for line in rating.lines] == [
        (Rule.METERED, d("3"), d("150.00")),
        (Rule.NORM_PER_PERSON, d("2.903"), d("145.15")),
        (Rule.NORM_COEFFICIENT, d("2.903"), d("72.58")),
    ]


def test_a_norm_for_every_day_replaces_the_measured_zone() -> None:
    # the night register has no history: the norm is the premise's volume, so it replaces
    # the day register's reading too
    electricity = metered_service(
        Resource.ELECTRICITY, flat("6"), norms=(norm("100"),), method=Method.TIME_OF_USE
    )
    two_zone = meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))
    history = [
        *monthly("E", DEC_2024, *[str(100 * n) for n in range(8)], zone=Zone.DAY),
        reading("E", date(2025, 6, 25), "0", zone=Zone.NIGHT),
    ]
    acc = account("electricity", registrations=persons(1))
    rating = rate(inputs(acc, [electricity], [two_zone], history))
    assert volumes(rating) == [("norm_per_person", d("100.000"))]


# --- heating: heating-season months, area norms ---------------------------------------------

HEAT = Service(
    "heating_metered",
    "",
    Unit.GCAL,
    Method.METERED,
    resource=Resource.HEAT,
    tariffs=(flat("3000"),),
    norms=(norm("0.02", NormKind.PER_AREA),),
)
SEASONS = (
    DateRange(date(2024, 10, 1), date(2025, 5, 1)),
    DateRange(date(2025, 10, 1), date(2026, 5, 1)),
)
# Dec 1.9, Jan 2.0, Feb 1.8, Mar 1.4, Apr 1.0, May 0.3, Jun–Sep 0.1 each, Oct 1.2
HEAT_HISTORY = monthly(
    "H",
    Period(2024, 11),
    "10.000000",
    "11.900000",
    "13.900000",
    "15.700000",
    "17.100000",
    "18.100000",
    "18.400000",
    "18.500000",
    "18.600000",
    "18.700000",
    "18.800000",
    "20.000000",
)


def heat(
    seasons: tuple[DateRange, ...] | None, history: Sequence[Reading] = HEAT_HISTORY
) -> Rating:
    building = Building(d("4250.60"), d("612.40"), heating_season=seasons)
    acc = account("heating_metered", building=building)
    return rate(
        inputs(
            acc,
            [HEAT],
            [meter("H", Resource.HEAT, fraction_digits=6)],
            history,
            period=Period(2025, 11),
        )
    )


def test_heating_averages_the_heating_season_months_only() -> None:
    # back from October 2025: Oct 1.2; May–Sep are out of season; Apr 1.0, Mar 1.4,
    # Feb 1.8, Jan 2.0, Dec 1.9 → 9.3 / 6 = 1.550000 Gcal
    (line,) = heat(SEASONS).lines
    assert (line.quantity, line.amount) == (d("1.550000"), d("4650.00"))
    assert line.explanation.average_periods == periods(
        "2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-10"
    )
    # without seasons every month counts: Oct 1.2, Sep–Jun 0.1, May 0.3 → 1.9 / 6
    (line,) = heat(None).lines
    assert line.quantity == d("0.316667")


def test_a_heat_meter_is_estimated_for_its_heated_days_only() -> None:
    # the season starts on 10 November: Oct 2025 is out of season, so the average is
    # Apr 1.0, Mar 1.4, Feb 1.8, Jan 2.0, Dec 1.9 → 8.1 / 5 = 1.620000; November has 21
    # heated days of 30 → 1.62 × 21 / 30 = 1.134000
    late = (SEASONS[0], DateRange(date(2025, 11, 10), date(2026, 5, 1)))
    (line,) = heat(late).lines
    assert (line.quantity, line.explanation.estimates[0].days) == (d("1.134000"), 21)
    # out of season nothing is heated: 0
    summer = (SEASONS[0],)
    (line,) = heat(summer).lines
    assert (line.quantity, line.amount) == (d("0.000000"), d("0.00"))


def test_a_heat_meter_without_history_goes_to_the_area_norm() -> None:
    short = HEAT_HISTORY[-3:]  # Aug, Sep, Oct: Sep and Oct actual, and out of season
    (line,) = heat(SEASONS, short).lines
    # 0.02 Gcal/m² × 54.30 m² = 1.086000 Gcal
    assert (line.explanation.rule, line.quantity, line.amount) == (
        Rule.NORM_PER_AREA,
        d("1.086000"),
        d("3258.00"),
    )
    assert line.explanation.values["months"] == 1


# --- what the mapping passes -----------------------------------------------------------------


def test_history_start_covers_the_limits_and_the_look_back() -> None:
    cfg = config()
    # 6 + 12 + 2 = 20 periods before July 2025 → November 2023, its cutoff
    assert history_start(JULY, cfg) == date(2023, 11, 25)
    # a meter that stopped counting earlier: 20 periods before its stop
    assert history_start(JULY, cfg, date(2024, 3, 10)) == date(2022, 7, 25)
    assert history_start(JULY, cfg, date(2025, 9, 1)) == date(2023, 11, 25)
    wider = config(avg_window_months="12", avg_max_periods_no_reading="3")
    # max(3, 3, 2) + 24 + 2 = 29 periods back
    assert history_start(JULY, wider) == date(2023, 2, 25)


def test_older_history_than_needed_changes_nothing() -> None:
    older = monthly("C", Period(2023, 1), *[str(n) for n in range(0, 23)])
    later = [r for r in HISTORY if r.taken_on > date(2024, 12, 31)]
    base = rated([*monthly("C", DEC_2024, "100"), *later])
    assert rated([*older, *monthly("C", DEC_2024, "100"), *later]).lines == base.lines
    assert CW.serial == "C"


# --- histories with rejected readings, several estimates on one line -----------------------


def test_readings_rejected_by_billing_are_skipped_by_the_average_too() -> None:
    # a reading out of range (1 000 000 on a 5-digit meter) and one below the previous
    # that is no rollover are rejected in history as they were when billed
    history = sorted(
        [
            *HISTORY,
            reading("C", date(2025, 3, 1), "1000000"),
            reading("C", date(2025, 4, 1), "5"),
        ],
        key=lambda r: r.taken_on,
    )
    assert volumes(rated(history)) == [("average", d("12.500"))]


def test_a_failed_meters_last_days_and_the_gap_after_it_share_one_line() -> None:
    # C failed on 10 June (its June window is cut: not an actual month), was removed on
    # 5 July, N installed on 8 July. C's average: Jan–May 10 + 11 + 12 + 13 + 14 = 60 / 5 =
    # 12.000; 1–4 July (failure, 2nd period of 3): 12 × 4 / 31 = 1.548; gap 5–7 July:
    # 12 × 3 / 31 = 1.161
    meters = [
        meter("C", Resource.COLD_WATER, failed_on=date(2025, 6, 10), removed_on=date(2025, 7, 5)),
        meter("N", Resource.COLD_WATER, installed_on=date(2025, 7, 8)),
    ]
    history = [
        *monthly("C", DEC_2024, *HALF_YEAR[:6]),
        reading("C", date(2025, 6, 10), "162"),
        reading("N", date(2025, 7, 8), "0", kind=ReadingKind.INITIAL),
        reading("N", date(2025, 7, 25), "3"),
    ]
    rating = rated(history, meters=meters)
    assert [(line.explanation.rule, line.quantity, line.amount) for line in rating.lines] == [
        (Rule.AVERAGE, d("2.709"), d("135.45")),
        (Rule.METERED, d("3"), d("150.00")),
    ]
    failure, gap = rating.lines[0].explanation.estimates
    assert (failure.reason, failure.number, failure.volume) == ("meter_failed", 2, d("1.548"))
    assert (gap.reason, gap.number, gap.volume) == ("replacement_gap", 0, d("1.161"))
    assert rating.lines[0].explanation.reason == "meter_failed"
    assert render(rating.lines[0], "en").startswith(
        "Cold water, by average: (12.000 m³ × 4/31) + (12.000 m³ × 3/31) = 2.709 m³ × "
        "50.00 RUB = 135.45 RUB (average of 5 months: 2025-01, 2025-02, 2025-03, 2025-04, "
        "2025-05; period 2 of 3; the meter failed)"
    )
    assert [issue.code for issue in rating.issues] == ["meter_failed"]


def test_two_gaps_each_after_its_own_removed_meter() -> None:
    # A removed 5 July, B in service 8–15 July, C from 20 July: the gap 15–19 July follows
    # B (the latest removal), not A; neither has history, so both gaps go to the norm:
    # 5 × 2 × 3 / 31 = 0.968 and 5 × 2 × 5 / 31 = 1.613
    meters = [
        meter("A", Resource.COLD_WATER, removed_on=date(2025, 7, 5)),
        meter(
            "B", Resource.COLD_WATER, installed_on=date(2025, 7, 8), removed_on=date(2025, 7, 15)
        ),
        meter("C", Resource.COLD_WATER, installed_on=date(2025, 7, 20)),
    ]
    history = [
        reading("A", date(2025, 6, 25), "40"),
        reading("A", date(2025, 7, 5), "42", kind=ReadingKind.FINAL),
        reading("B", date(2025, 7, 8), "0", kind=ReadingKind.INITIAL),
        reading("B", date(2025, 7, 15), "3", kind=ReadingKind.FINAL),
        reading("C", date(2025, 7, 20), "0", kind=ReadingKind.INITIAL),
        reading("C", date(2025, 7, 25), "1"),
    ]
    rating = rated(history, meters=meters)
    assert [(line.explanation.rule, line.span.start, line.quantity) for line in rating.lines] == [
        (Rule.METERED, date(2025, 7, 1), d("6")),
        (Rule.NORM_PER_PERSON, date(2025, 7, 5), d("0.968")),
        (Rule.NORM_PER_PERSON, date(2025, 7, 15), d("1.613")),
    ]
