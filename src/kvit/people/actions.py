"""Registrations, benefits and temporary absences: validated, saved and billed at once.

Each change is saved in one transaction with the recalculation of the account it belongs to
(`kvit.billing.changes`): from the first day the change touches, every period already
opened is rated again; an open period is corrected in place, a closed one by recalculation
entries in the open period that name it and the reason (residents changed, benefit
confirmed or ended, absence documented). Saving the same thing again posts nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kvit.accounts.models import Account
from kvit.billing.changes import Input, Recalculation, dated, own_account, remove, save
from kvit.core.rebilling import (
    ABSENCE_DOCUMENTED,
    BENEFIT_CONFIRMED,
    BENEFIT_ENDED,
    RECALCULATED,
    RESIDENTS_CHANGED,
)
from kvit.people.models import (
    Absence,
    Benefit,
    BenefitCategory,
    Ownership,
    Person,
    Registration,
)
from kvit.premises.actions import premise_accounts

REGISTRATIONS = Input(
    "registration",
    RESIDENTS_CHANGED,
    dated(Registration, "account__tenant_id", "account_id", "person_id", "kind"),
    own_account,
)
BENEFITS = Input(
    "benefit",
    BENEFIT_CONFIRMED,
    dated(Benefit, "account__tenant_id", "account_id", "person_id", "category_id"),
    own_account,
    ended_reason=BENEFIT_ENDED,
)
ABSENCES = Input(
    "absence",
    ABSENCE_DOCUMENTED,
    dated(Absence, "account__tenant_id", "account_id", "person_id", "filed_on"),
    own_account,
    ended_reason=RECALCULATED,
)

OWNERSHIPS = Input(
    "ownership",
    RECALCULATED,
    dated(Ownership, "premise__tenant_id", "owner_id", "premise_id"),
    premise_accounts,
)


def save_ownership(ownership: Ownership, *, user: Any = None) -> Recalculation:
    """Save a new or changed ownership of a premise, billed at once for its accounts (an
    owner's benefits follow the owners)."""
    return save(OWNERSHIPS, ownership, user=user)


def remove_ownership(ownership: Ownership, *, user: Any = None) -> Recalculation:
    """Delete an ownership entered by mistake, billed at once."""
    return remove(OWNERSHIPS, ownership, user=user)


# --- registrations (spec 1.6) ---------------------------------------------------------------


def register_resident(
    account: Account,
    person: Person,
    since: date,
    *,
    until: date | None = None,
    kind: str = Registration.Kind.PERMANENT,
    document: str = "",
    user: Any = None,
) -> Registration:
    """Count `person` on `account` from `since` (a move in)."""
    registration = Registration(
        account=account,
        person=person,
        kind=kind,
        effective_from=since,
        effective_to=until,
        document=document,
    )
    save_registration(registration, user=user)
    return registration


def end_registration(registration: Registration, on: date, *, user: Any = None) -> Recalculation:
    """A move out: `registration` no longer counts from `on`."""
    registration.effective_to = on
    return save_registration(registration, user=user)


def save_registration(registration: Registration, *, user: Any = None) -> Recalculation:
    """Save a new or changed registration (ValidationError: nothing saved or posted)."""
    return save(REGISTRATIONS, registration, user=user)


def remove_registration(registration: Registration, *, user: Any = None) -> Recalculation:
    """Delete a registration entered by mistake (a move out is `end_registration`)."""
    return remove(REGISTRATIONS, registration, user=user)


# --- benefits (spec 2.16) -----------------------------------------------------------------------


def grant_benefit(
    account: Account,
    person: Person,
    category: BenefitCategory,
    since: date,
    *,
    until: date | None = None,
    document: str = "",
    user: Any = None,
) -> Benefit:
    """Grant (or confirm afterwards, with `since` in the past) a benefit from `since`."""
    benefit = Benefit(
        account=account,
        person=person,
        category=category,
        effective_from=since,
        effective_to=until,
        document=document,
    )
    save_benefit(benefit, user=user)
    return benefit


def end_benefit(benefit: Benefit, on: date, *, user: Any = None) -> Recalculation:
    """The benefit no longer applies from `on`."""
    benefit.effective_to = on
    return save_benefit(benefit, user=user)


def save_benefit(benefit: Benefit, *, user: Any = None) -> Recalculation:
    return save(BENEFITS, benefit, user=user)


def remove_benefit(benefit: Benefit, *, user: Any = None) -> Recalculation:
    """Delete a benefit entered by mistake (one that stops is `end_benefit`)."""
    return remove(BENEFITS, benefit, user=user)


# --- temporary absences (spec 2.14) ---------------------------------------------------------------


def record_absence(
    account: Account,
    person: Person,
    departure: date,
    arrival: date | None = None,
    *,
    filed_on: date | None = None,
    document: str = "",
    user: Any = None,
) -> Absence:
    """Record that `person` is away from `departure` (the arrival day, and the documents'
    filing day, can come later: `save_absence`)."""
    absence = Absence(
        account=account,
        person=person,
        effective_from=departure,
        effective_to=arrival,
        filed_on=filed_on,
        document=document,
    )
    save_absence(absence, user=user)
    return absence


def save_absence(absence: Absence, *, user: Any = None) -> Recalculation:
    return save(ABSENCES, absence, user=user)


def remove_absence(absence: Absence, *, user: Any = None) -> Recalculation:
    return remove(ABSENCES, absence, user=user)
