"""A To Do's finding in words, in the reader's language, from the numbers it keeps."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from kvit.controls.models import ToDo


def describe(kind: str, details: dict[str, Any]) -> list[str]:
    """What the check found, a sentence per difference, and what to do about it."""
    if kind == ToDo.Kind.BALANCE:
        return _balance(details)
    if kind == ToDo.Kind.REGISTRY:
        return _registry(details)
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
    said = {
        "posted": gettext(
            "The registry counts %(count)s posted lines of %(amount)s; its posted lines hold "
            "%(found)s payments of %(found_amount)s."
        ),
        "suspense": gettext(
            "The registry counts %(count)s lines in suspense of %(amount)s; its lines in "
            "suspense hold %(found)s payments of %(found_amount)s."
        ),
    }
    texts = []
    for outcome, text in said.items():
        if outcome in details:
            (count, amount), (found, found_amount) = (
                details[outcome]["registry"],
                details[outcome]["lines"],
            )
            texts.append(
                text
                % {"count": count, "amount": amount, "found": found, "found_amount": found_amount}
            )
    ledger = details.get("ledger")
    if ledger:
        texts.append(
            gettext(
                "%(payments)s of its payments should have %(expected)s on the ledger and have "
                "%(entries)s (payments %(examples)s)."
            )
            % {**ledger, "examples": ", ".join(f"#{pk}" for pk in ledger["examples"])}
        )
    return texts


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
