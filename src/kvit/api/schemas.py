"""The shapes of the online payment API's requests and answers (OpenAPI components).

Money travels as decimal strings ("1500.00"), never as JSON numbers: a JSON number is a
float in most clients. Requests refuse unknown fields (`tenant_id`, `status`, `balance` …).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from kvit.core.periods import Period
from kvit.online.actions import TransactionRequest
from kvit.online.models import OnlineTransaction
from kvit.online.queries import AccountCheck
from kvit.payments.models import Payment

AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
TRANSACTION_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # an account number: one line of printable text
NO_NUL = r"^[^\x00]*$"  # a text PostgreSQL can store


def money(value: Decimal) -> str:
    return f"{value:.2f}"


class Problem(Schema):
    """An error: a stable code for programs, a message for people."""

    class FieldProblem(Schema):
        field: str
        message: str

    code: str = Field(examples=["account_not_found"])
    message: str
    errors: list[FieldProblem]
    error_id: str | None = Field(
        None,
        description="Only on 500 and 503: the id the server's log names the failure by.",
        examples=["0f6c2d3e9a8b4c1d8e7f6a5b4c3d2e1f"],  # pragma: allowlist secret
    )


class AccountOut(Schema):
    """What a payment terminal shows before the payer pays."""

    account: str
    owed: str = Field(
        pattern=r"^[0-9]+\.[0-9]{2}$", description="The debt; 0.00 when there is none."
    )
    currency: str = Field(examples=["RUB"])

    @classmethod
    def of(cls, found: AccountCheck) -> AccountOut:
        return cls(account=found.number, owed=money(found.owed), currency=found.currency)


class TransactionIn(Schema):
    """Create (reserve) a transaction: the payer is about to pay `amount` to `account`."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: str = Field(
        pattern=TRANSACTION_ID,
        description="The aggregator's own id of the transaction.",
        examples=["tb-5f0c2a9e"],
    )
    account: str = Field(
        min_length=1,
        max_length=30,
        pattern=NO_CONTROL,
        description="The personal account number.",
        examples=["000101"],
    )
    amount: str = Field(
        pattern=AMOUNT, description='What the payer pays, e.g. "1500.00".', examples=["1500.00"]
    )
    fee: str = Field("0.00", pattern=AMOUNT, description="What the aggregator keeps of the amount.")
    period: str | None = Field(
        None, pattern=PERIOD, description='The period the payer pays for, "YYYY-MM".'
    )

    @field_validator("period")
    @classmethod
    def _known_period(cls, value: str | None) -> str | None:
        if value is not None:
            Period.parse(value)  # ValueError: a year outside the calendar Kvit bills
        return value

    def to_request(self) -> TransactionRequest:
        return TransactionRequest(
            external_id=self.transaction_id,
            account_number=self.account,
            amount=Decimal(self.amount),
            fee=Decimal(self.fee),
            period=Period.parse(self.period) if self.period else None,
        )


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=200, pattern=NO_NUL, description="Why it is cancelled."
    )


class PaymentOut(Schema):
    status: str = Field(description="posted, suspense, transferred, reversed or refunded.")
    suspense_reason: str = Field(description="Why the payment is in suspense, if it is.")


class TransactionOut(Schema):
    """A transaction as it stands. Repeating a step answers with this, unchanged."""

    transaction_id: str
    state: str = Field(description="created, performed or cancelled.")
    account: str
    amount: str
    fee: str
    period: str | None
    created_at: datetime
    performed_at: datetime | None
    cancelled_at: datetime | None
    payment: PaymentOut | None

    @classmethod
    def of(cls, found: OnlineTransaction) -> TransactionOut:
        payment: Payment | None = found.payment
        return cls(
            transaction_id=found.external_id,
            state=found.state,
            account=found.account_number,
            amount=money(found.amount),
            fee=money(found.fee),
            period=str(Period.of(found.period)) if found.period else None,
            created_at=found.created_at,
            performed_at=found.performed_at,
            cancelled_at=found.cancelled_at,
            payment=(
                PaymentOut(status=payment.status, suspense_reason=payment.suspense_reason)
                if payment
                else None
            ),
        )
