"""Run a scenario: rate every account period by period, run the other calculators, and
compare everything with the expectations (exact `Decimal` comparison).

Periods are computed in order. Each period gets the readings taken before its end (the
history the fetch step would load) and, as `posted`, the lines computed for the account in
the earlier periods of the scenario, and a building's negative common-house volume that the
engine carries (`Rating.carried`) comes back as next month's `carried_negative` unless the
file gives one. The balance at the end of a period is the opening balance plus every line
computed so far minus the payments received by then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from kvit.core import allocation, penalties
from kvit.core.codes import Resource
from kvit.core.config import config_on, overrides_on
from kvit.core.due_dates import delay_day
from kvit.core.explain import render
from kvit.core.inputs import PeriodInputs, PostedLine
from kvit.core.issues import Issue
from kvit.core.lines import ChargeLine, Rating
from kvit.core.periods import Period
from kvit.core.rating import rate
from kvit.core.statements import ReconciliationAct, TurnoverRow, reconciliation_act, turnover_row
from kvit.core.tariffs import TariffBook
from kvit.scenarios.model import (
    AccountExpectation,
    AccountPlan,
    AllocationCase,
    AllocationKey,
    ExpectedIssue,
    ExpectedLine,
    PenaltyCase,
    QrCase,
    Scenario,
    StatementCase,
)
from kvit.scenarios.nodes import Where

ZERO = Decimal(0)
ONE_DAY = timedelta(days=1)
NBSP = "\u00a0"

MESSAGES: dict[str, dict[str, str]] = {
    "field": {
        "en": "{subject}: {field} expected {expected}, got {got}",
        "ru": "{subject}: {field} ожидалось {expected}, получено {got}",
    },
    "field_long": {
        "en": "{subject}: {field}\n        expected: {expected}\n        got:      {got}",
        "ru": "{subject}: {field}\n        ожидалось: {expected}\n        получено:  {got}",
    },
    "missing": {
        "en": "{subject}: expected, but not computed",
        "ru": "{subject}: ожидалось, но не рассчитано",
    },
    "unexpected": {
        "en": "{subject}: computed, but not expected",
        "ru": "{subject}: рассчитано, но не ожидалось",
    },
    "issue_missing": {
        "en": "issue {subject}: expected, but not raised",
        "ru": "замечание {subject}: ожидалось, но не выдано",
    },
    "issue_unexpected": {
        "en": "issue {subject}: raised, but not expected: {message}",
        "ru": "замечание {subject}: выдано, но не ожидалось: {message}",
    },
    "not_rejected": {
        "en": "{subject}: expected an error containing “{error}”, but it was accepted",
        "ru": "{subject}: ожидалась ошибка со словами «{error}», но данные приняты",
    },
    "wrong_error": {
        "en": "{subject}: expected an error containing “{error}”, got “{got}”",
        "ru": "{subject}: ожидалась ошибка со словами «{error}», получено «{got}»",
    },
    "failed": {
        "en": "{subject}: the calculation stopped: {error}",
        "ru": "{subject}: расчёт остановлен: {error}",
    },
}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One difference between what was expected and what was computed. `where` is the
    expectation's place in the file (None for something computed but not expected);
    `line` is the computed line it concerns, shown with its explanation."""

    code: str
    where: Where | None
    subject: str
    values: Mapping[str, str] = field(default_factory=dict)
    line: ChargeLine | None = None
    issue: Issue | None = None

    def message(self, language: str = "en") -> str:
        values = dict(self.values)
        if self.issue is not None:
            values["message"] = self.issue.message(language)
        code = self.code
        if code == "field" and len(self.values["expected"]) + len(self.values["got"]) > 50:
            code = "field_long"  # long values (sentences, payloads) one under the other
        texts = MESSAGES[code]
        return texts.get(language, texts["en"]).format(subject=self.subject, **values)


