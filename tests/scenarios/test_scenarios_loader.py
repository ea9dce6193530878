"""kvit.scenarios.loader: YAML → engine inputs, and a mistake → `file:line:column: path:
message`. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from textwrap import dedent

import pytest

from kvit.core.codes import Method, NormKind, ReadingKind, Unit, Zone
from kvit.core.periods import Period
from kvit.scenarios.loader import load, load_text
from kvit.scenarios.nodes import ScenarioError

BASE = """\
services:
  cold_water:
    resource: cold_water
    tariffs:
      - {from: 2025-01-01, value: 48.95}
accounts:
  "1002003":
    area: 54.30
    services: [cold_water]
periods: 2025-07
"""


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_text(dedent(text), "example.yaml")
    return str(caught.value)


# --- what a correct file becomes ------------------------------------------------------------


def test_numbers_are_read_from_their_text_never_through_float() -> None:
    scenario = load_text(
        dedent("""\
        services:
          cold_water: {resource: cold_water, tariff: 48.950}
          maintenance: {method: per_area, tariff: "0.1"}
        accounts:
          "0012":
            area: 54.30
            services: [cold_water, maintenance]
            meters:
              CW-1:
                resource: cold_water
                readings: {2025-06-25: 345.120, 2025-07-25: 352.870}
        periods: 2025-07
        """)
    )
    cold = scenario.services["cold_water"]
    (tariff,) = cold.tariffs
    assert tariff.value is not None
    assert tariff.value.as_tuple() == Decimal("48.950").as_tuple()  # the scale is kept
    assert (cold.method, cold.unit) == (Method.METERED, Unit.M3)
    assert scenario.services["maintenance"].unit is Unit.M2
    (plan,) = scenario.accounts
    assert plan.number == "0012"  # the text as written, leading zeros and all
    assert [r.value for r in plan.readings] == [Decimal("345.120"), Decimal("352.870")]
    assert scenario.periods == (Period(2025, 7),)


def test_an_exponent_is_not_a_plain_number() -> None:
    text = BASE.replace("area: 54.30", "area: 5.43e1")
    assert error_of(text) == "example.yaml:8:11: accounts.1002003.area: '5.43e1' is not a number"


def test_effective_dated_rows_run_until_the_next_one() -> None:
    scenario = load_text(
        dedent("""\
        services:
          maintenance:
            method: per_area
            tariffs:
              - {from: 2025-07-16, value: 36.10}
              - {from: 2025-01-01, value: 33.40}
              - {from: 2025-01-01, value: 20.00, group: social}
          waste:
            method: norm_per_person
            unit: m3
            norms:
              - {value: 0.1}
              - {from: 2025-03-01, value: 0.2}
        """)
    )
    tariffs = scenario.services["maintenance"].tariffs
    spans = sorted((t.group, t.effective_from, t.effective_to, t.value) for t in tariffs)
    assert spans == [
        ("", date(2025, 1, 1), date(2025, 7, 16), Decimal("33.40")),
        ("", date(2025, 7, 16), None, Decimal("36.10")),
        ("social", date(2025, 1, 1), None, Decimal("20.00")),
    ]
    norms = scenario.services["waste"].norms
    assert [(n.kind, n.effective_from, n.effective_to) for n in norms] == [
        (NormKind.PER_PERSON, date.min, date(2025, 3, 1)),
        (NormKind.PER_PERSON, date(2025, 3, 1), None),
    ]


def test_a_tier_may_carry_zone_prices() -> None:
    scenario = load_text(
        dedent("""\
        services:
          electricity:
            resource: electricity
            method: tiered
            tariff:
              tiers:
                - {upto: 3900, value: 4.93, zones: {day: 5.42, night: 2.96}}
                - {value: 8.27}
        """)
    )
    (version,) = scenario.services["electricity"].tariffs
    first, second = version.tiers
    assert [(price.zone, price.value) for price in first.zones] == [
        (Zone.DAY, Decimal("5.42")),
        (Zone.NIGHT, Decimal("2.96")),
    ]
    assert (second.zones, version.zoned_tiers) == ((), True)


def test_accounts_persons_meters_and_zone_readings() -> None:
    scenario = load_text(
        dedent("""\
        providers:
          uk: {name: УК}
          energo: {name: Энергосбыт}
        services:
          electricity: {resource: electricity, tariff: {zones: {day: 4.93, night: 2.96}}}
          maintenance: {method: per_area, tariff: 33.40}
        building: {total_area: 4250.60, common_area: 612.40}
        accounts:
          "7":
            area: 54.30
            share: 1/3
            rooms: 2
            persons: [Иванов, Петрова]
            absences:
              - {person: Петрова, departure: 2025-06-03, arrival: 2025-06-19, filed_on: 2025-06-20}
            services:
              - {service: electricity, provider: energo}
              - {service: maintenance, provider: uk, from: 2025-07-10}
            opening_balance: {uk: 100.00}
            payments:
              - {date: 2025-07-05, amount: 50.00, provider: uk}
            meters:
              E-2:
                resource: electricity
                zones: 2
                readings:
                  2025-06-25: {day: 10250, night: 4105}
                  2025-07-25: {day: 10462, night: 4203}
        periods: 2025-06..2025-08
        """)
    )
    (plan,) = scenario.accounts
    account = plan.account
    assert account.share == Fraction(1, 3)
    assert [r.person for r in account.registrations] == ["Иванов", "Петрова"]
    assert [(s.service, s.provider) for s in account.services] == [
        ("electricity", "energo"),
        ("maintenance", "uk"),
    ]
    assert account.services[1].effective_from == date(2025, 7, 10)
    assert account.absences[0].filed_on == date(2025, 6, 20)
    assert plan.building is not None
    assert plan.on(Period(2025, 7), {}).building == plan.building.building
    assert [(r.zone, r.value) for r in plan.readings[:2]] == [
        (Zone.DAY, Decimal("10250")),
        (Zone.NIGHT, Decimal("4105")),
    ]
    assert plan.balances({"energo": Decimal("10.00")}, date(2025, 8, 1)) == {
        "uk": Decimal("50.00"),
        "energo": Decimal("10.00"),
    }
    assert scenario.periods == (Period(2025, 6), Period(2025, 7), Period(2025, 8))


def test_readings_in_the_long_form_carry_their_kind() -> None:
    meters = (
        "    services: [cold_water]\n"
        "    meters:\n"
        "      HW:\n"
        "        resource: hot_water\n"
        "        installed_on: 2025-07-14\n"
        "        readings:\n"
        "          - {date: 2025-07-14, value: 0.015, kind: initial}\n"
        "          - {date: 2025-07-25, value: 4.215}\n"
    )
    scenario = load_text(BASE.replace("    services: [cold_water]\n", meters))
    (plan,) = scenario.accounts
    assert [r.kind for r in plan.readings] == [ReadingKind.INITIAL, ReadingKind.ACTUAL]
    assert plan.meters[0].installed_on == date(2025, 7, 14)


def test_config_overrides_by_name_and_dated_steps() -> None:
    scenario = load_text(
        dedent("""\
        config:
          reading_cutoff_day: 23
          odn_cap_by_norm: {2025-01-01: true, 2025-09-01: false}
          penalty_moratoria:
            - {from: 2020-04-06, to: 2020-12-31}
        """)
    )
    rows = {(row.name, row.effective_from): row for row in scenario.config_rows}
    assert rows[("reading_cutoff_day", date.min)].value == "23"
    cap = rows[("odn_cap_by_norm", date(2025, 1, 1))]
    assert (cap.value, cap.effective_to) == ("true", date(2025, 9, 1))
    assert rows[("odn_cap_by_norm", date(2025, 9, 1))].effective_to is None
    assert rows[("penalty_moratoria", date.min)].value == (
        '[{"from": "2020-04-06", "to": "2020-12-31"}]'
    )


def test_contract_uz_rate_and_limit_come_from_the_config() -> None:
    case = """\
    penalties:
      - scheme: contract_uz
        obligation: {period: "2025-01", principal: 1000.00, due_on: 2025-02-10}
        calc_date: 2025-02-20
        expect: {total: 10.00}
    """
    (default,) = load_text(dedent(case)).penalties
    assert (default.rules.scheme.fixed_rate, default.rules.scheme.total_cap_share) == (
        Decimal("0.004"),
        Decimal("0.5"),
    )
    config = "config:\n  penalty_uz_daily_rate: 0.001\n  penalty_uz_total_cap_share: 0.1\n"
    (custom,) = load_text(config + dedent(case)).penalties
    assert (custom.rules.scheme.fixed_rate, custom.rules.scheme.total_cap_share) == (
        Decimal("0.001"),
        Decimal("0.1"),
    )


def test_a_due_date_on_a_weekend_moves_only_when_the_config_says_so() -> None:
    # 2025-04 is due on 10 May 2025, a Saturday; the obligation names no due date
    case = """\
    penalties:
      - obligation: {period: "2025-04", principal: 1000.00}
        calc_date: 2025-07-31
        expect: {}
    """
    (kept,) = load_text(dedent(case)).penalties
    assert kept.obligation.due_on == date(2025, 5, 10)
    shifted_config = "config:\n  shift_due_date_to_business_day: true\n"
    (shifted,) = load_text(shifted_config + dedent(case)).penalties
    assert shifted.obligation.due_on == date(2025, 5, 12)  # the Monday after


# --- mistakes and their messages ------------------------------------------------------------


def test_a_decimal_comma_is_named_with_its_line_and_column() -> None:
    text = BASE.replace(
        "      - {from: 2025-01-01, value: 48.95}", "      - from: 2025-01-01\n        value: 48,95"
    )
    assert error_of(text) == (
        "example.yaml:6:16: services.cold_water.tariffs[0].value: '48,95' is not a number "
        "(use a dot)"
    )


def test_a_decimal_comma_inside_braces_is_explained() -> None:
    text = BASE.replace("value: 48.95", "value: 48,95")
    assert error_of(text) == (
        "example.yaml:5:35: services.cold_water.tariffs[0].value: '48,95' is not a number "
        "(use a dot): inside { } a comma separates entries"
    )


def test_the_message_of_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "example-01.yaml"
    path.write_text(BASE.replace("area: 54.30", "area: 54,30"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(caught.value) == (
        "example-01.yaml:8:11: accounts.1002003.area: '54,30' is not a number (use a dot)"
    )
    assert (caught.value.line, caught.value.column) == (8, 11)


def test_an_unreadable_file() -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load("/nonexistent/scenario.yaml")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    area: 54.30",
            "    area: 54.30\n    tarif: 1",
            "example.yaml:9:5: accounts.1002003.tarif: unknown key 'tarif' (expected one of: "
            "area, share, rooms, building, premise_kind, consumer_kind, opened_on, closed_on, "
            "owners, persons, registrations, meter_impossible, services, absences, benefits, "
            "interruptions, access_refusals, opening_balance, payments, meters)",
        ),
        (
            "    resource: cold_water",
            "    resorce: cold_water",
            "example.yaml:3:5: services.cold_water.resorce: unknown key 'resorce'; did you mean "
            "'resource'?",
        ),
        (
            "    resource: cold_water",
            "    resource: cold-water",
            "example.yaml:3:15: services.cold_water.resource: 'cold-water' is not a resource; "
            "did you mean 'cold_water'?",
        ),
        (
            "    area: 54.30\n",
            "",
            "example.yaml:8:5: accounts.1002003: 'area' is required",
        ),
        (
            "services: [cold_water]",
            "services: [cold_wter]",
            "example.yaml:9:16: accounts.1002003.services[0]: no service 'cold_wter' in "
            "services (cold_water)",
        ),
        (
            "{from: 2025-01-01, value: 48.95}",
            "{from: 2025-13-01, value: 48.95}",
            "example.yaml:5:16: services.cold_water.tariffs[0].from: '2025-13-01' is not a "
            "date: write YYYY-MM-DD, e.g. 2025-07-25",
        ),
        (
            "periods: 2025-07",
            "periods: 2025-7",
            "example.yaml:10:10: periods: '2025-7' is not a billing period",
        ),
        (
            "periods: 2025-07",
            "periods: 2025-08..2025-07",
            "example.yaml:10:10: periods: the range ends (2025-07) before it starts (2025-08)",
        ),
        (
            "periods: 2025-07",
            "periods: [2025-08, 2025-07]",
            "example.yaml:10:10: periods: list the periods once each, in order",
        ),
        (
            "      - {from: 2025-01-01, value: 48.95}",
            "      - {from: 2025-01-01, value: 48.95}\n      - {from: 2025-03-01, to: 2025-02-01, "
            "value: 1}",
            "example.yaml:6:32: services.cold_water.tariffs[1].to: 'to' (2025-02-01) must be "
            "after 'from' (2025-03-01)",
        ),
        (
            "      - {from: 2025-01-01, value: 48.95}",
            "      - {from: 2025-01-01, to: 2025-08-01, value: 48.95}\n"
            "      - {from: 2025-07-01, value: 50}",
            "example.yaml:6:9: services.cold_water.tariffs[1]: this tariff overlaps the one "
            "from 2025-01-01",
        ),
        (
            "    area: 54.30",
            "    area: 54.30\n    area: 60",
            "example.yaml:9:5: accounts.1002003.area: the key 'area' is given twice",
        ),
        (
            "    services: [cold_water]",
            "    services: cold_water\n    meters:\n      M: {resource: cold_water, readings: "
            "{2025-07-25: {day: 1}}}",
            "example.yaml:11:57: accounts.1002003.meters.M.readings.2025-07-25.day: the meter "
            "M has no zone 'day' (total)",
        ),
        (
            "periods: 2025-07",
            "periods: 2025-07\nexpect:\n  2025-08: {}",
            "example.yaml:12:3: expect.2025-08: 2025-08 is not computed: add it to 'periods'",
        ),
        (
            "periods: 2025-07",
            "periods: 2025-07\nexpect:\n  2025-07:\n    '1002004': {total: 1}",
            "example.yaml:13:5: expect.2025-07.1002004: no account '1002004' in accounts (1002003)",
        ),
        (
            "periods: 2025-07",
            "periods: 2025-07\nexpect:\n  2025-07:\n    '1002003':\n      lines:\n"
            "        - {service: cold_water, quantity: 7.750}",
            "example.yaml:15:11: expect.2025-07.1002003.lines[0]: 'amount' is required",
        ),
    ],
)
def test_mistakes_are_named_by_line_column_and_path(old: str, new: str, message: str) -> None:
    assert old in BASE
    assert error_of(BASE.replace(old, new, 1)).startswith(message)


def test_a_yaml_syntax_error_has_its_line() -> None:
    text = BASE.replace("    area: 54.30", "    area: [54.30")
    assert error_of(text) == (
        "example.yaml:9:13: not valid YAML: while parsing a flow sequence expected ',' or ']', "
        "but got ':'"
    )


def test_characters_yaml_cannot_read() -> None:
    assert error_of("scenario: \x07\n").startswith("example.yaml:1:1: not valid YAML: unacceptable")


def test_a_value_where_a_mapping_belongs() -> None:
    assert error_of("services: 5\n") == (
        "example.yaml:1:11: services: expected a mapping (key: value lines), got the value '5'"
    )


def test_an_empty_file() -> None:
    assert error_of("") == "example.yaml:1:1: the file is empty"
    assert error_of("- 1\n- 2\n") == (
        "example.yaml:1:1: expected a mapping (key: value lines), got a list"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "config:\n  reading_cutoff_day: 40\n",
            "example.yaml:2:23: config.reading_cutoff_day: reading_cutoff_day: 40 is above the "
            "maximum",
        ),
        (
            "config:\n  cutoff: 25\n",
            "example.yaml:2:3: config.cutoff: unknown configuration parameter 'cutoff'",
        ),
        (
            "config:\n  reading_cutof_day: 25\n",
            "example.yaml:2:3: config.reading_cutof_day: unknown configuration parameter "
            "'reading_cutof_day'; did you mean 'reading_cutoff_day'?",
        ),
        (
            "config:\n  odn_cap_by_norm: {2025-09-01: maybe}\n",
            "example.yaml:2:33: config.odn_cap_by_norm.2025-09-01: odn_cap_by_norm: 'maybe' "
            "must be true or false",
        ),
        (
            "config:\n  penalty_rate_cap:\n    - {from: 2022-08-01, to: 2026-12-31, rate: 0.095}\n",
            "example.yaml:3:5: config.penalty_rate_cap: penalty_rate_cap: item 1 needs 'mode'",
        ),
        (
            "services:\n  x: {method: fixed, tariff: {tiers: [{upto: 10, value: 1}, {value: 2}], "
            "value: 3}}\n",
            "example.yaml:2:30: services.x.tariff: a tiered tariff has only 'tiers'",
        ),
        (
            "services:\n  x: {method: fixed, tariff: {tiers: [{value: 1}, {upto: 5, value: 2}]}}\n",
            "example.yaml:2:39: services.x.tariff.tiers[0]: only the last tier may be open",
        ),
        (
            "services:\n  x: {method: fixed, tariff: {tiers: [{upto: 5, value: 1}, {upto: 5, "
            "value: 2}, {value: 3}]}}\n",
            "example.yaml:2:67: services.x.tariff.tiers[1].upto: tier bounds must increase",
        ),
        (
            "services:\n  x: {method: norm_per_person, tariff: 1}\n",
            "example.yaml:2:6: services.x: 'unit' is required for a norm_per_person service",
        ),
        (
            "services:\n  x: {unit: m2, tariff: 1}\n",
            "example.yaml:2:6: services.x: 'method' is required",
        ),
        (
            "services:\n  x: {method: fixed, tariff: 1, tariffs: []}\n",
            "example.yaml:2:42: services.x.tariffs: give either 'tariff' or 'tariffs', not both",
        ),
        (
            "services:\n  x: {method: fixed, tariff: {from: 2025-01-01}}\n",
            "example.yaml:2:30: services.x.tariff: a tariff needs a 'value', 'tiers' or 'zones'",
        ),
    ],
)
def test_configuration_and_service_mistakes(text: str, message: str) -> None:
    assert error_of(text).startswith(message)


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("{area: 1, share: 3/2}", "accounts.1.share: the share 3/2 must be more than 0"),
        ("{area: 1, share: 1/0}", "accounts.1.share: '1/0' is not a number"),
        ("{area: 1, opened_on: 2025-07-01, closed_on: 2025-07-01}", "'closed_on' must be after"),
        ("{area: 1, persons: 2, registrations: []}", "give either 'persons' or 'registrations'"),
        (
            "{area: 1, persons: 1, absences: [{person: Иванов, departure: 2025-06-01, "
            "arrival: 2025-06-09}]}",
            "accounts.1.absences[0].person: 'Иванов' is not registered on the account (person-1)",
        ),
        (
            "{area: 1, persons: [A], absences: [{person: A, departure: 2025-06-09, "
            "arrival: 2025-06-01}]}",
            "accounts.1.absences[0].arrival: the arrival must be after the departure",
        ),
        ("{area: 1, building: B}", "accounts.1.building: no building 'B' in buildings ()"),
        ("{area: 1, rooms: two}", "accounts.1.rooms: 'two' is not a whole number"),
        ("{area: 1, rooms: -1}", "accounts.1.rooms: -1 is below the minimum 0"),
        (
            "{area: 1, meters: {M: {resource: gas, integer_digits: 20}}}",
            "accounts.1.meters.M.integer_digits: 20 is above the maximum 15",
        ),
        (
            "{area: 1, meters: {M: {resource: gas, zones: [day, day]}}}",
            "accounts.1.meters.M.zones: list each zone of the meter once",
        ),
        (
            "{area: 1, meters: {M: {resource: gas, zones: 2, readings: {2025-07-25: 5}}}}",
            "the meter has zones (day, night): give one value per zone",
        ),
        (
            "{area: 1, meters: {M: {resource: gas, readings: [{date: 2025-07-25}]}}}",
            "a reading needs a 'value' (or one value per zone)",
        ),
        (
            "{area: 1, meters: {M: {resource: gas, zones: 2, readings: [{date: 2025-07-25, "
            "value: 1, day: 2}]}}}",
            "give either 'value' or the zones' values, not both",
        ),
        (
            "{area: 1, interruptions: [{service: s, start: 2025-07-01 10:00, end: 2025-07-01}]}",
            "'2025-07-01' is not a date and time: write YYYY-MM-DD HH:MM",
        ),
        (
            "{area: 1, interruptions: [{service: s, start: 2025-07-01 10:00, "
            "end: 2025-07-01 09:00}]}",
            "the end must be after the start",
        ),
        ("{area: 1, payments: [{date: 2025-07-01, amount: 1, provider: x}]}", "no provider 'x'"),
        ("{area: [1]}", "accounts.1.area: expected a single value, got a list"),
        ("{area: ~}", "accounts.1: 'area' is required"),
        ("{area: 1, meter_impossible: [wind]}", "'wind' is not a resource"),
    ],
)
def test_account_mistakes(account: str, message: str) -> None:
    text = f"services:\n  s: {{method: fixed, tariff: 1}}\naccounts:\n  '1': {account}\n"
    assert message in error_of(text)


def test_several_providers_need_naming() -> None:
    text = (
        "providers: {a: ~, b: ~}\nservices:\n  s: {method: fixed, tariff: 1}\n"
        "accounts:\n  '1': {area: 1, services: [s]}\n"
    )
    assert error_of(text) == (
        "example.yaml:5:29: accounts.1.services[0]: name the provider: the file has several (a, b)"
    )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "penalties:\n  - {calc_date: 2025-05-31, obligation: {period: 2025-01, "
            "principal: 5000}, expect: {total: 1}, scheme: housing}\n",
            "penalties[0].scheme: 'housing' is not a penalty scheme; did you mean 'housing_rf'?",
        ),
        (
            "penalties:\n  - {calc_date: 2025-05-31, obligation: {period: 2025-01, "
            "principal: 5000}, expect: {total: 1}, key_rates: {2025-01-01: -1}}\n",
            "penalties[0].key_rates: key rate steps[0] must be a finite rate of 0 or more",
        ),
        (
            "allocations:\n  - {debts: {2025-03: {a: 1.005}}, payment: {date: 2025-05-12, "
            "amount: 1}, expect: {}}\n",
            "allocations[0].debts.2025-03.a: billed 1.005 is not a whole number of kopecks",
        ),
        (
            "allocations:\n  - {debts: [{period: 2025-03, service: a, billed: 1}, "
            "{period: 2025-03, service: a, billed: 2}], payment: {date: 2025-05-12, amount: 1}, "
            "expect: {}}\n",
            "allocations[0].debts[1]: this debt is given twice",
        ),
        (
            "allocations:\n  - {debts: {}, payment: {date: 2025-05-12, amount: 0}, expect: {}}\n",
            "allocations[0].payment.amount: a payment is a positive amount",
        ),
        (
            "statements:\n  - {account: '1', first_day: 2025-03-01, last_day: 2025-02-01, "
            "entries: [], expect: {}}\n",
            "statements[0].last_day: the act ends before it starts",
        ),
        (
            "statements:\n  - {account: '1', first_day: 2025-03-01, last_day: 2025-03-31, "
            "entries: [{date: 2025-03-02, kind: charge}], expect: {}}\n",
            "statements[0].entries[0]: an entry needs a 'debit' or a 'credit' amount",
        ),
        (
            "statements:\n  - {account: '1', first_day: 2025-03-01, last_day: 2025-03-31, "
            "entries: [{date: 2025-03-02, kind: reversal, debit: 1}], expect: {}}\n",
            "statements[0].entries[0]: the reversal of 2025-03-02 () must name the kind",
        ),
        (
            "statements:\n  - {account: '1', first_day: 2025-03-01, last_day: 2025-03-31, "
            "entries: [], expect: {act: {closing: 1}}}\n",
            "statements[0].expect.act.closing: unknown key 'closing'",
        ),
    ],
)
def test_calculator_block_mistakes(block: str, message: str) -> None:
    assert message in error_of(block)


def test_everything_an_account_can_carry() -> None:
    scenario = load_text(
        dedent("""\
        config:
          penalty_moratoria:
            - {from: 2022-04-01, to: 2022-10-01, applies_to_obligations_before: 2022-04-01}
          penalty_rate_cap:
            - {from: 2022-08-01, to: 2026-12-31, mode: min_key_rate, rate: 0.095}
        services:
          cold_water: {resource: cold_water, tariff: 48.95}
          sewerage: {method: metered, summed_resources: [cold_water, hot_water], tariff: 30}
          heating: {method: heating_by_area, unit: gcal, norms: [{kind: per_area, value: 0.0156}]}
        buildings:
          B1: {total_area: 4250.60, common_area: 612.40, heating_scheme: central}
          B2: {total_area: 1000}
        accounts:
          "1":
            area: 54.30
            building: B2
            premise_kind: non_residential
            consumer_kind: legal
            owners: 2
            registrations:
              - {person: Иванов, from: 2025-07-10, to: 2025-07-20, kind: temporary}
            benefits:
              - {person: Иванов, category: veteran, rate: 0.5, services: [heating]}
            interruptions:
              - {service: cold_water, start: 2025-07-03 10:00, end: 2025-07-03T22:30:00,
                 accident_dead_end: true}
            access_refusals:
              - {resource: cold_water, recorded_on: 2025-05-20}
        """)
    )
    assert scenario.services["sewerage"].unit is Unit.M3
    (plan,) = scenario.accounts
    account = plan.account
    assert plan.building is not None
    assert plan.building.code == "B2"
    assert plan.building.building.common_area == 0
    assert account.registrations[0].effective_to == date(2025, 7, 20)
    assert account.benefits[0].rate == Decimal("0.5")
    interruption = account.interruptions[0]
    assert (interruption.end.hour, interruption.end.minute) == (22, 30)
    assert interruption.accident_dead_end
    assert account.access_refusals[0].recorded_on == date(2025, 5, 20)
    assert account.owners == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("buildings:\n  B: {total_area: 1}\nbuilding: {total_area: 1}\n", "give either"),
        ("? [a, b]\n: 1\n", "example.yaml:1:3: a key must be a plain value"),
        ("services:\n  s: {method: fixed, tariffs: {value: 1}}\n", "expected a list"),
        ("services:\n  s: {method: fixed, name: ~, tariff: {tiers: []}}\n", "needs at least one"),
        ("services:\n  s: {method: fixed, absence_recalc_allowed: yes}\n", "must be true or false"),
        (
            "accounts:\n  '1': {area: 1, persons: [~]}\n",
            "accounts.1.persons[0]: a value is required",
        ),
        (
            "accounts:\n  '1': {area: 1, interruptions: [{service: s, start: 2025-07-01 25:00, "
            "end: 2025-07-02 10:00}]}\n",
            "'2025-07-01 25:00' is not a date and time",
        ),
        (
            "allocations:\n  - {debts: {}, payment: {date: 2025-05-12, amount: 1, period: 2025-13},"
            " expect: {}}\n",
            "allocations[0].payment.period: '2025-13' is not a billing period",
        ),
        (
            "config:\n  penalty_moratoria:\n    - {from: 2022-04-01, to: 2022-10-01, "
            "applies_to_obligations_before: soon}\n",
            "applies_to_obligations_before: 'soon' is not a date",
        ),
    ],
)
def test_more_mistakes(text: str, message: str) -> None:
    assert message in error_of(text)
