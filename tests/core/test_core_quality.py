"""kvit.core quality reductions for interruptions (2.15): allowed totals per resource, the
dead-end accident and the planned shutdown, the cap at the period's charge, `excess_mode`
total and per event, with hand-computed numbers. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from test_core_rating_builders import (
    JULY,
    account,
    amounts,
    area_service,
    codes,
    d,
    flat,
    inputs,
    metered_service,
    norm,
    persons,
    rated,
)

from kvit.core.codes import LineKind, Method, NormKind, Resource, Rule, Unit
from kvit.core.config import config_on
from kvit.core.context import Job, Run
from kvit.core.explain import render
from kvit.core.inputs import Absence, Building, Interruption, Service
from kvit.core.lines import Explanation, Rating
from kvit.core.norms import norm_per_person
from kvit.core.periods import Period
from kvit.core.quality import allowed_hours, quality
from kvit.core.tariffs import TariffBook

COLD = metered_service(Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),))
HOT = metered_service(Resource.HOT_WATER, flat("245.67"), norms=(norm("3.5"),))
ELECTRICITY = metered_service(Resource.ELECTRICITY, flat("6.43"), norms=(norm("70"),))
ALL_IMPOSSIBLE = frozenset(Resource)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, 7, day, hour, minute)


def out(service: str, start: datetime, end: datetime, **flags: bool) -> Interruption:
    return Interruption(service, start, end, **flags)


def interrupted(
    service: Service, *interruptions: Interruption, people: int = 3, **extra: Any
) -> Rating:
    extra.setdefault("meter_impossible", ALL_IMPOSSIBLE)
    config = extra.pop("config", None)
    acc = account(service.code, registrations=persons(people), interruptions=interruptions, **extra)
    return rated(acc, [service], **({"config": config} if config else {}))


def reductions(rating: Rating) -> list[str]:
    return [str(line.amount) for line in rating.lines if line.kind is LineKind.QUALITY_REDUCTION]


def test_hours_above_the_allowed_total_reduce_the_charge() -> None:
    rating = interrupted(COLD, out("cold_water", at(10, 8), at(11, 4, 30)))
    assert amounts(rating)[0] == d("696.80")  # 3 × 4.745 × 48.95
    line = rating.lines[-1]
    assert (line.kind, line.explanation.rule) == (
        LineKind.QUALITY_REDUCTION,
        Rule.QUALITY_REDUCTION,
    )
    # 20 h 30 min − 8 h = 12 full hours; round2(696.80 × 0.15 % × 12) = round2(12.5424)
    assert (line.quantity, line.tariff, line.amount) == (d("0"), d("0"), d("-12.54"))
    assert line.explanation.values == {
        "interruptions": 1,
        "minutes": 1230,
        "allowed": 8,
        "excess_hours": 12,
        "percent": d("0.15"),
        "charge": d("696.80"),
    }
    assert rating.total == d("684.26")


def test_interruptions_add_up_and_only_full_hours_count() -> None:
    two = interrupted(
        COLD, out("cold_water", at(3, 0), at(3, 5)), out("cold_water", at(20, 0), at(20, 5))
    )
    assert reductions(two) == ["-2.09"]  # 10 h − 8 = 2; 696.80 × 0.003 = 2.0904
    assert reductions(interrupted(COLD, out("cold_water", at(3), at(3, 8)))) == []
    assert reductions(interrupted(COLD, out("cold_water", at(3), at(3, 8, 59)))) == []
    # 9 h − 8 = 1 h; 696.80 × 0.0015 = 1.0452
    assert reductions(interrupted(COLD, out("cold_water", at(3), at(3, 9)))) == ["-1.05"]


def test_only_the_part_inside_the_period_counts() -> None:
    across = out("cold_water", datetime(2025, 6, 30, 20), at(1, 10))
    assert reductions(interrupted(COLD, across)) == ["-2.09"]  # 10 h in July
    before = out("cold_water", datetime(2025, 6, 1), datetime(2025, 6, 30))
    assert interrupted(COLD, before).lines == interrupted(COLD).lines


PER_EVENT = config_on(date(2025, 7, 1), {"excess_mode": "per_event"})


def test_an_accident_on_a_dead_end_main_counts_towards_the_total_by_default() -> None:
    # excess_mode = total (2.15): Σ of all hours − 8; 30 h − 8 = 22; 696.80 × 0.033 = 22.9944
    accident = out("cold_water", at(2), at(3, 6), accident_dead_end=True)
    assert reductions(interrupted(COLD, accident)) == ["-22.99"]


def test_per_event_an_accident_on_a_dead_end_main_is_allowed_24_hours() -> None:
    accident = out("cold_water", at(2), at(3, 0), accident_dead_end=True)
    assert reductions(interrupted(COLD, accident, config=PER_EVENT)) == []  # 22 h, excused
    # 40 h: the first 24 h excused, the 16 h beyond the single-event limit are excess on
    # their own; 696.80 × 0.15 % × 16 = 16.7232
    long = out("cold_water", at(2), at(3, 16), accident_dead_end=True)
    assert reductions(interrupted(COLD, long, config=PER_EVENT)) == ["-16.72"]


def test_per_event_hours_beyond_4_at_a_time_are_excess_on_their_own() -> None:
    def both(*pieces: Interruption) -> tuple[list[str], list[str]]:
        return (
            reductions(interrupted(COLD, *pieces)),
            reductions(interrupted(COLD, *pieces, config=PER_EVENT)),
        )

    # one 6 h interruption: within the month's 8 h, but 2 h beyond 4 h at a time
    assert both(out("cold_water", at(3, 8), at(3, 14))) == ([], ["-2.09"])
    # 10 h at once: total 10 − 8 = 2 h; per event 6 h beyond + max(0, 4 − 8) = 6 h
    assert both(out("cold_water", at(3), at(3, 10))) == (["-2.09"], ["-6.27"])
    # 6 h + 6 h: total 12 − 8 = 4; per event 2 + 2 beyond, 4 + 4 within the 8 h: also 4
    two = (out("cold_water", at(3), at(3, 6)), out("cold_water", at(20), at(20, 6)))
    assert both(*two) == (["-4.18"], ["-4.18"])
    # 3 h × 4: no event beyond its limit, the 12 h against the total: 4 h either way
    four = tuple(out("cold_water", at(day), at(day, 3)) for day in (3, 10, 17, 24))
    assert both(*four) == (["-4.18"], ["-4.18"])


def test_per_event_the_limit_runs_from_the_start_of_the_interruption() -> None:
    # from 30 June 22:00 to 1 July 06:00: 6 h in July, of them 4 h past 02:00, when the
    # 4 h at a time ran out; 696.80 × 0.15 % × 4 = 4.1808
    across = out("cold_water", datetime(2025, 6, 30, 22), at(1, 6))
    assert reductions(interrupted(COLD, across)) == []
    assert reductions(interrupted(COLD, across, config=PER_EVENT)) == ["-4.18"]


def test_per_event_a_planned_shutdown_overrun_is_an_interruption() -> None:
    # 14 days excused, then 10 h: total 10 − 8 = 2 h; per event 6 h beyond 4 h at a time;
    # hot water 10.500 × 245.67 = 2579.54: × 0.003 = 7.73862, × 0.009 = 23.21586
    overrun = out("hot_water", at(1), at(15, 10), planned_shutdown=True)
    assert reductions(interrupted(HOT, overrun)) == ["-7.74"]
    assert reductions(interrupted(HOT, overrun, config=PER_EVENT)) == ["-23.22"]


def test_per_event_without_a_single_event_limit_is_the_total() -> None:
    # electricity has no single-event limit in the spec: 30 h − 24 h = 6 h either way
    outage = out("electricity", at(3), at(4, 6))
    assert reductions(interrupted(ELECTRICITY, outage)) == reductions(
        interrupted(ELECTRICITY, outage, config=PER_EVENT)
    )
    line = interrupted(ELECTRICITY, outage, config=PER_EVENT).lines[-1]
    assert line.explanation.values["beyond_minutes"] == 0
    assert "event_limit" not in line.explanation.values


def test_the_planned_hot_water_shutdown_is_excused_for_14_days() -> None:
    assert (
        reductions(interrupted(HOT, out("hot_water", at(1), at(15), planned_shutdown=True))) == []
    )
    # 16 days: 2 days = 48 h count, 48 − 8 = 40 h; hot water 10.500 × 245.67 = 2579.54;
    # 2579.54 × 0.06 = 154.7724
    rating = interrupted(HOT, out("hot_water", at(1), at(17), planned_shutdown=True))
    assert reductions(rating) == ["-154.77"]


def test_the_reduction_never_exceeds_the_period_charge() -> None:
    month = out("electricity", at(1), datetime(2025, 8, 1))
    rating = interrupted(ELECTRICITY, month, people=1)
    # 744 h − 24 = 720 h × 0.15 % = 108 %: capped at 70 × 6.43 = 450.10
    assert amounts(rating) == [d("450.10"), d("-450.10")]
    assert rating.total == d("0.00")


def test_electricity_allows_2_hours_with_two_sources_and_24_with_one() -> None:
    five = out("electricity", at(5, 10), at(5, 15))
    assert reductions(interrupted(ELECTRICITY, five, people=1)) == []
    two_sources = Building(d("4250.60"), d("612.40"), electricity_two_sources=True)
    rating = interrupted(ELECTRICITY, five, people=1, building=two_sources)
    assert reductions(rating) == ["-2.03"]  # 3 h: 450.10 × 0.0045 = 2.02545


def test_allowed_totals_per_service() -> None:
    sewerage = Service(
        "sewerage", "", Unit.M3, Method.METERED, summed_resources=(Resource.COLD_WATER,)
    )
    heating = Service("heating", "", Unit.GCAL, Method.HEATING_BY_AREA)
    metered_heat = metered_service(Resource.HEAT, flat("1"))
    gas = metered_service(Resource.GAS, flat("1"))
    maintenance = area_service("maintenance", flat("33.40"))
    assert [
        allowed_hours(service, None)
        for service in (COLD, HOT, sewerage, heating, metered_heat, gas, ELECTRICITY, maintenance)
    ] == [8, 8, 8, 24, 24, 4, 24, None]


def test_heating_sewerage_and_gas_use_their_totals() -> None:
    heating = Service(
        "heating",
        "",
        Unit.GCAL,
        Method.HEATING_BY_AREA,
        resource=Resource.HEAT,
        tariffs=(flat("3095.00"),),
        norms=(norm("0.0205", NormKind.PER_AREA),),
    )
    # heating 1.113150 × 3095 = 3445.20; 30 h − 24 = 6 h; 3445.20 × 0.009 = 31.0068
    assert reductions(interrupted(heating, out("heating", at(4), at(5, 6)))) == ["-31.01"]
    gas = metered_service(Resource.GAS, flat("10.00"), norms=(norm("10"),))
    # gas 3 × 10 × 10.00 = 300.00; 6 h − 4 = 2 h; 300 × 0.003 = 0.90
    assert reductions(interrupted(gas, out("gas", at(4), at(4, 6)))) == ["-0.90"]


def test_a_service_without_an_allowed_total_is_reported() -> None:
    maintenance = area_service("maintenance", flat("33.40"))
    rating = interrupted(maintenance, out("maintenance", at(4), at(4, 5)))
    assert reductions(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.values) == ("quality_not_defined", {"hours": "5:00"})
    assert issue.message("en") == (
        "account 1002003, service maintenance: 5:00 h of interruptions are recorded, but no "
        "allowed total is defined for this service (spec 2.15); its charge is not reduced"
    )


def test_the_reduction_is_taken_from_the_whole_period_charge() -> None:
    cold_k = metered_service(
        Resource.COLD_WATER,
        flat("48.95"),
        norms=(norm("4.745"),),
        increase_coefficient_applies=True,
    )
    with_surcharge = interrupted(
        cold_k, out("cold_water", at(10, 8), at(11, 4, 30)), meter_impossible=frozenset()
    )
    # (696.80 + 348.40) × 0.15 % × 12 = 1045.20 × 0.018 = 18.8136
    assert reductions(with_surcharge) == ["-18.81"]
    cold = metered_service(
        Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),), absence_recalc_allowed=True
    )
    away = Absence("p0", date(2025, 7, 3), date(2025, 7, 19), filed_on=date(2025, 7, 20))
    rating = interrupted(cold, out("cold_water", at(10, 8), at(11, 4, 30)), absences=(away,))
    # round3(4.745 × 15/31) = 2.296; 2.296 × 48.95 = 112.3892;
    # (696.80 − 112.39) × 0.018 = 584.41 × 0.018 = 10.51938
    assert amounts(rating) == [d("696.80"), d("-112.39"), d("-10.52")]


def test_no_reduction_without_a_charge_or_for_other_services() -> None:
    free = metered_service(Resource.COLD_WATER, flat("0"), norms=(norm("4.745"),))
    assert reductions(interrupted(free, out("cold_water", at(10), at(11)))) == []
    assert reductions(interrupted(COLD, out("hot_water", at(10), at(11)))) == []


def test_the_percentage_is_a_parameter() -> None:
    config = config_on(date(2025, 7, 1), {"quality_reduction_pct_per_hour": "0.1"})
    rating = interrupted(COLD, out("cold_water", at(10, 8), at(11, 4, 30)), config=config)
    assert reductions(rating) == ["-8.36"]  # 696.80 × 0.1 % × 12 = 8.3616
    assert codes(rating) == []
    off = config_on(date(2025, 7, 1), {"quality_reduction_pct_per_hour": "0"})
    assert reductions(interrupted(COLD, out("cold_water", at(10), at(11)), config=off)) == []


def test_quality_sentences() -> None:
    line = interrupted(COLD, out("cold_water", at(10, 8), at(11, 4, 30))).lines[-1]
    assert render(line, "ru") == (
        "Холодная вода, снижение платы за перерывы: перерывы 20 ч 30 мин при допустимых 8 ч → "
        "превышение 12 ч × 0,15 % × 696,80 ₽ = −12,54 ₽"
    )
    assert render(line, "en") == (
        "Cold water, reduction for interruptions: interruptions 20 h 30 min, 8 h allowed → "
        "12 h over × 0.15 % × 696.80 RUB = -12.54 RUB"
    )
    capped = interrupted(ELECTRICITY, out("electricity", at(1), datetime(2025, 8, 1)), people=1)
    assert render(capped.lines[-1], "en").endswith(
        "720 h over × 0.15 % × 450.10 RUB = -450.10 RUB (at most the period's charge)"
    )


def test_per_event_sentences() -> None:
    pieces = (
        out("cold_water", at(3), at(3, 10)),
        out("cold_water", at(10), at(11, 6), accident_dead_end=True),
    )
    line = interrupted(COLD, *pieces, config=PER_EVENT).lines[-1]
    # 10 h: 4 h within, 6 h beyond; the accident 30 h: 24 h excused, 6 h beyond
    assert line.explanation.values == {
        "interruptions": 2,
        "minutes": 16 * 60,
        "allowed": 8,
        "excess_hours": 12,
        "percent": d("0.15"),
        "charge": d("696.80"),
        "excess_mode": "per_event",
        "beyond_minutes": 12 * 60,
        "event_limit": 4,
        "dead_end": 1,
    }
    assert render(line, "ru") == (
        "Холодная вода, снижение платы за перерывы: перерывы 16 ч 00 мин при допустимых 8 ч "
        "в месяц, из них 12 ч 00 мин сверх допустимого подряд → превышение 12 ч × 0,15 % × "
        "696,80 ₽ = −12,54 ₽ (не более 4 ч подряд; авария на тупиковой магистрали: первые "
        "24 ч не учитываются)"
    )
    assert render(line, "en") == (
        "Cold water, reduction for interruptions: interruptions 16 h 00 min, 8 h a month "
        "allowed, 12 h 00 min of them beyond the limit at a time → 12 h over × 0.15 % × "
        "696.80 RUB = -12.54 RUB (at most 4 h at a time; an accident on a dead-end main: its "
        "first 24 h not counted)"
    )
    capped = interrupted(
        ELECTRICITY, out("electricity", at(1), datetime(2025, 8, 1)), people=1, config=PER_EVENT
    )
    assert render(capped.lines[-1], "en").endswith(
        "720 h over × 0.15 % × 450.10 RUB = -450.10 RUB (at most the period's charge)"
    )


def test_recalculations_of_earlier_periods_are_not_this_period_s_charge() -> None:
    acc = account(
        "cold_water",
        registrations=persons(3),
        interruptions=(out("cold_water", at(10, 8), at(11, 4, 30)),),
        meter_impossible=ALL_IMPOSSIBLE,
    )
    period_inputs = inputs(acc, [COLD])
    run = Run(period_inputs, TariffBook(), JULY.span)
    job = Job(COLD, acc.services[0], JULY.span)
    norm_per_person(run, job)
    base = run.lines[0]
    run.lines.append(
        replace(
            base,
            kind=LineKind.RECALCULATION,
            amount=d("-100.00"),
            explanation=Explanation(Rule.TRUE_UP, corrects=Period(2025, 6)),
        )
    )
    quality(run, [job])
    assert run.lines[-1].amount == d("-12.54")  # on 696.80, not 596.80
