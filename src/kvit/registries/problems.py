"""The words for the problems `kvit.registries.parsing` finds (codes there, sentences here,
in the user's language) and for why a registry line was not posted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kvit.registries.parsing import Problem

FIELD_NAMES: Mapping[str, Promise] = {
    "paid_on": gettext_lazy("payment date"),
    "paid_time": gettext_lazy("payment time"),
    "branch": gettext_lazy("bank branch"),
    "sub_branch": gettext_lazy("sub-branch"),
    "cashier": gettext_lazy("cashier or terminal"),
    "external_id": gettext_lazy("operation number"),
    "account_number": gettext_lazy("account number"),
    "payer_name": gettext_lazy("payer"),
    "address": gettext_lazy("address"),
    "period": gettext_lazy("period"),
    "amount": gettext_lazy("amount"),
    "transferred": gettext_lazy("amount transferred"),
    "fee": gettext_lazy("bank fee"),
    "readings": gettext_lazy("readings"),
    "count": gettext_lazy("number of lines"),
    "order_date": gettext_lazy("payment order date"),
    "encoding": gettext_lazy("encoding"),
    "separator": gettext_lazy("separator"),
    "decimal_mark": gettext_lazy("decimal mark"),
    "date_format": gettext_lazy("date format"),
    "time_format": gettext_lazy("time format"),
    "period_format": gettext_lazy("period format"),
    "footer": gettext_lazy("footer check"),
    "provider_id": gettext_lazy("provider"),
    "paid_at": gettext_lazy("payment time"),
    "penalty_designated": gettext_lazy("designated for penalties"),
    "split": gettext_lazy("split"),
    "order_number": gettext_lazy("payment order number"),
    "starts_on": gettext_lazy("start of the statement"),
    "ends_on": gettext_lazy("end of the statement"),
}


def field_name(name: str) -> str:
    return str(FIELD_NAMES.get(name, name))


def _texts() -> dict[str, str]:
    """Sentences by problem code; %(value)s is what was read, %(expected)s what the rule
    wanted, %(field)s the field's name."""
    return {
        "empty": _("The file is empty."),
        "binary": _("This is not a text file (it looks like an archive, a document or an image)."),
        "markup": _("This is not a registry: it looks like HTML, XML or SVG."),
        "malformed": _("The line cannot be split into fields: %(value)s."),
        "no_header": _("The header row naming the fields is missing."),
        "header_unknown": _("The header names an unknown field “%(value)s”."),
        "header_twice": _("The header names the field “%(value)s” twice."),
        "header_missing": _("The header does not name the required field “%(field)s”."),
        "no_footer": _(
            "The footer line (starting with “=”) is missing: the file may be cut short."
        ),
        "after_footer": _("There is text after the footer: the file may be two files joined."),
        "statement_encoding": _(
            "This is not a bank statement in the 1C exchange format: its sections do not read "
            "in UTF-8, windows-1251 or DOS (CP866)."
        ),
        "statement_magic": _("This is not a bank statement: it does not begin with %(value)s."),
        "statement_end": _("The statement does not end with КонецФайла: it may be cut short."),
        "statement_section": _(
            "The document that begins on line %(value)s does not end (КонецДокумента): the "
            "statement may be cut short."
        ),
        "statement_after_end": _(
            "There is text after КонецФайла: the file may be two files joined."
        ),
        "statement_date": _("The %(field)s “%(value)s” is not a date (DD.MM.YYYY)."),
        "statement_amount": _("The %(field)s “%(value)s” is not a positive amount."),
        "statement_differs": _(
            "The bank statement credits %(expected)s for this payment order: less than its "
            "registries with this one say was transferred (this one: %(value)s)."
        ),
        "footer_short": _(
            "The footer has %(value)s fields; it needs at least the count, the amount, the "
            "amount transferred and the fee."
        ),
        "footer_field": _("The footer's %(field)s “%(value)s” cannot be read."),
        "footer_count": _("The file has %(value)s payment lines, the footer says %(expected)s."),
        "footer_sum": _("The lines' %(field)s adds up to %(value)s, the footer says %(expected)s."),
        "footer_unreadable": _(
            "The money of %(value)s lines cannot be read, so the totals cannot be checked "
            "against the footer."
        ),
        "line_sum": _(
            "The amount %(value)s is not the amount transferred plus the fee (%(expected)s)."
        ),
        "decode": _("The line cannot be read as %(expected)s (byte %(value)s)."),
        "nul": _("The line holds a NUL character (byte 0x00), which no field may hold."),
        "missing": _("The %(field)s is missing."),
        "money": _(
            "“%(value)s” is not an amount: digits with “%(expected)s” before at most two decimals."
        ),
        "not_positive": _("The amount must be above zero, not %(value)s."),
        "negative_fee": _("The bank fee cannot be negative (%(value)s)."),
        "fee_over_amount": _("The bank fee %(value)s is more than the amount %(expected)s."),
        "date": _("“%(value)s” is not a date in the format %(expected)s."),
        "time": _("“%(value)s” is not a time in the format %(expected)s."),
        "period": _("“%(value)s” is not a period in the format %(expected)s."),
        "too_long": _("The %(field)s is longer than %(expected)s characters."),
        "reading_meter": _("The reading %(value)s names no meter."),
        "reading_value": _("“%(value)s” is not a reading of meter %(expected)s."),
        "posting": _("The payments could not be posted: %(value)s"),
        "more": _("… and %(value)s more problems."),
        "layout_encoding": _("Unknown encoding “%(value)s”."),
        "layout_mark": _("The decimal mark is a point or a comma."),
        "layout_separator": _(
            "The separator is one character that is not a letter, a digit, a quote or a line break."
        ),
        "layout_separator_mark": _("The separator cannot be the decimal mark."),
        "layout_footer": _("Unknown footer check “%(value)s”."),
        "layout_format": _(
            "“%(value)s” does not write and read back a date (see the strftime codes)."
        ),
        "layout_unknown_field": _("Unknown field “%(field)s”."),
        "layout_missing_field": _("The field “%(field)s” needs a column."),
        "layout_column_number": _("Column numbers are whole numbers from 1."),
        "layout_column_twice": _("Two fields cannot share a column."),
        "layout_readings_first": _("The readings must come after every mapped field's column."),
    }


