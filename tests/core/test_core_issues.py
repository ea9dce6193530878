"""Issue values: stable codes, messages in both languages naming where the problem is."""

from datetime import date
from decimal import Decimal

import pytest

from kvit.core import issues
from kvit.core.issues import Issue, Severity, register_messages


@pytest.fixture
def catalogue(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, str]]:
    fresh: dict[str, dict[str, str]] = {}
    monkeypatch.setattr(issues, "MESSAGES", fresh)
    register_messages(
        {
            "demo_reading_high": {
                "en": "reading {value} of {day} is above {limit}",
                "ru": "показание {value} от {day} больше {limit}",
            }
        }
    )
    return fresh


def make_issue(**where: str) -> Issue:
    return Issue(
        code="demo_reading_high",
        severity=Severity.WARNING,
        values={"value": Decimal("12.500"), "day": date(2025, 7, 25), "limit": 10, "x": None},
        **where,
    )


def test_message_names_account_meter_and_service(catalogue: dict[str, dict[str, str]]) -> None:
    issue = make_issue(account="1002003", meter="A-17", service="cold_water")
    assert issue.message("en") == (
        "account 1002003, meter A-17, service cold_water: reading 12.500 of 25.07.2025 is above 10"
    )
    assert issue.message("ru") == (
        "лицевой счёт 1002003, счётчик A-17, услуга cold_water: "
        "показание 12.500 от 25.07.2025 больше 10"
    )


def test_message_without_location_and_unknown_language(
    catalogue: dict[str, dict[str, str]],
) -> None:
    assert make_issue().message("de") == "reading 12.500 of 25.07.2025 is above 10"


def test_unknown_code_falls_back_to_the_code(catalogue: dict[str, dict[str, str]]) -> None:
    assert Issue(code="nobody_registered_this", severity=Severity.ERROR).message() == (
        "nobody_registered_this"
    )


def test_a_code_is_registered_once_with_both_languages(
    catalogue: dict[str, dict[str, str]],
) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register_messages({"demo_reading_high": {"en": "a", "ru": "б"}})
    with pytest.raises(ValueError, match="exactly an 'en' and a 'ru'"):
        register_messages({"demo_only_english": {"en": "a"}})
    assert "demo_only_english" not in catalogue
