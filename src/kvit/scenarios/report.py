"""How scenario results are shown: a readable diff (text) or every computed value (JSON).

Text: one `PASS`/`FAIL` line per file, then for a failing file each mismatch with the place
of the expectation in the file (`example-01.yaml:31`) and, for a line, its explanation; at
`verbosity` 2 every computed line with its sentence. JSON: every computed line with its
explanation (structured values and the sentence in Russian and English), the penalty rows,
allocations, QR payloads and statement figures, the mismatches, and a summary. Amounts are
JSON strings, never floats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kvit.core import allocation, penalties
from kvit.core.explain import render
from kvit.core.issues import Issue
from kvit.core.lines import ChargeLine
from kvit.core.records import explanation_data, issue_data
from kvit.core.statements import ReconciliationAct, TurnoverRow
from kvit.scenarios.files import FileOutcome
from kvit.scenarios.runner import (
    AccountResult,
    CaseResult,
    Mismatch,
    line_subject,
    statement_figures,
)

LANGUAGES = ("ru", "en")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "pass": "PASS",
        "fail": "FAIL",
        "error": "ERROR",
        "account": "{period} · account {account}",
        "no_expectations": "not checked (no expectations)",
        "summary": "files: {files}; passed: {passed}; failed: {failed} (mismatches: "
        "{mismatches}); not readable: {errors}",
        "lines": "lines: {count}, total {total}",
    },
    "ru": {
        "pass": "ВЕРНО",
        "fail": "ОШИБКА",
        "error": "НЕ ПРОЧИТАН",
        "account": "{period} · лицевой счёт {account}",
        "no_expectations": "не проверялся (нет ожиданий)",
        "summary": "файлов: {files}; верно: {passed}; с расхождениями: {failed} "
        "(расхождений: {mismatches}); не прочитано: {errors}",
        "lines": "строк: {count}, итого {total}",
    },
}


# --- text -----------------------------------------------------------------------------------


def text(outcomes: Iterable[FileOutcome], language: str = "en", verbosity: int = 1) -> str:
    words = WORDS.get(language, WORDS["en"])
    found = list(outcomes)
    out: list[str] = []
    for outcome in found:
        if outcome.result is None:
            out.append(f"{words['error']} {outcome.error}")
            continue
        result = outcome.result
        scenario = result.scenario
        status = words["pass"] if result.ok else words["fail"]
        out.append(f"{status} {outcome.path} — {scenario.title}")
        if result.ok and verbosity < 2:
            continue
        currency = scenario.currency
        for account in result.accounts:
            if account.mismatches or verbosity >= 2:
                out.extend(_account_text(account, words, language, currency, verbosity))
        for case in result.cases:
            if case.mismatches or verbosity >= 2:
                out.append(f"  {case.kind}: {case.title} ({case.where})")
                if verbosity >= 2:
                    out.extend(f"    {row}" for row in _case_rows(case, language))
                out.extend(_mismatches_text(case.mismatches, language, currency))
    failed = [o for o in found if o.result is not None and not o.result.ok]
    out.append("")
    out.append(
        words["summary"].format(
            files=len(found),
            passed=sum(1 for o in found if o.ok),
            failed=len(failed),
            mismatches=sum(len(o.result.mismatches) for o in failed if o.result is not None),
            errors=sum(1 for o in found if o.error is not None),
        )
    )
    return "\n".join(out) + "\n"


def _account_text(
    account: AccountResult, words: Mapping[str, str], language: str, currency: str, verbosity: int
) -> list[str]:
    head = words["account"].format(period=account.period, account=account.plan.number)
    rating = account.rating
    summary = words["lines"].format(count=len(rating.lines), total=rating.total)
    if account.expectation is None:
        summary += f"; {words['no_expectations']}"
    out = [f"  {head}: {summary}"]
    if verbosity >= 2:
        for line in rating.lines:
            out.append(f"    {line_subject(line)}: {render(line, language, currency)}")
        for issue in rating.issues:
            out.append(f"    ! {issue.code}: {issue.message(language)}")
    out.extend(_mismatches_text(account.mismatches, language, currency))
    return out


def _mismatches_text(mismatches: Sequence[Mismatch], language: str, currency: str) -> list[str]:
    """Each mismatch with where it is expected; a line's sentence once, after the last
    mismatch about that line."""
    out = []
    for index, mismatch in enumerate(mismatches):
        where = f"{mismatch.where}: " if mismatch.where is not None else ""
        out.append(f"    {where}{mismatch.message(language)}")
        line = mismatch.line
        following = mismatches[index + 1].line if index + 1 < len(mismatches) else None
        if line is not None and following is not line:
            out.append(f"        {render(line, language, currency)}")
    return out


def _case_rows(case: CaseResult, language: str) -> list[str]:
    output = case.output
    if isinstance(output, penalties.PenaltyResult):
        rows = [row.render(language) for row in output.rows]
        return [*rows, f"= {output.total}"]
    if isinstance(output, allocation.Allocation):
        lines = [
            f"{line.period} {line.service} {line.kind.value}: {line.amount}"
            for line in output.lines
        ]
        return lines + [f"advance {a.provider}: {a.amount}" for a in output.advances]
    if isinstance(output, tuple):
        act, row = output
        return [f"{key} = {value}" for key, value in _statement_json(act, row)["figures"].items()]
    return [str(output)]


# --- JSON -----------------------------------------------------------------------------------


def as_json(outcomes: Iterable[FileOutcome]) -> str:
    found = list(outcomes)
    document = {
        "files": [_file_json(outcome) for outcome in found],
        "summary": {
            "files": len(found),
            "passed": sum(1 for o in found if o.ok),
            "failed": sum(1 for o in found if o.result is not None and not o.result.ok),
            "errors": sum(1 for o in found if o.error is not None),
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _file_json(outcome: FileOutcome) -> dict[str, Any]:
    result = outcome.result
    if result is None:
        return {"file": str(outcome.path), "ok": False, "error": outcome.error}
    scenario = result.scenario
    periods: dict[str, list[dict[str, Any]]] = {}
    for account in result.accounts:
        periods.setdefault(str(account.period), []).append(
            _account_json(account, scenario.currency)
        )
    cases: dict[str, list[dict[str, Any]]] = {}
    for case in result.cases:
        cases.setdefault(case.kind, []).append(_case_json(case))
    return {
        "file": str(outcome.path),
        "title": scenario.title,
        "ok": result.ok,
        "error": None,
        "periods": [
            {"period": period, "accounts": accounts} for period, accounts in periods.items()
        ],
        **cases,
        "mismatches": [_mismatch_json(m) for m in result.mismatches],
    }


def _account_json(account: AccountResult, currency: str) -> dict[str, Any]:
    rating = account.rating
    return {
        "account": account.plan.number,
        "checked": account.expectation is not None,
        "total": str(rating.total),
        "balance": {provider: str(amount) for provider, amount in account.balances.items()},
        "lines": [line_json(line, currency) for line in rating.lines],
        "reported": [line_json(line, currency) for line in rating.reported],
        "issues": [issue_json(issue) for issue in rating.issues],
    }


def line_json(line: ChargeLine, currency: str = "RUB") -> dict[str, Any]:
    """A charge line with its explanation: structured values and the two sentences."""
    explanation = line.explanation
    span = line.span
    return {
        "account": line.account,
        "provider": line.provider,
        "service": line.service,
        "period": str(line.period),
        "kind": line.kind.value,
        "rule": explanation.rule.value,
        "zone": line.zone,
        "tier": line.tier,
        "first_day": span.start.isoformat(),
        "end": None if span.end is None else span.end.isoformat(),
        "quantity": str(line.quantity),
        "unit": line.unit.value,
        "tariff": str(line.tariff),
        "amount": str(line.amount),
        "explanation": explanation_data(explanation),
        "text": {language: render(line, language, currency) for language in LANGUAGES},
    }


def issue_json(issue: Issue) -> dict[str, Any]:
    return issue_data(issue, LANGUAGES)


def _mismatch_json(mismatch: Mismatch) -> dict[str, Any]:
    return {
        "where": None if mismatch.where is None else str(mismatch.where),
        "code": mismatch.code,
        "subject": mismatch.subject,
        "values": dict(mismatch.values),
        "message": {language: mismatch.message(language) for language in LANGUAGES},
    }


def _case_json(case: CaseResult) -> dict[str, Any]:
    found: dict[str, Any] = {"title": case.title, "where": str(case.where)}
    output = case.output
    if isinstance(output, penalties.PenaltyResult):
        found["rows"] = [
            {
                "first_day": row.first_day.isoformat(),
                "last_day": row.last_day.isoformat(),
                "days": row.days,
                "base": str(row.base),
                "fraction": row.fraction_text,
                "rate": str(row.rate),
                "amount": str(row.amount),
                "moratorium": row.moratorium is not None,
                "text": {language: row.render(language) for language in LANGUAGES},
            }
            for row in output.rows
        ]
        found["total"] = str(output.total)
        found["issues"] = [issue_json(issue) for issue in output.issues]
    elif isinstance(output, allocation.Allocation):
        found["lines"] = [
            {
                "provider": line.provider,
                "service": line.service,
                "period": str(line.period),
                "kind": line.kind.value,
                "amount": str(line.amount),
                "rule": line.explanation.rule.value,
                "unpaid_before": str(line.explanation.unpaid_before),
                "split": None if line.explanation.split is None else line.explanation.split.value,
            }
            for line in output.lines
        ]
        found["advances"] = {a.provider: str(a.amount) for a in output.advances}
        found["issues"] = [issue_json(issue) for issue in output.issues]
    elif isinstance(output, str):
        found["payload"] = output
        found["length_chars"] = len(output)
        found["length_utf8_bytes"] = len(output.encode("utf-8"))
    elif isinstance(output, tuple):
        act, row = output
        found.update(_statement_json(act, row))
    found["ok"] = not case.mismatches
    return found


def _statement_json(act: ReconciliationAct, row: TurnoverRow) -> dict[str, Any]:
    return {
        "account": act.account,
        "first_day": act.first_day.isoformat(),
        "last_day": act.last_day.isoformat(),
        "rows": [
            {
                "date": entry.day.isoformat(),
                "document": entry.document,
                "debit": str(entry.debit),
                "credit": str(entry.credit),
            }
            for entry in act.rows
        ],
        "figures": {key: str(value) for key, value in statement_figures(act, row).items()},
    }
