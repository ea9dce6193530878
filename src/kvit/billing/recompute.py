"""Fetch → rate → diff → post for a set of accounts and one period: the step the bill run,
the real-time path and a recalculation of past periods all take (architecture §1).

The caller opens the transaction. Accounts whose rating has errors are skipped: nothing of
theirs is posted, and the errors are returned for the report. Everything else posts only
what differs from what the ledger already holds, so doing it twice posts nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kvit.billing import penalties, posting
from kvit.billing.mapping import Billed, Catalogue, Chunk, accounts_of, fetch, neighbours
from kvit.core.codes import Rule
from kvit.core.house_balance import measure_house_meters, rate_building
from kvit.core.issues import Issue, Severity
from kvit.core.lines import ChargeLine, Rating
from kvit.core.periods import Period
from kvit.core.rating import collector_paused, rate_all
from kvit.core.rebilling import diff
from kvit.core.records import issue_data
from kvit.core.tariffs import TariffBook
from kvit.ledger.queries import posted_lines_of

PENALTY = Rule.PENALTY.value  # the rule of penalty lines and of their corrections


@dataclass(frozen=True)
class Outcome:
    lines: int  # lines the engine proposed
    entries: int  # entries posted
    amount: Decimal  # their sum
    skipped: list[dict[str, Any]]  # {"account": number, "issues": [...]} per skipped account
    warnings: int
    seconds: dict[str, float]  # fetch, compute (rate and diff), persist
    changed: frozenset[str] = frozenset()  # the numbers of the accounts that got entries

    @classmethod
    def total(cls, outcomes: Sequence[Outcome]) -> Outcome:
        """The outcomes of several chunks as one."""
        seconds: dict[str, float] = defaultdict(float)
        for outcome in outcomes:
            for step, spent in outcome.seconds.items():
                seconds[step] += spent
        return cls(
            sum(outcome.lines for outcome in outcomes),
            sum(outcome.entries for outcome in outcomes),
            sum((outcome.amount for outcome in outcomes), Decimal(0)),
            [item for outcome in outcomes for item in outcome.skipped],
            sum(outcome.warnings for outcome in outcomes),
            dict(seconds),
            frozenset().union(*(outcome.changed for outcome in outcomes)),
        )


def rate_chunk(
    data: Chunk, catalogue: Catalogue, neighbours: Mapping[int, Billed] | None = None
) -> tuple[list[Rating], dict[int, list[Issue]]]:
    """The chunk's ratings, in its order: a building with a common-house meter in two
    steps (`house_balance.rate_building`), the rest at once; and the problems of the house
    meters that could not be measured, by building. `neighbours`: what the building's
    accounts outside the chunk were billed (`mapping.neighbours`), when it does not hold
    whole buildings."""
    ratings: list[Rating | None] = [None] * len(data.inputs)
    by_house: dict[int, list[int]] = defaultdict(list)
    plain: list[int] = []
    for index, building in enumerate(data.buildings):
        (by_house[building] if building in data.houses else plain).append(index)
    book = TariffBook()
    for index, rating in zip(plain, rate_all([data.inputs[i] for i in plain], book), strict=True):
        ratings[index] = rating
    problems: dict[int, list[Issue]] = {}
    for building, indices in by_house.items():
        house = data.houses[building]
        volumes, issues = measure_house_meters(
            house.meters, house.readings, catalogue.period, catalogue.config, f"building {building}"
        )
        if issues:
            problems[building] = list(issues)
        found = rate_building(
            [data.inputs[i] for i in indices],
            volumes,
            book=book,
            others=(neighbours or {}).get(building, ()),
        )
        for index, rating in zip(indices, found, strict=True):
            ratings[index] = rating
    return [rating for rating in ratings if rating is not None], problems


@collector_paused()
def recompute(
    catalogue: Catalogue,
    account_ids: Sequence[int],
    *,
    posting_period: Period,
    reason: str,
    source: tuple[str, str],
    run_id: int | None = None,
    user: Any = None,
    whole_buildings: bool = True,
) -> Outcome:
    """Rate `account_ids` for `catalogue.period` and post the differences into
    `posting_period` (the period itself when it is open, else the open one).

    `whole_buildings`: the accounts are every account of their buildings (the bill run cuts
    its chunks so). Otherwise (real time: the accounts that changed) the house balance of
    a building with a common-house meter counts its other accounts as posted
    (`mapping.neighbours`); their own shares follow at the period's bill run."""
    started = time.perf_counter()
    data = fetch(catalogue, account_ids)
    others = None if whole_buildings else neighbours(catalogue, data)
    posted = posted_lines_of(data.account_ids.values(), catalogue.period)
    fetched = time.perf_counter()
    ratings, house_issues = rate_chunk(data, catalogue, others)
    accrued = penalties.accrue(catalogue, data)  # the period's penalties, diffed with the rest
    lines: list[ChargeLine] = []
    skipped: list[dict[str, Any]] = [
        {"building": building, "issues": [issue_data(issue) for issue in issues]}
        for building, issues in house_issues.items()
    ]
    warnings = 0
    for inputs, rating in zip(data.inputs, ratings, strict=True):
        number = inputs.account.number
        penalty = accrued.get(number, penalties.NOTHING)
        issues = (*rating.issues, *penalty.issues)
        errors = [issue for issue in issues if issue.severity is Severity.ERROR]
        warnings += len(issues) - len(errors)
        if errors:
            skipped.append({"account": number, "issues": [issue_data(i) for i in errors]})
            continue
        lines.extend(
            diff(
                (*rating.lines, *penalty.lines),
                posted.get(data.account_ids[number], ()),
                account=number,
                period=catalogue.period,
                posting_period=posting_period,
                services=catalogue.services,
                reason=reason,
            )
        )
    computed = time.perf_counter()
    written = posting.write(lines, data, catalogue, source=source, run_id=run_id, user=user)
    seconds = {
        "fetch": fetched - started,
        "compute": computed - fetched,
        "persist": time.perf_counter() - computed,
    }
    proposed = sum(len(rating.lines) for rating in ratings)
    proposed += sum(len(penalty.lines) for penalty in accrued.values())
    changed = frozenset(line.account for line in lines)
    return Outcome(proposed, written.entries, written.amount, skipped, warnings, seconds, changed)


