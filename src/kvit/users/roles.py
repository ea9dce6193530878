"""What each staff role may change in the back-office: the one place that decides it.

Every staff role may view all of its tenant's reference data; the mapping names what it may
also add, change and delete, as app labels ("people") or single models ("metering.reading").
Consumers are not in the mapping: they never get into the back-office.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from kvit.users.models import Role

EVERYTHING = "*"

CHANGES: dict[str, frozenset[str]] = {
    Role.CHAIRMAN: frozenset({EVERYTHING}),
    Role.ACCOUNTANT: frozenset(
        {
            "tariffs",
            "parameters",
            "providers",
            "accounts",
            "people",
            "ledger.billingperiod",
            "payments",
            "registries",
            "controls",
        }
    ),
    Role.ENGINEER: frozenset({"metering", "premises"}),
    Role.OPERATOR: frozenset({"accounts", "people", "metering.reading"}),
    Role.CASHIER: frozenset(),
    Role.AUDITOR: frozenset(),
}


def is_tenant_staff(user: Any) -> bool:
    """An active back-office user of a tenant with a staff role."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.tenant_id is not None
        and user.role in CHANGES
    )


def may_view(user: Any) -> bool:
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    return is_tenant_staff(user)


def may_change(user: Any, model: type[models.Model]) -> bool:
    """Add, change and delete rows of `model`."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    if not is_tenant_staff(user):
        return False
    opts = model._meta
    allowed = CHANGES[user.role]
    return bool({EVERYTHING, opts.app_label, f"{opts.app_label}.{opts.model_name}"} & allowed)
