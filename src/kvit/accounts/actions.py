"""An account's own dates and shares and its connected services: saved and billed at once
(`kvit.billing.changes`), like the registrations and benefits shown on the same page."""

from __future__ import annotations

from typing import Any

from kvit.accounts.models import Account, AccountService
from kvit.billing.changes import Input, Recalculation, dated, own_account, remove, save
from kvit.core.rebilling import RECALCULATED

ACCOUNTS = Input(
    "account",
    RECALCULATED,
    dated(
        Account,
        "tenant_id",
        "pk",
        "premise_id",
        "share_numerator",
        "share_denominator",
        "consumer_kind",
        start="opened_on",
        end="closed_on",
    ),
    own_account,
)
CONNECTED_SERVICES = Input(
    "account_service",
    RECALCULATED,
    dated(
        AccountService,
        "account__tenant_id",
        "account_id",
        "service_id",
        "provider_id",
        "tariff_group",
    ),
    own_account,
)


def save_account(account: Account, *, user: Any = None) -> Recalculation:
    """Save a new or changed account (opening and closing days, premise, share)."""
    return save(ACCOUNTS, account, user=user)


def save_account_service(connected: AccountService, *, user: Any = None) -> Recalculation:
    """Connect a service to an account, or change or end a connection."""
    return save(CONNECTED_SERVICES, connected, user=user)


def remove_account_service(connected: AccountService, *, user: Any = None) -> Recalculation:
    """Delete a connection entered by mistake (one that stops gets its “effective to”)."""
    return remove(CONNECTED_SERVICES, connected, user=user)