def describe(problem: Problem) -> str:
    """The problem as a sentence, with its line and field in front."""
    text = _texts().get(problem.code, problem.code) % {
        "value": problem.value,
        "expected": problem.expected,
        "field": field_name(problem.field),
    }
    if problem.line:
        return _("Line %(line)s: %(problem)s") % {"line": problem.line, "problem": text}
    return text


def problem_data(problem: Problem) -> dict[str, Any]:
    """A problem as stored (JSON); `Problem(**data)` reads it back."""
    return {
        "code": problem.code,
        "line": problem.line,
        "field": problem.field,
        "value": problem.value,
        "expected": problem.expected,
    }


def line_reasons(outcome: str, details: Mapping[str, Any], payment: Any) -> list[str]:
    """Why a registry line was not posted, in the current language."""
    if outcome == "invalid":
        return [describe(Problem(**{**data, "line": 0})) for data in details.get("problems", ())]
    if outcome == "conflict":
        return [
            _(
                "Already recorded with another %(field)s: “%(received)s” in this registry, "
                "“%(recorded)s” recorded. Nothing was changed."
            )
            % {"field": field_name(name), "received": received, "recorded": recorded}
            for name, (received, recorded) in details.get("fields", {}).items()
        ]
    if outcome == "duplicate":
        return [_("Already recorded: nothing was posted again.")]
    if outcome == "suspense" and payment is not None:
        return [str(payment.get_suspense_reason_display())]
    return []
