"""Online transactions: create, perform, cancel (ADR 6), and the log of every request.

Each step is idempotent on the aggregator's transaction id and moves the transaction only
forwards (`models` shows the states): a step the transaction has passed already answers
with the transaction as it is, so a replayed or late callback never undoes anything.

* `create_transaction` reserves the transaction id for an account and an amount. The
  unique constraint (aggregator, transaction id) decides which of two simultaneous creates
  is first; the same id with other data is a conflict, never an overwrite.
* `perform_transaction` posts the payment through `kvit.payments.actions.post_payment`
  (source = the aggregator's code, external id = the transaction id), which allocates it,
  or puts it in suspense when the account was closed since the create.
* `cancel_transaction` cancels a created transaction, or reverses the payment of a
  performed one (`reverse_payment`).

Lock order: the transaction row (FOR UPDATE) → then whatever `post_payment` and
`reverse_payment` lock (the payment row → the account rows → …).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.core.periods import Period
from kvit.db.effective import concrete_field
from kvit.ledger.models import CENT
from kvit.online.models import Aggregator, OnlineEvent, OnlineTransaction
from kvit.online.queries import TRANSACTION_NOT_FOUND, payable_account
from kvit.payments.actions import PaymentRecord, Result, post_payment, reverse_payment
from kvit.payments.models import Payment

TRANSACTION_CONFLICT = "transaction_conflict"
TRANSACTION_CANCELLED = "transaction_cancelled"
NOT_CANCELLABLE = "not_cancellable"
PAYMENT_CONFLICT = "payment_conflict"
INVALID_AMOUNT = "invalid_amount"
COMPARED = ("account_number", "amount", "fee", "period")
"""What a repeated create must carry unchanged to be a replay rather than a conflict."""


@dataclass(frozen=True)
class TransactionRequest:
    """A create as the aggregator sends it; amounts are Decimals (never floats)."""

    external_id: str
    account_number: str
    amount: Decimal
    fee: Decimal = Decimal("0.00")
    period: Period | None = None


def _check_amounts(request: TransactionRequest) -> None:
    errors = {}
    if request.amount <= 0 or request.amount != request.amount.quantize(CENT):
        errors["amount"] = ValidationError(
            _("The amount must be positive, in whole kopecks, not %(amount)s."),
            code=INVALID_AMOUNT,
            params={"amount": request.amount},
        )
    elif not 0 <= request.fee <= request.amount or request.fee != request.fee.quantize(CENT):
        errors["fee"] = ValidationError(
            _("The fee must be between zero and the amount, in whole kopecks, not %(fee)s."),
            code=INVALID_AMOUNT,
            params={"fee": request.fee},
        )
    if errors:
        raise ValidationError(errors)


def create_transaction(
    aggregator: Aggregator, request: TransactionRequest, *, now: datetime | None = None
) -> tuple[OnlineTransaction, bool]:
    """The transaction, and whether this call created it. Refused (ValidationError) for an
    unknown or closed account, a bad amount, or a transaction id already used for another
    account, amount, fee or period."""
    _check_amounts(request)
    moment = now or timezone.now()
    with transaction.atomic():
        existing = _replayed(aggregator, request)
        if existing is not None:
            return existing, False
        account = payable_account(aggregator, request.account_number, timezone.localdate(moment))
        found, created = OnlineTransaction.objects.get_or_create(
            aggregator=aggregator,
            external_id=request.external_id,
            defaults={
                "tenant_id": aggregator.tenant_id,
                "account_number": request.account_number.strip(),
                "account": account,
                "amount": request.amount,
                "fee": request.fee,
                "period": request.period.first_day if request.period else None,
                "state": OnlineTransaction.State.CREATED,
                "created_at": moment,
            },
        )
        if not created:  # another create of the same id came first, a moment ago
            _check_same(found, request)
        return found, created


def _replayed(aggregator: Aggregator, request: TransactionRequest) -> OnlineTransaction | None:
    found = OnlineTransaction.objects.filter(
        aggregator=aggregator, external_id=request.external_id
    ).first()
    if found is not None:
        _check_same(found, request)
    return found


def _check_same(found: OnlineTransaction, request: TransactionRequest) -> None:
    given = {
        "account_number": request.account_number.strip(),
        "amount": request.amount,
        "fee": request.fee,
        "period": request.period.first_day if request.period else None,
    }
    differ = [name for name in COMPARED if getattr(found, name) != given[name]]
    if differ:
        names = ", ".join(str(concrete_field(OnlineTransaction, n).verbose_name) for n in differ)
        raise ValidationError(
            _(
                "Transaction %(id)s was created with another %(fields)s: nothing was changed. "
                "Use a new transaction id for a new payment."
            ),
            code=TRANSACTION_CONFLICT,
            params={"id": found.external_id, "fields": names},
        )


def _locked(aggregator: Aggregator, external_id: str) -> OnlineTransaction:
    # No select_related: a row that waited for another transaction's lock is read again as
    # that one committed it, but a joined row (its new payment) would still be read as of
    # the statement's start, when it did not exist yet. The payment is read afterwards.
    found = (
        OnlineTransaction.objects.select_for_update()
        .filter(aggregator=aggregator, external_id=external_id)
        .first()
    )
    if found is None:
        raise ValidationError(
            _("There is no transaction %(id)s: create it first."),
            code=TRANSACTION_NOT_FOUND,
            params={"id": external_id},
        )
    return found


def perform_transaction(
    aggregator: Aggregator, external_id: str, *, now: datetime | None = None
) -> tuple[OnlineTransaction, bool]:
    """The transaction, and whether this call performed it (posted its payment, paid at
    `now`). A performed transaction is answered as it is; a cancelled one is refused."""
    moment = now or timezone.now()
    with transaction.atomic():
        found = _locked(aggregator, external_id)
        if found.state == OnlineTransaction.State.PERFORMED:
            return found, False
        if found.state == OnlineTransaction.State.CANCELLED:
            raise ValidationError(
                _("Transaction %(id)s is cancelled: it cannot be performed."),
                code=TRANSACTION_CANCELLED,
                params={"id": external_id},
            )
        outcome = post_payment(
            PaymentRecord(
                tenant_id=aggregator.tenant_id,
                source=aggregator.code,
                external_id=found.external_id,
                paid_at=moment,
                amount=found.amount,
                fee=found.fee,
                account_number=found.account_number,
                period=Period.of(found.period) if found.period else None,
                provider_id=aggregator.provider_id,
                document_kind=Payment.DocumentKind.ONLINE,
                document_number=found.external_id,
            )
        )
        if outcome.result is Result.CONFLICT:
            raise ValidationError(
                _("%(message)s The transaction stays created."),
                code=PAYMENT_CONFLICT,
                params={"message": outcome.message},
            )
        found.payment = outcome.payment
        found.state = OnlineTransaction.State.PERFORMED
        found.performed_at = moment
        found.save(update_fields=["payment", "state", "performed_at"])
        return found, True


def cancel_transaction(
    aggregator: Aggregator, external_id: str, reason: str, *, now: datetime | None = None
) -> tuple[OnlineTransaction, bool]:
    """The transaction, and whether this call cancelled it. A performed transaction's
    payment is reversed (as of `now`'s date); a cancelled one is answered as it is."""
    moment = now or timezone.now()
    with transaction.atomic():
        found = _locked(aggregator, external_id)
        if found.state == OnlineTransaction.State.CANCELLED:
            return found, False
        if found.payment is not None:
            _reverse(found.payment, reason, moment)
        found.state = OnlineTransaction.State.CANCELLED
        found.cancelled_at = moment
        found.cancel_reason = reason.strip()[:200]
        found.save(update_fields=["state", "cancelled_at", "cancel_reason"])
        return found, True


def _reverse(payment: Payment, reason: str, moment: datetime) -> None:
    try:
        reverse_payment(payment, reason, None, on=timezone.localdate(moment))
    except ValidationError as error:
        if error.code == "reversed":  # reversed in the back-office already: nothing to undo
            return
        raise ValidationError(
            _("The payment cannot be cancelled: %(problem)s"),
            code=NOT_CANCELLABLE,
            params={"problem": " ".join(error.messages)},
        ) from error


def rotate_secret(
    aggregator: Aggregator,
    secret: str,
    *,
    keep_previous_for: timedelta,
    now: datetime | None = None,
) -> None:
    """Give the contract a new secret. The old one stays valid for `keep_previous_for`
    (nothing: not at all), so that the aggregator can switch without a refused request."""
    moment = now or timezone.now()
    keep = keep_previous_for > timedelta(0)
    aggregator.previous_secret = aggregator.secret if keep else ""
    aggregator.previous_secret_until = moment + keep_previous_for if keep else None
    aggregator.secret = secret
    aggregator.full_clean()
    aggregator.save(update_fields=["secret", "previous_secret", "previous_secret_until"])


def record_event(
    operation: str,
    outcome: str,
    status_code: int,
    body: bytes,
    *,
    aggregator: Aggregator | None = None,
    online_transaction: OnlineTransaction | None = None,
    security: bool = False,
    remote_addr: str | None = None,
    details: dict[str, Any] | None = None,
) -> OnlineEvent:
    """Write down one request and what came of it (in its own transaction: a refused
    request's event stays although the request changed nothing). A NUL in the details
    (the path, a message quoting it) is kept as U+FFFD: jsonb refuses it."""
    return OnlineEvent.objects.create(
        tenant_id=aggregator.tenant_id if aggregator else None,
        aggregator=aggregator,
        transaction=online_transaction,
        operation=operation,
        outcome=outcome,
        security=security,
        status_code=status_code,
        body_sha256=hashlib.sha256(body).hexdigest(),
        remote_addr=remote_addr,
        at=timezone.now(),
        details={  # what came from outside, kept where PostgreSQL's jsonb can hold it
            name: value.replace("\x00", "\ufffd") if isinstance(value, str) else value
            for name, value in (details or {}).items()
        },
    )
