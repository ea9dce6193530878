"""A multi-zone meter on a tiered tariff (spec 2.11 [UNCERTAIN], with 2.12): the blocks of
all zones' sum, each zone's volume split across them in proportion (`round3`, remainder to
the last tier), one line per zone and tier at the tier's zone price; the versions the
engine cannot price; the true-up of such a meter. Numbers are worked out by hand in the
comments. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from test_core_estimates_builders import DEC_2024, bill_run, config, monthly
from test_core_rating_builders import (
    LONG_AGO,
    account,
    codes,
    d,
    inputs,
    meter,
    metered_service,
    norm,
    persons,
    rated,
    reading,
    tier,
    tiered,
)

from kvit.core.codes import LineKind, Method, Resource, Rule, Zone
from kvit.core.config import Config
from kvit.core.explain import NBSP, render
from kvit.core.inputs import Reading, TariffVersion, Tier, ZonePrice
from kvit.core.issues import Severity
from kvit.core.lines import Rating
from kvit.core.money import round2
from kvit.core.periods import Period
from kvit.core.tariffs import blocks, zone_shares

JUNE_25 = date(2025, 6, 25)
JULY_25 = date(2025, 7, 25)
JULY, AUGUST, SEPTEMBER = Period(2025, 7), Period(2025, 8), Period(2025, 9)

# Russian volume ranges with day/night prices in each range (illustrative prices).
RANGES = tiered(
    tier("3900", "4.93", day="5.42", night="2.96"),
    tier("6000", "8.27", day="9.10", night="4.96"),
    tier(None, "9.47", day="10.42", night="5.68"),
)
ELECTRICITY = metered_service(
    Resource.ELECTRICITY, RANGES, method=Method.TIERED, name="Электроэнергия"
)
TWO_ZONE = meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT), integer_digits=6)


def day_night(day: str, night: str, service: object = ELECTRICITY) -> Rating:
    """July: the day register from 10 000 to `day` more, the night one from 5 000."""
    return rated(
        account("electricity"),
        [service],
        [TWO_ZONE],
        [
            reading("E", JUNE_25, "10000", Zone.DAY),
            reading("E", JULY_25, str(10000 + Decimal(day)), Zone.DAY),
            reading("E", JUNE_25, "5000", Zone.NIGHT),
            reading("E", JULY_25, str(5000 + Decimal(night)), Zone.NIGHT),
        ],
    )


def rows(rating: Rating) -> list[tuple[str, int, Decimal, Decimal, Decimal]]:
    return [
        (line.zone, line.tier, line.quantity, line.tariff, line.amount) for line in rating.lines
    ]


# --- pricing ---------------------------------------------------------------------------------


def test_each_zone_is_split_across_the_blocks_of_the_sum() -> None:
    rating = day_night("3000", "1350")
    assert rating.issues == ()
    # 4 350 kWh: blocks 3 900 and 450. Day: round3(3 000 × 3 900 / 4 350) = 2 689.655, the
    # rest 310.345; night: round3(1 350 × 3 900 / 4 350) = 1 210.345, the rest 139.655
    assert rows(rating) == [
        ("day", 1, d("2689.655"), d("5.42"), d("14577.93")),
        ("day", 2, d("310.345"), d("9.10"), d("2824.14")),
        ("night", 1, d("1210.345"), d("2.96"), d("3582.62")),
        ("night", 2, d("139.655"), d("4.96"), d("692.69")),
    ]
    assert all(line.explanation.rule is Rule.TIER for line in rating.lines)
    assert all(line.kind is LineKind.CHARGE for line in rating.lines)
    first, second = rating.lines[:2]
    assert first.explanation.values == {
        "tier": 1,
        "lower": d("0"),
        "upper": d("3900"),
        "total": d("4350"),
        "zone_volume": d("3000"),
        "block": d("3900"),
    }
    assert second.explanation.values["zone_others"] == d("2689.655")
    # the tiers' volumes add up to the blocks, the zones' lines to the zones' volumes
    assert sum(line.quantity for line in rating.lines if line.tier == 1) == d("3900")
    assert sum(line.quantity for line in rating.lines if line.zone == "day") == d("3000")


def test_three_blocks_and_the_remainder_to_the_last_tier() -> None:
    rating = day_night("4800", "1700")
    # 6 500 kWh: 3 900, 2 100, 500. Day 4 800: 2 880.000, 1 550.769, rest 369.231;
    # night 1 700: 1 020.000, 549.231, rest 130.769
    assert rows(rating) == [
        ("day", 1, d("2880.000"), d("5.42"), d("15609.60")),
        ("day", 2, d("1550.769"), d("9.10"), d("14112.00")),
        ("day", 3, d("369.231"), d("10.42"), d("3847.39")),
        ("night", 1, d("1020.000"), d("2.96"), d("3019.20")),
        ("night", 2, d("549.231"), d("4.96"), d("2724.19")),
        ("night", 3, d("130.769"), d("5.68"), d("742.77")),
    ]
    assert rating.total == d("40055.15")
    assert len({line.key for line in rating.lines}) == 6  # zone and tier tell them apart


def test_within_the_first_block_each_zone_has_one_line() -> None:
    rating = day_night("212", "98")
    assert rows(rating) == [
        ("day", 1, d("212"), d("5.42"), d("1149.04")),
        ("night", 1, d("98"), d("2.96"), d("290.08")),
    ]
    assert "zone_volume" not in rating.lines[0].explanation.values


def test_a_single_zone_meter_takes_the_tiers_single_rate() -> None:
    rating = rated(
        account("electricity"),
        [ELECTRICITY],
        [meter("E", Resource.ELECTRICITY, integer_digits=6)],
        [reading("E", JUNE_25, "1000"), reading("E", JULY_25, "5350")],
    )
    assert rows(rating) == [
        ("total", 1, d("3900"), d("4.93"), d("19227.00")),
        ("total", 2, d("450"), d("8.27"), d("3721.50")),
    ]  # example 4, case a
    assert render(rating.lines[1], "en") == (
        "Electricity, tier 2 (3,900–6,000 kWh): 450.000 of 4,350.000 kWh × 8.27 RUB = "
        "3,721.50 RUB (reading of 25.07.2025)"
    )


def test_tiers_without_zone_prices_price_the_zones_sum_by_blocks() -> None:
    single = metered_service(
        Resource.ELECTRICITY,
        tiered(("3900", "4.93"), ("6000", "8.27"), (None, "9.47")),
        method=Method.TIERED,
    )
    rating = day_night("3000", "1350", single)
    assert rows(rating) == [
        ("", 1, d("3900"), d("4.93"), d("19227.00")),
        ("", 2, d("450"), d("8.27"), d("3721.50")),
    ]


def test_the_sentences_say_how_the_zones_share_was_taken() -> None:
    first, second = day_night("3000", "1350").lines[:2]
    assert render(first) == (
        f"Электроэнергия, день, ступень 1 (0–3{NBSP}900 кВт·ч): 3{NBSP}000,000 кВт·ч × "
        f"3{NBSP}900,000 / 4{NBSP}350,000 = 2{NBSP}689,655 кВт·ч × 5,42 ₽ = 14{NBSP}577,93 ₽ "
        "(доля зоны по ступеням; показание от 25.07.2025)"
    )
    assert render(second, "en") == (
        "Electricity, day, tier 2 (3,900–6,000 kWh): 3,000.000 − 2,689.655 = 310.345 kWh × "
        "9.10 RUB = 2,824.14 RUB (the zone's rest after the other tiers; reading of "
        "25.07.2025)"
    )


# --- what cannot be priced -------------------------------------------------------------------


def test_a_zone_without_a_price_in_a_tier_it_reaches_is_reported() -> None:
    partial = metered_service(
        Resource.ELECTRICITY,
        tiered(
            tier("3900", "4.93", day="5.42", night="2.96"),
            tier(None, "8.27", day="9.10"),  # no night price above 3 900
        ),
        method=Method.TIERED,
    )
    rating = day_night("3000", "1350", partial)
    assert [(line.zone, line.tier) for line in rating.lines] == [("day", 1), ("day", 2)]
    (issue,) = rating.issues
    assert (issue.code, issue.severity) == ("no_tier_zone_price", Severity.ERROR)
    assert issue.message("en") == (
        "account 1002003, service electricity: no price for zone night in tier 2 of the tariff "
        "in force on 01.07.2025 (tariff group “”); the zone's volume of the days "
        "01.07.2025–31.07.2025 is not charged"
    )
    assert issue.message("ru") == (
        "лицевой счёт 1002003, услуга electricity: нет цены зоны night в ступени 2 тарифа на "
        "01.07.2025 (тарифная группа «»); объём зоны за дни 01.07.2025–31.07.2025 не начислен"
    )
    # within the first block the missing price is not needed
    assert day_night("2000", "1000", partial).issues == ()


def test_tiers_with_zone_prices_for_the_whole_version_are_not_priced() -> None:
    both = TariffVersion(
        LONG_AGO,
        tiers=(Tier(d("3900"), d("4.93")), Tier(None, d("8.27"))),
        zones=(ZonePrice(Zone.DAY, d("5.42")), ZonePrice(Zone.NIGHT, d("2.96"))),
    )
    service = metered_service(
        Resource.ELECTRICITY,
        both,
        norms=(norm("100"),),
        method=Method.TIERED,
        increase_coefficient_applies=True,
    )
    rating = day_night("3000", "1350", service)
    assert rating.lines == ()
    (issue,) = rating.issues
    assert (issue.code, issue.severity) == ("tariff_tiers_and_zones", Severity.ERROR)
    assert issue.message("en") == (
        "account 1002003, service electricity: the tariff in force on 01.07.2025 (tariff group "
        "“”) has both tiers and zone prices for the whole tariff; a tiered tariff takes its "
        "zone prices in each tier, so the days 01.07.2025–31.07.2025 are not charged"
    )
    assert issue.message("ru") == (
        "лицевой счёт 1002003, услуга electricity: в тарифе на 01.07.2025 (тарифная группа "
        "«») заданы и ступени, и цены зон на весь тариф; у ступенчатого тарифа цены зон "
        "задаются в каждой ступени, поэтому дни 01.07.2025–31.07.2025 не начислены"
    )
    # by norm (no meter) the same version is not priced either
    by_norm = rated(account("electricity", registrations=persons(2)), [service])
    assert (by_norm.lines, codes(by_norm)) == ((), ["tariff_tiers_and_zones"])


# --- the split itself --------------------------------------------------------------------------


@given(
    bounds=st.lists(st.integers(1, 5000), min_size=0, max_size=3, unique=True),
    zones=st.lists(st.integers(0, 9_000_000), min_size=1, max_size=3),
)
def test_zone_shares_add_up_to_the_zone_and_the_blocks(bounds: list[int], zones: list[int]) -> None:
    tiers = [Tier(Decimal(b), Decimal(1)) for b in sorted(bounds)] + [Tier(None, Decimal(1))]
    volumes = [Decimal(v).scaleb(-3) for v in zones]
    total = sum(volumes, Decimal(0))
    found = blocks(total, tiers, 31, 31, 3)
    split = [zone_shares(volume, total, found, 3) for volume in volumes]
    for volume, shares in zip(volumes, split, strict=True):
        assert sum(shares, Decimal(0)) == volume  # exact: the last tier takes the remainder
        assert all(share >= 0 for share in shares)
        assert all(share.as_tuple().exponent >= -3 for share in shares)
    for index, block in enumerate(found):
        # each zone's share is within rounding of V_z × V_k / V, so a tier's shares are too
        tier_sum = sum((shares[index] for shares in split), Decimal(0))
        assert abs(tier_sum - block.quantity) <= Decimal("0.001") * len(found) * len(zones)


@given(volume=st.integers(-9_000_000, -1))
def test_a_negative_zone_volume_is_split_like_its_absolute_value(volume: int) -> None:
    tiers = [Tier(Decimal(100), Decimal(1)), Tier(None, Decimal(2))]
    found = blocks(Decimal(300), tiers, 31, 31, 3)
    negative = Decimal(volume).scaleb(-3)
    assert zone_shares(negative, Decimal(300), found, 3) == [
        -share for share in zone_shares(-negative, Decimal(300), found, 3)
    ]


# --- true-up (2.7) -----------------------------------------------------------------------------

SMALL = tiered(
    tier("120", "4", day="5", night="2"),
    tier(None, "8", day="10", night="4"),
)
SMALL_SERVICE = metered_service(
    Resource.ELECTRICITY, SMALL, norms=(norm("100"),), method=Method.TIERED
)


def zone_run(day: str, night: str, cfg: Config | None = None) -> dict[Period, Rating]:
    """Day 100 and night 30 a month to June; July and August without readings (estimated by
    the zones' averages); September's readings `day` and `night`."""
    history: list[Reading] = [
        *monthly("E", DEC_2024, *[str(100 * n) for n in range(7)], None, None, day, zone=Zone.DAY),
        *monthly(
            "E", DEC_2024, *[str(30 * n) for n in range(7)], None, None, night, zone=Zone.NIGHT
        ),
    ]
    acc = account("electricity", registrations=persons(1))
    return bill_run(
        lambda period: inputs(
            acc,
            [SMALL_SERVICE],
            [meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))],
            history,
            period=period,
            config=cfg or config(),
        ),
        JULY,
        SEPTEMBER,
    )


def test_the_averages_of_the_zones_are_priced_per_zone_and_tier() -> None:
    july = zone_run("1000", "230")[JULY]
    # 130 kWh: blocks 120 and 10; day 100 → 92.308 + 7.692, night 30 → 27.692 + 2.308
    assert [(line.zone, line.tier, line.quantity) for line in july.lines] == [
        ("day", 1, d("92.308")),
        ("day", 2, d("7.692")),
        ("night", 1, d("27.692")),
        ("night", 2, d("2.308")),
    ]
    assert all(line.explanation.rule is Rule.TIER for line in july.lines)


def test_a_true_up_per_zone_across_the_blocks() -> None:
    september = zone_run("1000", "230")[SEPTEMBER]
    assert september.issues == ()
    # day 1000 − 600 = 400 − 200 estimated = 200; night 230 − 180 = 50 − 60 = −10; the blocks
    # of 190: 120 and 70; day 126.316 + 73.684; night −(6.316 + 3.684)
    assert [
        (line.kind, line.explanation.rule, line.zone, line.tier, line.quantity, line.amount)
        for line in september.lines
    ] == [
        (LineKind.RECALCULATION, Rule.TRUE_UP, "day", 1, d("126.316"), d("631.58")),
        (LineKind.RECALCULATION, Rule.TRUE_UP, "day", 2, d("73.684"), d("736.84")),
        (LineKind.RECALCULATION, Rule.TRUE_UP, "night", 1, d("-6.316"), d("-12.63")),
        (LineKind.RECALCULATION, Rule.TRUE_UP, "night", 2, d("-3.684"), d("-14.74")),
    ]
    assert "; tier 2 (above 120 kWh): -10.000 − (-6.316) = -3.684 kWh × 4.00 RUB" in render(
        september.lines[3], "en"
    )
    assert "ступень 2 (свыше 120 кВт·ч): −10,000 − (−6,316) = −3,684 кВт·ч" in render(
        september.lines[3]
    )


def test_rerate_past_prices_each_zone_in_the_blocks_of_the_period() -> None:
    september = zone_run("1000", "230", config(trueup_mode="rerate_past"))[SEPTEMBER]
    assert september.issues == ()
    july = [line for line in september.lines if line.explanation.corrects == JULY]
    # day 400 over 31/31/30 days → 134.783 in July; night 50 → 16.848; July's blocks of
    # 151.631: 120 and 31.631; day 106.666 + 28.117, night 13.334 + 3.514
    day_rerated = round2(d("106.666") * 5) + round2(d("28.117") * 10)
    night_rerated = round2(d("13.334") * 2) + round2(d("3.514") * 4)
    # billed in July: day 92.308 × 5 + 7.692 × 10, night 27.692 × 2 + 2.308 × 4
    day_billed = round2(d("92.308") * 5) + round2(d("7.692") * 10)
    night_billed = round2(d("27.692") * 2) + round2(d("2.308") * 4)
    assert [(line.zone, line.quantity, line.amount) for line in july] == [
        ("day", d("134.783") - 100, day_rerated - day_billed),
        ("night", d("16.848") - 30, night_rerated - night_billed),
    ]


def test_rerate_past_reports_a_past_zone_without_a_price() -> None:
    july_only = tiered(
        tier("120", "4", day="5"),  # no night price in July
        tier(None, "8", day="10"),
        end=date(2025, 8, 1),
    )
    service = metered_service(
        Resource.ELECTRICITY,
        july_only,
        tiered(*SMALL.tiers, start=date(2025, 8, 1)),
        norms=(norm("100"),),
        method=Method.TIERED,
    )
    history: list[Reading] = [
        *monthly(
            "E", DEC_2024, *[str(100 * n) for n in range(7)], None, None, "1000", zone=Zone.DAY
        ),
        *monthly(
            "E", DEC_2024, *[str(30 * n) for n in range(7)], None, None, "230", zone=Zone.NIGHT
        ),
    ]
    ratings = bill_run(
        lambda period: inputs(
            account("electricity", registrations=persons(1)),
            [service],
            [meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))],
            history,
            period=period,
            config=config(trueup_mode="rerate_past"),
        ),
        JULY,
        SEPTEMBER,
    )
    assert codes(ratings[JULY]) == ["no_tier_zone_price"]
    september = ratings[SEPTEMBER]
    assert [(issue.code, issue.values["zone"]) for issue in september.issues] == [
        ("no_tier_zone_price", "night")
    ]
    corrected = [(line.zone, line.explanation.corrects) for line in september.lines]
    assert ("night", JULY) not in corrected
    assert ("day", JULY) in corrected and ("night", AUGUST) in corrected


def test_rerate_past_of_tiers_and_zones_for_the_whole_version_is_reported() -> None:
    both = TariffVersion(
        LONG_AGO,
        date(2025, 8, 1),
        tiers=SMALL.tiers,
        zones=(ZonePrice(Zone.DAY, d("5")),),
    )
    service = metered_service(
        Resource.ELECTRICITY,
        both,
        tiered(*SMALL.tiers, start=date(2025, 8, 1)),
        norms=(norm("100"),),
        method=Method.TIERED,
    )
    history: list[Reading] = [
        *monthly("E", DEC_2024, *[str(100 * n) for n in range(7)], None, None, "1000"),
    ]
    ratings = bill_run(
        lambda period: inputs(
            account("electricity", registrations=persons(1)),
            [service],
            [meter("E", Resource.ELECTRICITY)],
            history,
            period=period,
            config=config(trueup_mode="rerate_past"),
        ),
        JULY,
        SEPTEMBER,
    )
    assert codes(ratings[SEPTEMBER]) == ["tariff_tiers_and_zones"]
    assert [line.explanation.corrects for line in ratings[SEPTEMBER].lines][-1] == AUGUST
