"""kvit.scenarios.runner and report: periods in order with their history, balances, the
diff against expectations, and the JSON of every computed line. No database."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from kvit.core.inputs import PeriodInputs
from kvit.core.periods import Period
from kvit.core.rating import rate
from kvit.scenarios import runner
from kvit.scenarios.files import FileOutcome, exit_status, run_file, run_files, scenario_paths
from kvit.scenarios.loader import load_text
from kvit.scenarios.report import as_json, text
from kvit.scenarios.runner import Mismatch, ScenarioResult, run

STORY = """\
scenario: Move-in, three months of cold water and maintenance
services:
  cold_water: {name: Холодная вода, resource: cold_water, tariff: 48.95}
  maintenance: {method: per_area, tariff: 33.40}
accounts:
  "1002003":
    area: 54.30
    opened_on: 2025-06-16
    services: [cold_water, maintenance]
    opening_balance: 100.00
    payments:
      - {date: 2025-07-10, amount: 1000.00}
    meters:
      CW-1:
        resource: cold_water
        installed_on: 2025-06-16
        readings:
          - {date: 2025-06-16, value: 10.000, kind: initial}
          - {date: 2025-06-25, value: 12.000}
          - {date: 2025-07-25, value: 19.750}
          - {date: 2025-08-25, value: 25.000}
periods: 2025-06..2025-08
expect:
  2025-06:
    "1002003":
      lines:
        - {service: cold_water, quantity: 2.000, amount: 97.90}
        - {service: maintenance, first_day: 2025-06-16, last_day: 2025-06-30, amount: 906.81}
      total: 1004.71
      balance: 1104.71
  2025-07:
    "1002003":
      lines:
        - {service: cold_water, quantity: 7.750, amount: 379.36}
        - {service: maintenance, amount: 1813.62}
      balance: 2297.69
  2025-08:
    "1002003":
      total: 2070.61
      balance: 4368.30
"""


def scenario_result(body: str, source: str = "story.yaml") -> ScenarioResult:
    return run(load_text(dedent(body), source))


def test_a_story_over_three_periods_with_history_and_balances() -> None:
    result = scenario_result(STORY)
    assert result.ok, text([FileOutcome(Path("story.yaml"), result)], "en", 2)
    assert [str(account.period) for account in result.accounts] == [
        "2025-06",
        "2025-07",
        "2025-08",
    ]
    august = result.accounts[-1]
    assert august.balances == {"provider": Decimal("4368.30")}
    assert august.balance == Decimal("4368.30")


def test_later_periods_get_the_earlier_lines_as_posted_and_the_readings_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[PeriodInputs] = []

    def spy(inputs: PeriodInputs, book: Any) -> Any:
        seen.append(inputs)
        return rate(inputs, book)

    monkeypatch.setattr(runner, "rate", spy)
    scenario_result(STORY)
    assert [len(inputs.posted) for inputs in seen] == [0, 2, 4]
    assert [len(inputs.readings) for inputs in seen] == [2, 3, 4]
    june_water = seen[1].posted[0]
    assert (june_water.service, june_water.period, june_water.amount) == (
        "cold_water",
        Period(2025, 6),
        Decimal("97.90"),
    )
    assert june_water.rule == "metered"


NEGATIVE_HOUSE = """\
config:
  odn_cap_by_norm: false
  negative_odn_mode: carry_forward
services:
  soi:
    method: common_house_by_area
    resource: electricity
    tariff: 6.43
    norms: [{kind: per_common_area, value: 0.73}]
building:
  total_area: 4250.60
  common_area: 612.40
  common_meters: {electricity: present}
  volumes:
    2025-07: {electricity: {house_meter: 11600, individual_residential: 10870, nonresidential: 830}}
    2025-08: {electricity: {house_meter: 12500, individual_residential: 10870, nonresidential: 830}}
accounts:
  "1": {area: 54.30, services: [soi]}
