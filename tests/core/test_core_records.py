"""Engine values as plain data: every part of an explanation survives, empty parts stay out."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from kvit.core.codes import Rule, Zone
from kvit.core.inputs import Reading
from kvit.core.issues import Issue, Severity
from kvit.core.lines import Estimate, Explanation, RegisterVolume
from kvit.core.periods import Period
from kvit.core.records import explanation_data, issue_data


def test_a_bare_explanation_is_only_its_rule() -> None:
    assert explanation_data(Explanation(Rule.FIXED)) == {"rule": "fixed"}


def test_every_part_comes_across_as_json_text() -> None:
    start = Reading("CW-1", Zone.TOTAL, date(2025, 6, 20), Decimal("100.250"))
    end = Reading("CW-1", Zone.TOTAL, date(2025, 7, 20), Decimal("107.500"))
    volume = RegisterVolume(
        "CW-1", Zone.TOTAL, start, end, 0, Decimal(100000), Decimal(1), Decimal("7.250")
    )
    estimate = Estimate(
        "HW-1", Zone.TOTAL, "no_reading", Decimal("3.100"), (Period(2025, 5),), 31, 31,
        Decimal("3.100"), 1, 3,
    )  # fmt: skip
    explanation = Explanation(
        Rule.METERED,
        "Холодная вода",
        {"volume": Decimal("7.250"), "days": 31, "day": date(2025, 7, 1), "note": "x"},
        (volume,),
        (Period(2025, 5),),
        Period(2025, 6),
        "late_reading",
        (estimate,),
        (Period(2025, 6),),
    )
    data = json.loads(json.dumps(explanation_data(explanation)))
    assert data["service_name"] == "Холодная вода"
    assert data["values"] == {"volume": "7.250", "days": 31, "day": "2025-07-01", "note": "x"}
    assert data["sources"][0]["end"] == {"date": "2025-07-20", "value": "107.500"}
    assert data["sources"][0]["volume"] == "7.250"
    assert data["estimates"][0]["periods"] == ["2025-05"]
    assert (data["estimates"][0]["number"], data["estimates"][0]["limit"]) == (1, 3)
    assert data["average_periods"] == ["2025-05"]
    assert data["estimated"] == ["2025-06"]
    assert (data["corrects"], data["reason"]) == ("2025-06", "late_reading")


def test_an_issue_carries_its_messages() -> None:
    issue = Issue("unknown_service", Severity.ERROR, "1001", "", "gas", {"x": None})
    data = issue_data(issue)
    assert (data["code"], data["severity"], data["values"]) == (
        "unknown_service",
        "error",
        {"x": None},
    )
    assert set(data["message"]) == {"ru", "en"}
