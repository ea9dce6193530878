"""Read-side queries of the online payments: the aggregator a request names, what an account
owes (what a payment terminal shows before the payer pays), a transaction by its id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kvit.accounts.models import Account
from kvit.ledger.queries import cached_balance
from kvit.online.models import Aggregator, OnlineTransaction

ACCOUNT_NOT_FOUND = "account_not_found"
ACCOUNT_CLOSED = "account_closed"
TRANSACTION_NOT_FOUND = "transaction_not_found"


def aggregator_named(tenant_code: str, code: str) -> Aggregator | None:
    """The active aggregator contract `code` of the organisation `tenant_code`, if any
    (none for a code with a NUL, from a request's path: PostgreSQL's text holds none)."""
    if "\x00" in tenant_code + code:
        return None
    return (
        Aggregator.objects.filter(tenant__code=tenant_code, code=code, is_active=True)
        .select_related("tenant")
        .first()
    )


def payable_account(aggregator: Aggregator, number: str, day: date) -> Account:
    """The organisation's account `number`, open on `day`; ValidationError when there is
    none (another organisation's account is no different from one that does not exist)."""
    account = Account.objects.filter(tenant_id=aggregator.tenant_id, number=number.strip()).first()
    if account is None:
        raise ValidationError(
            _("There is no account %(number)s."),
            code=ACCOUNT_NOT_FOUND,
            params={"number": number},
        )
    if account.closed_on is not None and account.closed_on <= day:
        raise ValidationError(
            _("Account %(number)s is closed: it takes no payments."),
            code=ACCOUNT_CLOSED,
            params={"number": number},
        )
    return account


@dataclass(frozen=True)
class AccountCheck:
    """What the payer sees before paying: no name, no address, only the amount owed."""

    number: str
    owed: Decimal  # the debt (to the contract's provider, if it has one); 0 with an advance
    currency: str


def account_check(aggregator: Aggregator, number: str, day: date) -> AccountCheck:
    account = payable_account(aggregator, number, day)
    balance = cached_balance(account, provider=aggregator.provider_id)
    return AccountCheck(
        number=account.number,
        owed=max(balance, Decimal("0.00")),
        currency=aggregator.tenant.currency,
    )


def transaction_of(aggregator: Aggregator, external_id: str) -> OnlineTransaction:
    """The aggregator's transaction `external_id`; ValidationError when it has none (another
    aggregator's transaction is no different from one that does not exist)."""
    found = (
        OnlineTransaction.objects.filter(aggregator=aggregator, external_id=external_id)
        .select_related("payment")
        .first()
    )
    if found is None:
        raise ValidationError(
            _("There is no transaction %(id)s."),
            code=TRANSACTION_NOT_FOUND,
            params={"id": external_id},
        )
    return found