@dataclass(frozen=True, slots=True)
class AccountResult:
    period: Period
    plan: AccountPlan
    rating: Rating
    balances: Mapping[str, Decimal]
    expectation: AccountExpectation | None
    mismatches: tuple[Mismatch, ...]

    @property
    def balance(self) -> Decimal:
        return sum(self.balances.values(), ZERO)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A penalty, allocation, QR or statement case: what came out and how it compares."""

    kind: str
    title: str
    where: Where
    output: Any
    mismatches: tuple[Mismatch, ...]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: Scenario
    accounts: tuple[AccountResult, ...]
    cases: tuple[CaseResult, ...]

    @property
    def mismatches(self) -> tuple[Mismatch, ...]:
        found = [m for account in self.accounts for m in account.mismatches]
        found += [m for case in self.cases for m in case.mismatches]
        return tuple(found)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def run(scenario: Scenario) -> ScenarioResult:
    """Compute the scenario and compare it with its expectations."""
    return ScenarioResult(
        scenario,
        tuple(_rate_all(scenario)),
        tuple(
            [_penalty(case) for case in scenario.penalties]
            + [_allocation(case) for case in scenario.allocations]
            + [_qr(case) for case in scenario.qr_codes]
            + [_statement(case) for case in scenario.statements]
        ),
    )


# --- rating ----------------------------------------------------------------------------------


def _rate_all(scenario: Scenario) -> list[AccountResult]:
    book = TariffBook()
    posted: dict[str, list[PostedLine]] = {plan.number: [] for plan in scenario.accounts}
    charged: dict[str, dict[str, Decimal]] = {plan.number: {} for plan in scenario.accounts}
    carries: dict[str, dict[Resource, Decimal]] = {}  # building → the carry into the month
    results = []
    for period in scenario.periods:
        day = period.first_day
        config = config_on(day, overrides_on(scenario.config_rows, day))
        carried_out: dict[str, dict[Resource, Decimal]] = {}
        for plan in scenario.accounts:
            building = plan.building
            inputs = PeriodInputs(
                period=period,
                account=plan.on(period, {} if building is None else carries.get(building.code, {})),
                services=scenario.services,
                config=config,
                meters=plan.meters,
                readings=plan.readings_until(period.end),
                posted=tuple(posted[plan.number]),
            )
            rating = rate(inputs, book)
            if building is not None:
                out = carried_out.setdefault(building.code, {})
                out.update((carry.resource, carry.volume) for carry in rating.carried)
            posted[plan.number].extend(_posted(line) for line in rating.lines)
            sums = charged[plan.number]
            for line in rating.lines:
                sums[line.provider] = sums.get(line.provider, ZERO) + line.amount
            balance = plan.balances(sums, period.end)
            expectation = scenario.expectations.get((period, plan.number))
            mismatches = (
                ()
                if expectation is None
                else _compare_account(expectation, rating, balance, scenario.currency)
            )
            results.append(AccountResult(period, plan, rating, balance, expectation, mismatches))
        carries = carried_out
    return results


def _posted(line: ChargeLine) -> PostedLine:
    return PostedLine(
        provider=line.provider,
        service=line.service,
        period=line.period,
        kind=line.kind,
        amount=line.amount,
        quantity=line.quantity,
        rule=line.explanation.rule.value,
        zone=line.zone,
        tier=line.tier,
        span_from=line.span.start,
        span_to=line.span.end,
    )


def line_subject(line: ChargeLine) -> str:
    """`cold_water charge [day, tier 2, 2025-07-01..2025-07-15]`: a line named by its key."""
    details = [line.zone] if line.zone else []
    if line.tier:
        details.append(f"tier {line.tier}")
    details.append(line.explanation.rule.value)
    span = line.span
    if span != line.period.span and span.end is not None:
        details.append(f"{span.start}..{span.end - ONE_DAY}")
    return f"{line.service} {line.kind.value} [{', '.join(details)}]"


def _expected_subject(expected: ExpectedLine) -> str:
    details = [expected.zone] if expected.zone else []
    if expected.tier:
        details.append(f"tier {expected.tier}")
    if expected.rule is not None:
        details.append(expected.rule.value)
    if expected.first_day is not None or expected.last_day is not None:
        details.append(f"{expected.first_day or ''}..{expected.last_day or ''}")
    suffix = f" [{', '.join(details)}]" if details else ""
    return f"{expected.service} {expected.kind.value}{suffix} = {expected.amount}"


def _fits(expected: ExpectedLine, line: ChargeLine) -> bool:
    span = line.span
    last = None if span.end is None else span.end - ONE_DAY
    return (
        (expected.service, expected.kind, expected.zone, expected.tier)
        == (line.service, line.kind, line.zone, line.tier)
        and expected.rule in (None, line.explanation.rule)
        and expected.provider in (None, line.provider)
        and expected.first_day in (None, span.start)
        and expected.last_day in (None, last)
    )


def match_lines(
    expected: Sequence[ExpectedLine], lines: Sequence[ChargeLine]
) -> tuple[list[tuple[ExpectedLine, ChargeLine]], list[ExpectedLine], list[ChargeLine]]:
    """Pairs of expected and computed lines (in the expected order), the expected ones not
    computed, the computed ones not expected. A line is paired by service, kind, zone and
    tier (and the rule, provider and days when the expectation gives them): first with a
    line that also has the expected amount and quantity, then with the first one left in
    the engine's order."""
    left = list(range(len(lines)))
    chosen: dict[int, int] = {}
    for exact in (True, False):
        for number, want in enumerate(expected):
            if number in chosen:
                continue
            for index in left:
                line = lines[index]
                if _fits(want, line) and (
                    not exact
                    or (line.amount == want.amount and want.quantity in (None, line.quantity))
                ):
                    chosen[number] = index
                    left.remove(index)
                    break
    pairs = [(want, lines[chosen[n]]) for n, want in enumerate(expected) if n in chosen]
    missing = [want for n, want in enumerate(expected) if n not in chosen]
    return pairs, missing, [lines[index] for index in left]