@collector_paused()
def recompute_penalties(
    catalogue: Catalogue,
    account_ids: Sequence[int],
    *,
    posting_period: Period,
    reason: str,
    source: tuple[str, str],
    sources: Mapping[int, tuple[str, str]] | None = None,
    user: Any = None,
) -> Outcome:
    """`recompute` of the penalties alone: what a payment changes (it changes no charge).
    The accounts' penalty lines for `catalogue.period` are diffed with what is posted for
    it under the rule `penalty` (penalties and their corrections); the rest of the period
    is left as it stands. No rating, no readings:
    three queries for any number of accounts (and the penalty parameters when something is
    owed). `sources`: an account's own source document (by account id), else `source`."""
    started = time.perf_counter()
    data = accounts_of(catalogue, account_ids)
    posted = posted_lines_of(data.account_ids.values(), catalogue.period)
    fetched = time.perf_counter()
    accrued = penalties.accrue(catalogue, data)
    lines: list[ChargeLine] = []
    skipped: list[dict[str, Any]] = []
    warnings = 0
    for number, pk in data.account_ids.items():
        penalty = accrued.get(number, penalties.NOTHING)
        errors = [issue for issue in penalty.issues if issue.severity is Severity.ERROR]
        warnings += len(penalty.issues) - len(errors)
        if errors:
            skipped.append({"account": number, "issues": [issue_data(i) for i in errors]})
            continue
        lines.extend(
            diff(
                penalty.lines,
                [line for line in posted.get(pk, ()) if line.rule == PENALTY],
                account=number,
                period=catalogue.period,
                posting_period=posting_period,
                services=catalogue.services,
                reason=reason,
            )
        )
    computed = time.perf_counter()
    by_number = {number: (sources or {}).get(pk, source) for number, pk in data.account_ids.items()}
    written = posting.write(lines, data, catalogue, source=by_number, user=user)
    seconds = {
        "fetch": fetched - started,
        "compute": computed - fetched,
        "persist": time.perf_counter() - computed,
    }
    proposed = sum(len(penalty.lines) for penalty in accrued.values())
    changed = frozenset(line.account for line in lines)
    return Outcome(proposed, written.entries, written.amount, skipped, warnings, seconds, changed)
