"""The public worked examples of the domain spec as scenario files: every file runs and
matches its expectations exactly. No database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kvit.scenarios.files import FileOutcome, run_file
from kvit.scenarios.report import text

EXAMPLES = Path(__file__).parent / "examples"
PUBLIC = {1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 19, 21, 23, 25}
FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_every_public_worked_example_has_a_file() -> None:
    numbers = {int(re.fullmatch(r"example-(\d+)\.yaml", path.name)[1]) for path in FILES}  # type: ignore[index]
    assert numbers == PUBLIC


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_example_matches_the_spec(path: Path) -> None:
    outcome = run_file(path)
    assert outcome.error is None, outcome.error
    assert outcome.result is not None
    assert outcome.ok, text([outcome], "en", verbosity=2)
    assert outcome.result.accounts or outcome.result.cases


def test_every_expectation_is_checked() -> None:
    """No example leaves an account period without expectations (a silent pass)."""
    outcomes: list[FileOutcome] = [run_file(path) for path in FILES]
    unchecked = [
        f"{outcome.path.name} {account.period} {account.plan.number}"
        for outcome in outcomes
        if outcome.result is not None
        for account in outcome.result.accounts
        if account.expectation is None
    ]
    assert unchecked == []