def _compare_account(
    expectation: AccountExpectation,
    rating: Rating,
    balances: Mapping[str, Decimal],
    currency: str,
) -> tuple[Mismatch, ...]:
    found: list[Mismatch] = []
    where = expectation.where
    if expectation.lines is not None:
        pairs, missing, unexpected = match_lines(expectation.lines, rating.lines)
        for want, line in pairs:
            found.extend(_compare_line(want, line, currency))
        found.extend(Mismatch("missing", want.where, _expected_subject(want)) for want in missing)
        found.extend(
            Mismatch("unexpected", None, line_subject(line), line=line) for line in unexpected
        )
    if expectation.total is not None:
        at = expectation.places.get("total", where)
        found.extend(_differ(at, "lines", "total", expectation.total, rating.total))
    where = expectation.places.get("balance", where)
    if expectation.balance is not None:
        got = sum(balances.values(), ZERO)
        found.extend(_differ(where, "account", "balance", expectation.balance, got))
    if expectation.balances is not None:
        for provider in sorted(set(expectation.balances) | set(balances)):
            wanted = expectation.balances.get(provider, ZERO)
            got = balances.get(provider, ZERO)
            found.extend(_differ(where, f"provider {provider}", "balance", wanted, got))
    found.extend(_compare_issues(expectation.issues, rating.issues))
    return tuple(found)


def _compare_line(want: ExpectedLine, line: ChargeLine, currency: str) -> list[Mismatch]:
    found: list[Mismatch] = []
    subject = line_subject(line)
    checks: list[tuple[str, object, object]] = [("amount", want.amount, line.amount)]
    if want.quantity is not None:
        checks.append(("quantity", want.quantity, line.quantity))
    if want.tariff is not None:
        checks.append(("tariff", want.tariff, line.tariff))
    if want.unit is not None:
        checks.append(("unit", want.unit.value, line.unit.value))
    for field_name, expected, got in checks:
        if expected != got:
            found.append(
                Mismatch(
                    "field",
                    want.where,
                    subject,
                    {"field": field_name, "expected": str(expected), "got": str(got)},
                    line,
                )
            )
    for language, text in want.explanation.items():
        sentence = render(line, language, currency)
        if _plain(text) != _plain(sentence):
            found.append(
                Mismatch(
                    "field",
                    want.where,
                    subject,
                    {"field": f"explanation ({language})", "expected": text, "got": sentence},
                )
            )
    return found