periods: 2025-07..2025-08
expect:
  2025-08:
    "1":
      lines:
        - {service: soi, quantity: 8.942, amount: 57.50}   # (800 − 100) × 54.30 / 4250.60
"""


def test_a_negative_house_volume_is_carried_into_the_next_month() -> None:
    result = scenario_result(NEGATIVE_HOUSE)
    july, _august = result.accounts
    assert [(carry.resource.value, carry.volume) for carry in july.rating.carried] == [
        ("electricity", Decimal("-100"))
    ]
    assert july.rating.total == 0
    assert result.ok, [m.message() for m in result.mismatches]


def test_a_carry_given_in_the_file_is_kept() -> None:
    body = NEGATIVE_HOUSE.replace(
        "nonresidential: 830}}\naccounts",
        "nonresidential: 830, carried_negative: -200}}\naccounts",
    )
    found = [(m.values["field"], m.values["got"]) for m in scenario_result(body).mismatches]
    assert found == [("amount", "49.29"), ("quantity", "7.665")]  # (800 − 200) × 54.30 / 4250.60


# --- the diff ---------------------------------------------------------------------------------

WRONG = """\
scenario: Wrong on purpose
services:
  cold_water: {resource: cold_water, tariff: 48.95}
  maintenance: {method: per_area, tariff: 33.40}
  heating: {method: fixed, tariff: 100}
accounts:
  "1002003":
    area: 54.30
    services: [cold_water, maintenance]
    meters:
      CW-1:
        resource: cold_water
        readings: {2025-06-25: 345.120, 2025-07-25: 352.870}
periods: 2025-07
expect:
  2025-07:
    "1002003":
      lines:
        - {service: cold_water, quantity: 7.750, tariff: 48.90, amount: 379.37, unit: kwh}
        - {service: heating, amount: 100.00}
        - {service: heating, zone: day, tier: 2, rule: tier, first_day: 2025-07-01, amount: 5}
        - service: cold_water
          kind: recalculation
          amount: -1.00
      total: 2000.00
      balance: 1.00
      issues: [reading_missing]
