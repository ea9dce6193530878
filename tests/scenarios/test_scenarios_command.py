"""`kvit scenario run FILE...`: the exit status, the text diff and the JSON output. No
database."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from kvit.scenarios.management.commands.scenario import Command

EXAMPLES = Path(__file__).parent / "examples"
EXAMPLE_1 = EXAMPLES / "example-01.yaml"


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(Command(), "run", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def test_a_matching_file_exits_0() -> None:
    status, shown = run(str(EXAMPLE_1))
    assert status == 0
    assert shown == (
        f"PASS {EXAMPLE_1} — Example 1 — metered cold water (spec 2.1)\n"
        "\nfiles: 1; passed: 1; failed: 0 (mismatches: 0); not readable: 0\n"
    )


def test_every_example_in_a_folder(tmp_path: Path) -> None:
    status, shown = run(str(EXAMPLES))
    assert status == 0
    assert shown.endswith("files: 15; passed: 15; failed: 0 (mismatches: 0); not readable: 0\n")


def test_a_mismatch_exits_1_with_a_readable_diff(tmp_path: Path) -> None:
    wrong = tmp_path / "example-01.yaml"
    wrong.write_text(
        EXAMPLE_1.read_text(encoding="utf-8").replace("amount: 379.36", "amount: 379.37"),
        encoding="utf-8",
    )
    status, shown = run(str(wrong), str(EXAMPLE_1), "--language", "en")
    assert status == 1
    assert shown.splitlines()[:5] == [
        f"FAIL {wrong} — Example 1 — metered cold water (spec 2.1)",
        "  2025-07 · account 1002003: lines: 1, total 379.36",
        "    example-01.yaml:29: cold_water charge [metered]: amount expected 379.37, got 379.36",
        "        Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 RUB = 379.36 RUB "
        "(reading of 25.07.2025)",
        f"PASS {EXAMPLE_1} — Example 1 — metered cold water (spec 2.1)",
    ]
    assert shown.endswith("files: 2; passed: 1; failed: 1 (mismatches: 1); not readable: 0\n")


def test_a_file_with_a_mistake_exits_2_and_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "example-01.yaml"
    broken.write_text(
        EXAMPLE_1.read_text(encoding="utf-8").replace("tariff: 48.95", "tariff: 48,95"),
        encoding="utf-8",
    )
    status, shown = run(str(broken), str(EXAMPLE_1))
    assert status == 2
    assert shown.splitlines()[0] == (
        "ERROR example-01.yaml:10:13: services.cold_water.tariff: '48,95' is not a number "
        "(use a dot)"
    )


def test_no_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no scenario files found"):
        call_command(Command(), "run", str(tmp_path), stdout=StringIO())


def test_json_output(tmp_path: Path) -> None:
    status, shown = run(str(EXAMPLE_1), "--output", "json")
    assert status == 0
    document = json.loads(shown)
    (line,) = document["files"][0]["periods"][0]["accounts"][0]["lines"]
    assert line["amount"] == "379.36"
    assert line["text"] == {
        "ru": "Холодная вода: 352,870 − 345,120 = 7,750 м³ × 48,95 ₽ = 379,36 ₽ "
        "(показание от 25.07.2025)",
        "en": "Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 RUB = 379.36 RUB "
        "(reading of 25.07.2025)",
    }


def test_json_output_still_exits_1_on_a_mismatch(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        EXAMPLE_1.read_text(encoding="utf-8").replace("total: 379.36", "total: 1"),
        encoding="utf-8",
    )
    status, shown = run(str(wrong), "--output", "json")
    assert status == 1
    (mismatch,) = json.loads(shown)["files"][0]["mismatches"]
    assert mismatch["where"] == "wrong.yaml:36"
    assert mismatch["message"]["en"] == "lines: total expected 1, got 379.36"


def test_lines_and_russian() -> None:
    status, shown = run(str(EXAMPLE_1), "--lines", "--language", "ru")
    assert status == 0
    assert shown.splitlines()[:3] == [
        f"ВЕРНО {EXAMPLE_1} — Example 1 — metered cold water (spec 2.1)",
        "  2025-07 · лицевой счёт 1002003: строк: 1, итого 379.36",
        "    cold_water charge [metered]: Холодная вода: 352,870 − 345,120 = 7,750 м³ × "
        "48,95 ₽ = 379,36 ₽ (показание от 25.07.2025)",
    ]


def test_the_language_defaults_to_the_site_language() -> None:
    with override_settings(LANGUAGE_CODE="ru"):
        assert run(str(EXAMPLE_1))[1].startswith("ВЕРНО ")
    with override_settings(LANGUAGE_CODE="de"):
        assert run(str(EXAMPLE_1))[1].startswith("PASS ")


def test_kvit_scenario_is_an_installed_command() -> None:
    out = StringIO()
    call_command("scenario", "run", str(EXAMPLE_1), stdout=out)
    assert out.getvalue().startswith("PASS ")