def _plain(text: str) -> str:
    """Sentences compare with no-break spaces as plain ones (they are hard to type)."""
    return " ".join(text.replace(NBSP, " ").split())


def _differ(
    where: Where | None, subject: str, name: str, expected: object, got: object
) -> list[Mismatch]:
    if expected == got:
        return []
    return [
        Mismatch(
            "field", where, subject, {"field": name, "expected": str(expected), "got": str(got)}
        )
    ]


def _issue_fits(want: ExpectedIssue, issue: Issue) -> bool:
    return (
        want.code == issue.code
        and want.severity in (None, issue.severity.value)
        and want.meter in (None, issue.meter)
        and want.service in (None, issue.service)
    )


def _compare_issues(expected: Iterable[ExpectedIssue], issues: Sequence[Issue]) -> list[Mismatch]:
    left = list(issues)
    found = []
    for want in expected:
        match = next((issue for issue in left if _issue_fits(want, issue)), None)
        if match is None:
            found.append(Mismatch("issue_missing", want.where, want.code))
        else:
            left.remove(match)
    found.extend(
        Mismatch("issue_unexpected", None, f"{issue.code} ({issue.severity.value})", issue=issue)
        for issue in left
    )
    return found


# --- penalties -------------------------------------------------------------------------------


def _penalty(case: PenaltyCase) -> CaseResult:
    obligation = case.obligation
    result = penalties.penalty(obligation, case.payments, case.calc_date, case.rules)
    subject = f"penalty for {obligation.period}"
    found: list[Mismatch] = []
    for number, (where, day) in sorted(case.delay_days.items()):
        actual = delay_day(obligation.due_on, number)
        found.extend(_differ(where, subject, f"delay day {number}", day, actual))
    if case.rows is not None:
        for index, want in enumerate(case.rows):
            row_subject = f"{subject}, row {index + 1}"
            if index >= len(result.rows):
                found.append(Mismatch("missing", want.where, row_subject))
                continue
            row = result.rows[index]
            checks: list[tuple[str, object, object]] = [
                ("first_day", want.first_day, row.first_day),
                ("last_day", want.last_day, row.last_day),
                ("base", want.base, row.base),
                ("days", want.days, row.days),
                ("fraction", want.fraction, row.fraction_text),
                ("rate", want.rate, row.rate),
                ("amount", want.amount, row.amount),
                ("moratorium", want.moratorium, row.moratorium is not None),
            ]
            for name, expected, got in checks:
                if expected is not None:
                    found.extend(_differ(want.where, row_subject, name, expected, got))
        for index in range(len(case.rows), len(result.rows)):
            row = result.rows[index]
            found.append(
                Mismatch(
                    "unexpected",
                    None,
                    f"{subject}, row {index + 1}: {row.render('en')}",
                )
            )
    if case.total is not None:
        found.extend(_differ(case.where, subject, "total", case.total, result.total))
    found.extend(_compare_issues(case.issues, result.issues))
    return CaseResult("penalty", case.title, case.where, result, tuple(found))


# --- payment allocation ----------------------------------------------------------------------


def _allocation(case: AllocationCase) -> CaseResult:
    subject = f"payment {case.payment.amount} of {case.payment.paid_on}"
    result = allocation.allocate_payment(
        case.payment, case.obligations, case.due_dates, case.service_order, case.config
    )
    found: list[Mismatch] = []
    paid: dict[AllocationKey, Decimal] = {}
    for line in result.lines:
        key = (line.period, line.service, line.kind)
        paid[key] = paid.get(key, ZERO) + line.amount
    if case.allocated is not None:
        found.extend(_compare_amounts(case.allocated, paid, "allocated"))
    if case.remaining is not None:
        settled = allocation.settle(case.obligations, result)
        unpaid = {(o.period, o.service, o.kind): o.unpaid for o in settled}
        found.extend(_compare_amounts(case.remaining, unpaid, "remaining"))
    advances = {advance.provider: advance.amount for advance in result.advances}
    if case.advance is not None:
        where, want = case.advance
        found.extend(_differ(where, subject, "advance", want, sum(advances.values(), ZERO)))
    if case.advances is not None:
        for provider in sorted(set(case.advances) | set(advances)):
            where, want = case.advances.get(provider, (case.where, ZERO))
            got = advances.get(provider, ZERO)
            found.extend(_differ(where, f"provider {provider}", "advance", want, got))
    if case.penalties_paid is not None:
        where, want = case.penalties_paid
        got = sum(
            (line.amount for line in result.lines if line.kind is allocation.Kind.PENALTY), ZERO
        )
        found.extend(_differ(where, subject, "penalties paid", want, got))
    found.extend(_compare_issues(case.issues, result.issues))
    return CaseResult("allocation", case.title, case.where, result, tuple(found))