"""


def test_the_diff_names_each_mismatch_with_its_line_in_the_file() -> None:
    result = scenario_result(WRONG, "wrong.yaml")
    outcome = FileOutcome(Path("wrong.yaml"), result)
    assert exit_status([outcome]) == 1
    shown = text([outcome], "en")
    assert shown.splitlines()[:3] == [
        "FAIL wrong.yaml — Wrong on purpose",
        "  2025-07 · account 1002003: lines: 2, total 2192.98",
        "    wrong.yaml:19: cold_water charge [metered]: amount expected 379.37, got 379.36",
    ]
    for part in [
        "    wrong.yaml:19: cold_water charge [metered]: tariff expected 48.90, got 48.95",
        "    wrong.yaml:19: cold_water charge [metered]: unit expected kwh, got m3",
        "    wrong.yaml:20: heating charge = 100.00: expected, but not computed",
        "    wrong.yaml:21: heating charge [day, tier 2, tier, 2025-07-01..] = 5: expected, "
        "but not computed",
        "    wrong.yaml:22: cold_water recalculation = -1.00: expected, but not computed",
        "    maintenance charge [per_area]: computed, but not expected\n"
        "        Maintenance: 54.30 m² × 33.40 RUB = 1,813.62 RUB",
        "    wrong.yaml:25: lines: total expected 2000.00, got 2192.98",
        "    wrong.yaml:26: account: balance expected 1.00, got 2192.98",
        "    wrong.yaml:27: issue reading_missing: expected, but not raised",
        "files: 1; passed: 0; failed: 1 (mismatches: 10); not readable: 0",
    ]:
        assert part in shown
    assert shown.count("Cold water: 352.870 − 345.120") == 1  # once, after its mismatches
    assert "amount expected 379.37" not in text([outcome], "ru")
    assert "сумма" not in text([outcome], "ru")  # field names stay codes
    assert "amount ожидалось 379.37, получено 379.36" in text([outcome], "ru")


def test_an_unexpected_issue_is_a_mismatch_with_its_message() -> None:
    body = WRONG.replace("352.870}", "340.000}").split("expect:")[0] + (
        "expect:\n  2025-07:\n    '1002003':\n      total: 1813.62\n"
    )
    mismatches = scenario_result(body).mismatches
    codes = [(m.code, m.subject) for m in mismatches]
    assert ("issue_unexpected", "reading_decreased (error)") in codes
    message = next(m for m in mismatches if m.subject.startswith("reading_decreased"))
    assert "reading 340.000 of 25.07.2025 is below the previous 345.120" in message.message("en")


def test_explanations_compare_as_sentences_and_long_values_print_one_under_the_other() -> None:
    body = (
        "language: en\n"
        + WRONG.split("expect:")[0]
        + (
            "expect:\n  2025-07:\n    '1002003':\n      lines:\n"
            "        - service: cold_water\n          amount: 379.36\n"
            "          explanation: 'Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 ₽ = "
            "379.36 ₽'\n"
            "        - service: maintenance\n          amount: 1813.62\n"
            "          explanation: {en: 'Maintenance: 54.30 m² × 33.40 RUB = 1,813.62 RUB'}\n"
        )
    )
    (mismatch,) = scenario_result(body, "x.yaml").mismatches
    assert mismatch.message("en") == (
        "cold_water charge [metered]: explanation (en)\n"
        "        expected: Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 ₽ = 379.36 ₽\n"
        "        got:      Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 RUB = 379.36 RUB "
        "(reading of 25.07.2025)"
    )


def test_no_break_spaces_need_not_be_typed() -> None:
    body = WRONG.split("expect:")[0] + (
        "expect:\n  2025-07:\n    '1002003':\n      lines:\n"
        "        - {service: cold_water, amount: 379.36}\n"
        "        - service: maintenance\n          amount: 1813.62\n"
        "          explanation: 'Содержание жилого помещения: 54,30 м² × 33,40 ₽ = 1 813,62 ₽'\n"
    )
    assert scenario_result(body).ok


def test_lines_of_one_key_pair_by_amount_whatever_the_order() -> None:
    body = (
        "services:\n  m: {method: per_area, tariffs: [{value: 33.40}, {from: 2025-07-16, "
        "value: 36.10}]}\naccounts:\n  '1': {area: 54.30, services: [m]}\nperiods: 2025-07\n"
        "expect:\n  2025-07:\n    '1':\n      lines:\n        - {service: m, amount: 1011.73}\n"
        "        - {service: m, amount: 877.56}\n"
    )
    assert scenario_result(body).ok
    wrong = body.replace("1011.73", "1011.74")
    (mismatch,) = scenario_result(wrong).mismatches
    assert mismatch.message() == (
        "m charge [per_area, 2025-07-16..2025-07-31]: amount expected 1011.74, got 1011.73"
    )


def test_balances_by_provider() -> None:
    body = (
        "providers: {uk: ~, ro: ~}\nservices:\n  m: {method: per_area, tariff: 10}\n"
        "  c: {method: per_area, tariff: 1}\naccounts:\n  '1':\n    area: 10\n"
        "    services: [{service: m, provider: uk}, {service: c, provider: ro}]\n"
        "    opening_balance: {ro: 5.00}\n"
        "    payments: [{date: 2025-07-01, amount: 50, provider: uk}]\n"
        "periods: 2025-07\nexpect:\n  2025-07:\n    '1': {balance: {uk: 50.00, ro: 16.00}}\n"
    )
    (mismatch,) = scenario_result(body).mismatches
    assert mismatch.message() == "provider ro: balance expected 16.00, got 15.00"
    right = scenario_result(body.replace("ro: 16.00", "ro: 15.00"))
    assert right.ok


def test_a_period_without_expectations_is_computed_but_not_checked() -> None:
    body = STORY.split("expect:")[0]
    result = scenario_result(body)
    assert result.ok
    shown = text([FileOutcome(Path("s.yaml"), result)], "en", verbosity=2)
    assert "2025-07 · account 1002003: lines: 2, total 2192.98; not checked (no expectations)" in (
        shown
    )
    assert "    cold_water charge [metered]: Cold water: 19.750 − 12.000 = 7.750 m³" in shown


# --- penalties, allocations, QR codes, statements ----------------------------------------


def test_penalty_mismatches_and_extra_rows() -> None:
    path = Path(__file__).parent / "examples" / "example-19.yaml"
    body = path.read_text(encoding="utf-8")
    body = body.replace("amount: 53.83}", "amount: 53.84}").replace("total: 122.38", "total: 1")
    body = body.replace("        31: 2025-03-13\n", "        31: 2025-03-14\n")
    body = body.replace(
        "        - {first_day: 2025-05-12, last_day: 2025-05-31, base: 3000.00, days: 20, "
        "fraction: 1/130, rate: 0.095, amount: 43.85}\n",
        "",
    )
    messages = [m.message() for m in scenario_result(body, "p.yaml").mismatches]
    assert messages == [
        "penalty for 2025-01: delay day 31 expected 2025-03-14, got 2025-03-13",
        "penalty for 2025-01, row 1: amount expected 53.84, got 53.83",
        "penalty for 2025-01, row 3: 3,000.00 ₽ × 20 days × 9.5% × 1/130 = 43.85 ₽ "
        "(12.05.2025–31.05.2025): computed, but not expected",
        "penalty for 2025-01: total expected 1, got 122.38",
    ]
    more = body.replace("    expect:\n", "    expect:\n      issues: [penalty_no_key_rate]\n")
    more = more.replace(
        "      total: 1", "        - {amount: 1}\n        - {amount: 2}\n      total: 1"
    )
    found = [m.message() for m in scenario_result(more).mismatches]
    assert "issue penalty_no_key_rate: expected, but not raised" in found
    assert "penalty for 2025-01, row 3: amount expected 1, got 43.85" in found
    assert "penalty for 2025-01, row 4: expected, but not computed" in found


def test_allocation_mismatches() -> None:
    path = Path(__file__).parent / "examples" / "example-21.yaml"
    body = path.read_text(encoding="utf-8")
    body = body.replace("heating: 932.61}", "heating: 932.60}")
    body = body.replace("heating: 2358.07}", "heating: 1}")
    body = body.replace(
        '        "2025-03": {maintenance: 1813.62, cold_water: 379.36, heating: 3290.68}\n'
        '        "2025-04": {maintenance: 513.99',
        '        "2025-04": {maintenance: 513.99',
    )
    body = body.replace("advance: 0.00", "advance: {provider: 1.00}").replace(
        "penalties_paid: 0.00", "penalties_paid: 0.01"
    )
    messages = [m.message() for m in scenario_result(body).mismatches]
    assert messages == [
        "allocated 2025-04 heating: amount expected 932.60, got 932.61",
        "allocated 2025-03 maintenance 1813.62: computed, but not expected",
        "allocated 2025-03 cold_water 379.36: computed, but not expected",
        "allocated 2025-03 heating 3290.68: computed, but not expected",
        "remaining 2025-04 heating: amount expected 1, got 2358.07",
        "provider provider: advance expected 1.00, got 0",
        "payment 7000.00 of 2025-05-12: penalties paid expected 0.01, got 0",
    ]


def test_an_allocation_with_penalties_an_ignored_split_and_an_advance() -> None:
    body = (
        "allocations:\n  - debts:\n      - {period: 2025-03, service: a, billed: 10, unpaid: 5}\n"
        "      - {period: 2025-03, service: a, billed: 1, kind: penalty}\n"
        "    payment: {date: 2025-05-12, amount: 20, split: [{service: a, amount: 30}]}\n"
        "    expect: {advance: 14.00, penalties_paid: 1.00, issues: [allocation_split_exceeds]}\n"
    )
    assert scenario_result(body).ok


def test_qr_mismatches() -> None:
    path = Path(__file__).parent / "examples" / "example-23.yaml"
    body = path.read_text(encoding="utf-8")
    body = body.replace("length_chars: 261", "length_chars: 260")
    body = body.replace("error: BIC must be 9 digits", "error: BIC is wrong")
    body = body.replace('change: {purpose: "Оплата ЖКУ | л/с 1002003"}', "change: {purpose: ok}")
    messages = [m.message() for m in scenario_result(body).mismatches]
    assert messages == [
        "April 2025, account 1002003: length in characters expected 260, got 261",
        "April 2025, account 1002003: expected an error containing “BIC is wrong”, got "
        "“BIC must be 9 digits, got '04452522'”",
        "April 2025, account 1002003: expected an error containing “contains the separator”, "
        "but it was accepted",
    ]
    broken = body.replace('bic: "044525225"', 'bic: "1"')
    (failure, *_rest) = scenario_result(broken).mismatches
    assert failure.message() == (
        "April 2025, account 1002003: the calculation stopped: BIC must be 9 digits, got '1'"
    )


def test_statement_mismatches_and_an_entry_outside_the_act() -> None:
    path = Path(__file__).parent / "examples" / "example-25.yaml"
    body = path.read_text(encoding="utf-8").replace("closing_debit: 9061.85", "closing_debit: 1")
    (mismatch,) = scenario_result(body).mismatches
    assert mismatch.message() == (
        "March–May 2025, account 1002003: turnover_row.closing_debit expected 1, got 9061.85"
    )
    outside = body.replace("{date: 2025-05-31, document", "{date: 2025-06-01, document")
    (failure,) = scenario_result(outside).mismatches
    assert "the calculation stopped: the entry of 2025-06-01" in failure.message()


def test_mismatch_messages_in_russian() -> None:
    mismatch = Mismatch("not_rejected", None, "QR", {"error": "BIC"})
    assert mismatch.message("ru") == "QR: ожидалась ошибка со словами «BIC», но данные приняты"
    assert mismatch.message("uz") == mismatch.message("en")


# --- files, exit status and JSON ------------------------------------------------------------


def test_files_and_folders(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text("scenario: nothing to do\n", encoding="utf-8")
    bad = tmp_path / "b.yml"
    bad.write_text("periods: 2025-13\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    assert scenario_paths([tmp_path]) == [good, bad]
    outcomes = run_files([tmp_path])
    assert [outcome.ok for outcome in outcomes] == [True, False]
    assert outcomes[1].error == (
        "b.yml:1:10: periods: '2025-13' is not a billing period: expected 'YYYY-MM' (year "
        "0001-9998, month 01-12), e.g. '2025-07'"
    )
    assert exit_status(outcomes) == 2
    assert exit_status(outcomes[:1]) == 0
    shown = text(outcomes, "ru")
    assert shown.splitlines() == [
        f"ВЕРНО {good} — nothing to do",
        f"НЕ ПРОЧИТАН {outcomes[1].error}",
        "",
        "файлов: 2; верно: 1; с расхождениями: 0 (расхождений: 0); не прочитано: 1",
    ]


def test_json_has_every_line_with_its_explanation_in_both_languages() -> None:
    example = Path(__file__).parent / "examples" / "example-14.yaml"
    document = json.loads(as_json([run_file(example)]))
    assert document["summary"] == {"files": 1, "passed": 1, "failed": 0, "errors": 0}
    (found,) = document["files"]
    assert (found["ok"], found["error"], found["mismatches"]) == (True, None, [])
    (period,) = found["periods"]
    (account,) = period["accounts"]
    assert (account["account"], account["checked"], account["total"]) == (
        "1002003",
        True,
        "2291.37",
    )
    first, _second, water, _last = account["lines"]
    assert first["amount"] == "877.56"
    assert first["explanation"]["values"] == {"area": "54.30", "days": 15, "period_days": 31}
    assert first["text"]["en"] == (
        "Maintenance: 54.30 m² × 33.40 RUB × 15/31 = 877.56 RUB (for 01.07.2025–15.07.2025)"
    )
    assert first["text"]["ru"].startswith("Содержание жилого помещения: 54,30 м² × 33,40 ₽")
    assert (water["quantity"], water["unit"], water["first_day"], water["end"]) == (
        "3.847",
        "m3",
        "2025-07-01",
        "2025-07-16",
    )
    (source,) = water["explanation"]["sources"]
    assert source["start"] == {"date": "2025-06-25", "value": "100.000"}
    assert source["volume"] == "7.950"


def test_json_of_the_other_calculators_and_of_an_unreadable_file(tmp_path: Path) -> None:
    examples = Path(__file__).parent / "examples"
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: [\n", encoding="utf-8")
    paths = [examples / f"example-{n}.yaml" for n in ("02", "19", "21", "23", "25")]
    document = json.loads(as_json([run_file(path) for path in [*paths, bad]]))
    rollover, penalty, allocation, qr, statement, broken = document["files"]
    issue = rollover["periods"][0]["accounts"][1]["issues"][0]
    assert issue["code"] == "reading_decreased"
    assert issue["values"]["taken_on"] == "2025-07-25"
    assert issue["message"]["ru"].startswith("лицевой счёт 1002004, счётчик E-6")
    (case,) = penalty["penalty"]
    assert [row["amount"] for row in case["rows"]] == ["53.83", "24.70", "43.85"]
    assert case["rows"][0]["text"]["ru"] == (
        "5 000,00 ₽ × 34 дн. × 9,5 % × 1/300 = 53,83 ₽ (13.03.2025–15.04.2025)"
    )
    assert case["total"] == "122.38"
    (case,) = allocation["allocation"]
    assert case["lines"][3] == {
        "provider": "provider",
        "service": "maintenance",
        "period": "2025-04",
        "kind": "principal",
        "amount": "513.99",
        "rule": "oldest_first",
        "unpaid_before": "1813.62",
        "split": "billed",
    }
    (case,) = qr["qr_code"]
    assert (case["length_chars"], case["length_utf8_bytes"], case["ok"]) == (261, 297, True)
    (case,) = statement["statement"]
    assert case["figures"]["act.closing_balance"] == "9061.85"
    assert case["rows"][0]["credit"] == "1250.00"
    assert broken["ok"] is False
    assert broken["error"].startswith("bad.yaml:2:1: not valid YAML")
    assert document["summary"] == {"files": 6, "passed": 5, "failed": 0, "errors": 1}


def test_verbose_text_of_the_other_calculators() -> None:
    examples = Path(__file__).parent / "examples"
    outcomes = [run_file(examples / f"example-{n}.yaml") for n in ("19", "21", "23", "25")]
    shown = text(outcomes, "ru", verbosity=2)
    assert "    5 000,00 ₽ × 34 дн. × 9,5 % × 1/300 = 53,83 ₽ (13.03.2025–15.04.2025)" in shown
    assert "    2025-04 heating principal: 932.61" in shown
    assert "    ST00012|Name=ТСЖ «Березка»|" in shown
    assert "    act.closing_balance = 9061.85" in shown


def test_the_complete_example_of_the_docs_passes() -> None:
    docs = Path(__file__).parents[2] / "docs" / "scenarios.md"
    section = docs.read_text(encoding="utf-8").split("## A complete example", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    result = run(load_text(example, "flat-12.yaml"))
    assert result.ok, [m.message() for m in result.mismatches]
    assert len(result.accounts) == 2
    assert all(account.expectation is not None for account in result.accounts)
