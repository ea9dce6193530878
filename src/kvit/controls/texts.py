"""A To Do's finding in words, in the reader's language, from the numbers it keeps."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from kvit.controls.models import ToDo
from kvit.registries.models import RegistryLine


def describe(kind: str, details: dict[str, Any]) -> list[str]:
    """What the check found, a sentence per difference, and what to do about it."""
    if kind == ToDo.Kind.BALANCE:
        return _balance(details)
    if kind == ToDo.Kind.REGISTRY:
        return _registry(details)
    if kind == ToDo.Kind.PAYMENTS:
        return _payments(details)
    if kind == ToDo.Kind.STATEMENT:
        return _statement(details)
    return _bill_run(details)


def _balance(details: dict[str, Any]) -> list[str]:
    subject = {
        "account": details["account"],
        "provider": details["provider"],
        "service": details["service"] or "—",
        "entries": details["entries"],
        "cached": details["cached"],
    }
    if details["cached"] is None:
        found = gettext(
            "Account %(account)s, %(provider)s, service %(service)s: the entries add up to "
            "%(entries)s and there is no cached balance."
        )
    else:
        found = gettext(
            "Account %(account)s, %(provider)s, service %(service)s: the cached balance is "
            "%(cached)s, the entries add up to %(entries)s."
        )
    return [
        found % subject,
        gettext(
            "The entries are right: rebuild the cached balances with "
            "“kvit reconcile --rebuild-balances”."
        ),
    ]


def _registry(details: dict[str, Any]) -> list[str]:
    texts = []
    if "lines" in details:
        texts.append(
            gettext("The registry counts %(count)s payment lines; it has %(found)s.")
            % {"count": details["lines"]["registry"], "found": details["lines"]["lines"]}
        )
    for outcome in RegistryLine.Outcome:
        if outcome not in details:
            continue
        (count, amount), (found, found_amount) = (
            details[outcome]["registry"],
            details[outcome]["lines"],
        )
        values = {
            "outcome": outcome.label,
            "count": count,
            "amount": amount,
            "found": found,
            "found_amount": found_amount,
        }
        if amount is None:
            text = gettext("Lines %(outcome)s: the registry counts %(count)s, it has %(found)s.")
        else:
            text = gettext(
                "Lines %(outcome)s: the registry counts %(count)s of %(amount)s; they hold "
                "%(found)s payments of %(found_amount)s."
            )
        texts.append(text % values)
    for outcome, wrong in details.get("statuses", {}).items():
        texts.append(
            gettext("Lines %(outcome)s whose payment's status does not allow it: %(count)s.")
            % {"outcome": RegistryLine.Outcome(outcome).label, "count": wrong}
        )
    if "ledger" in details:
        texts.append(_ledger(details["ledger"]))
    return texts


def _payments(details: dict[str, Any]) -> list[str]:
    if "orphans" in details:
        orphans = details["orphans"]
        return [
            gettext(
                "Ledger entries name %(payments)s payments the organisation does not have "
                "(%(examples)s), for %(entries)s."
            )
            % {**orphans, "examples": ", ".join(f"#{pk}" for pk in orphans["examples"])}
        ]
    return [
        gettext("Payments from %(source)s that came by no registry:") % details,
        _ledger(details["ledger"]),
    ]


def _ledger(ledger: dict[str, Any]) -> str:
    return gettext(
        "%(payments)s payments should have %(expected)s on their accounts and have "
        "%(entries)s there and %(elsewhere)s on other accounts (payments %(examples)s)."
    ) % {**ledger, "examples": ", ".join(f"#{pk}" for pk in ledger["examples"])}


def _statement(details: dict[str, Any]) -> list[str]:
    if "until" in details:
        text = gettext(
            "Payment order %(order)s of %(dated)s: the bank statements up to %(until)s credit "
            "nothing for it; its registries say %(transferred)s was transferred."
        )
    else:
        text = gettext(
            "Payment order %(order)s of %(dated)s: the bank statement credits %(credited)s; "
            "its registries say %(transferred)s was transferred."
        )
    return [text % {**details, "credited": ", ".join(details["credited"])}]


def _bill_run(details: dict[str, Any]) -> list[str]:
    (entries, amount), (found, found_amount) = details["chunks"], details["ledger"]
    return [
        gettext(
            "Bill run %(run)s: its chunks posted %(entries)s entries of %(amount)s; the ledger "
            "holds %(found)s entries of %(found_amount)s for it."
        )
        % {
            "run": details["run"],
            "entries": entries,
            "amount": amount,
            "found": found,
            "found_amount": found_amount,
        }
    ]