def _compare_amounts(
    expected: Mapping[AllocationKey, tuple[Where, Decimal]],
    got: Mapping[AllocationKey, Decimal],
    what: str,
) -> list[Mismatch]:
    found = []
    for key, (where, want) in expected.items():
        period, service, _kind = key
        found.extend(
            _differ(where, f"{what} {period} {service}", "amount", want, got.get(key, ZERO))
        )
    for key, amount in got.items():
        period, service, kind = key
        if key not in expected and amount and kind is allocation.Kind.PRINCIPAL:
            found.append(Mismatch("unexpected", None, f"{what} {period} {service} {amount}"))
    return found


# --- QR codes and statements -----------------------------------------------------------------


def _qr(case: QrCase) -> CaseResult:
    found: list[Mismatch] = []
    subject = case.title
    try:
        payload: str | None = case.given.payload()
    except ValueError as error:
        payload = None
        found.append(Mismatch("failed", case.where, subject, {"error": str(error)}))
    if payload is not None:
        figures: list[tuple[tuple[Where, object] | None, str, object]] = [
            (case.payload, "payload", payload),
            (case.length_chars, "length in characters", len(payload)),
            (case.length_bytes, "length in UTF-8 bytes", len(payload.encode("utf-8"))),
        ]
        for expected, name, got in figures:
            if expected is not None:
                found.extend(_differ(expected[0], subject, name, expected[1], got))
    for rejection in case.rejections:
        try:
            rejection.given.payload()
        except ValueError as error:
            if rejection.error.lower() not in str(error).lower():
                values = {"error": rejection.error, "got": str(error)}
                found.append(Mismatch("wrong_error", rejection.where, subject, values))
        else:
            values = {"error": rejection.error}
            found.append(Mismatch("not_rejected", rejection.where, subject, values))
    return CaseResult("qr_code", case.title, case.where, payload, tuple(found))


def _statement(case: StatementCase) -> CaseResult:
    subject = f"{case.title}, account {case.account}"
    try:
        act = reconciliation_act(
            case.account, case.first_day, case.last_day, case.opening, case.entries
        )
    except ValueError as error:
        failure = Mismatch("failed", case.where, subject, {"error": str(error)})
        return CaseResult("statement", case.title, case.where, None, (failure,))
    row = turnover_row(case.account, case.opening, case.entries)
    figures = statement_figures(act, row)
    found: list[Mismatch] = []
    for name, (where, want) in case.figures.items():
        found.extend(_differ(where, subject, name, want, figures[name]))
    return CaseResult("statement", case.title, case.where, (act, row), tuple(found))


def statement_figures(act: ReconciliationAct, row: TurnoverRow) -> dict[str, Decimal]:
    return {
        "act.turnover_debit": act.turnover_debit,
        "act.turnover_credit": act.turnover_credit,
        "act.closing_balance": act.closing,
        "turnover_row.opening_debit": row.opening_debit,
        "turnover_row.opening_credit": row.opening_credit,
        "turnover_row.charged": row.charged,
        "turnover_row.recalculations": row.recalculations,
        "turnover_row.benefits": row.benefits,
        "turnover_row.penalties": row.penalties,
        "turnover_row.paid_principal": row.paid_principal,
        "turnover_row.paid_penalties": row.paid_penalties,
        "turnover_row.write_offs": row.write_offs,
        "turnover_row.closing_debit": row.closing_debit,
        "turnover_row.closing_credit": row.closing_credit,
    }
