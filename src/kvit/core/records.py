"""Engine values as plain JSON-ready data: what the ledger stores with a posted line and what
`kvit scenario run --output json` prints, in one shape.

Decimals become strings (never floats), dates ISO text, periods `YYYY-MM`; empty parts are
left out so a stored explanation stays small (a bill run writes millions of them).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kvit.core.issues import Issue, Value
from kvit.core.lines import Estimate, Explanation, RegisterVolume


def explanation_data(explanation: Explanation) -> dict[str, Any]:
    """The structured explanation: rule, named values, the readings and estimates behind a
    volume, and for a recalculation the period it corrects and why."""
    data: dict[str, Any] = {"rule": explanation.rule.value}
    if explanation.service_name:
        data["service_name"] = explanation.service_name
    if explanation.values:
        data["values"] = {key: value_data(value) for key, value in explanation.values.items()}
    if explanation.sources:
        data["sources"] = [source_data(source) for source in explanation.sources]
    if explanation.estimates:
        data["estimates"] = [estimate_data(estimate) for estimate in explanation.estimates]
    if explanation.average_periods:
        data["average_periods"] = [str(period) for period in explanation.average_periods]
    if explanation.estimated:
        data["estimated"] = [str(period) for period in explanation.estimated]
    if explanation.corrects is not None:
        data["corrects"] = str(explanation.corrects)
    if explanation.reason:
        data["reason"] = explanation.reason
    return data


def source_data(source: RegisterVolume) -> dict[str, Any]:
    return {
        "meter": source.meter,
        "zone": source.zone.value,
        "start": {"date": source.start.taken_on.isoformat(), "value": str(source.start.value)},
        "end": {"date": source.end.taken_on.isoformat(), "value": str(source.end.value)},
        "rollovers": source.rollovers,
        "capacity": str(source.capacity),
        "ratio": str(source.ratio),
        "volume": str(source.volume),
    }


def estimate_data(estimate: Estimate) -> dict[str, Any]:
    return {
        "meter": estimate.meter,
        "zone": estimate.zone.value,
        "reason": estimate.reason,
        "average": str(estimate.average),
        "periods": [str(period) for period in estimate.periods],
        "days": estimate.days,
        "period_days": estimate.period_days,
        "volume": str(estimate.volume),
        "number": estimate.number,
        "limit": estimate.limit,
    }


def issue_data(issue: Issue, languages: tuple[str, ...] = ("ru", "en")) -> dict[str, Any]:
    return {
        "code": issue.code,
        "severity": issue.severity.value,
        "account": issue.account,
        "meter": issue.meter,
        "service": issue.service,
        "values": {key: value_data(value) for key, value in issue.values.items()},
        "message": {language: issue.message(language) for language in languages},
    }


def value_data(value: Value) -> str | int | None:
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
