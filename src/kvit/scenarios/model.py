"""A loaded scenario: the engine's own input values plus what is expected of them.

Everything here is built by `loader.load`; the runner turns it into `PeriodInputs` period by
period and calls the pure calculators of `kvit.core`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from kvit.core import allocation, penalties
from kvit.core.codes import LineKind, Resource, Rule, Unit
from kvit.core.config import ParameterRow
from kvit.core.inputs import Account, Building, CommonHouseVolume, Meter, Reading, Service
from kvit.core.periods import Period
from kvit.core.qr import HOUSING_TECH_CODE, Payee, encode, payment_requisites
from kvit.core.statements import Entry
from kvit.scenarios.nodes import Where


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider: the code lines carry, and the requisites a QR code needs."""

    code: str
    name: str = ""
    inn: str = ""
    kpp: str = ""
    bank_name: str = ""
    bic: str = ""
    corr_account: str = "0"
    settlement_account: str = ""

    @property
    def payee(self) -> Payee:
        return Payee(
            name=self.name,
            settlement_account=self.settlement_account,
            bank_name=self.bank_name,
            bic=self.bic,
            corr_account=self.corr_account,
            inn=self.inn,
            kpp=self.kpp,
        )


@dataclass(frozen=True, slots=True)
class BuildingPlan:
    """A building; `volumes` are the house-level figures of each period (spec 2.8, 2.9)."""

    code: str
    building: Building
    volumes: Mapping[Period, tuple[CommonHouseVolume, ...]] = field(default_factory=dict)

    def on(self, period: Period, carried: Mapping[Resource, Decimal]) -> Building:
        """The building in `period`: its figures, with the negative volume `carried` from
        the previous month where the file gives none (spec 2.8, carry_forward)."""
        volumes = tuple(
            replace(volume, carried_negative=carried[volume.resource])
            if not volume.carried_negative and volume.resource in carried
            else volume
            for volume in self.volumes.get(period, ())
        )
        return replace(self.building, volumes=volumes) if volumes else self.building


@dataclass(frozen=True, slots=True)
class AccountPayment:
    """A payment received on the account: it lowers the balance from its date."""

    paid_on: date
    amount: Decimal
    provider: str


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """An account with its meters, readings, opening balance and payments."""

    account: Account
    building: BuildingPlan | None
    meters: tuple[Meter, ...]
    readings: tuple[Reading, ...]
    opening_balance: Mapping[str, Decimal]  # by provider
    payments: tuple[AccountPayment, ...]
    where: Where

    @property
    def number(self) -> str:
        return self.account.number

    def on(self, period: Period, carried: Mapping[Resource, Decimal]) -> Account:
        """The account as the engine sees it in `period` (the building's figures of it)."""
        if self.building is None:
            return self.account
        return replace(self.account, building=self.building.on(period, carried))

    def balances(self, charged: Mapping[str, Decimal], end: date) -> dict[str, Decimal]:
        """The balance by provider before `end`: the opening balance, plus `charged`, minus
        the payments received before `end`."""
        found = dict(self.opening_balance)
        for provider, amount in charged.items():
            found[provider] = found.get(provider, Decimal(0)) + amount
        for payment in self.payments:
            if payment.paid_on < end:
                found[payment.provider] = found.get(payment.provider, Decimal(0)) - payment.amount
        return found

    def readings_until(self, end: date) -> tuple[Reading, ...]:
        """The readings taken before `end`: the history the fetch step would load."""
        return tuple(reading for reading in self.readings if reading.taken_on < end)


# --- expectations ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectedLine:
    """A charge line expected; `None` fields are not checked. Lines are paired with the
    computed ones by service, kind, zone and tier, then by the optional rule, provider and
    days."""

    where: Where
    service: str
    kind: LineKind
    amount: Decimal
    quantity: Decimal | None = None
    tariff: Decimal | None = None
    unit: Unit | None = None
    zone: str = ""
    tier: int = 0
    rule: Rule | None = None
    provider: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    explanation: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExpectedIssue:
    where: Where
    code: str
    severity: str | None = None
    meter: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class AccountExpectation:
    """What one account should get in one period. `lines` None: not compared."""

    where: Where
    period: Period
    account: str
    lines: tuple[ExpectedLine, ...] | None
    total: Decimal | None
    balance: Decimal | None
    balances: Mapping[str, Decimal] | None
    issues: tuple[ExpectedIssue, ...]
    places: Mapping[str, Where] = field(default_factory=dict)  # where total / balance are


# --- the calculators besides rating -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectedPenaltyRow:
    where: Where
    first_day: date | None = None
    last_day: date | None = None
    base: Decimal | None = None
    days: int | None = None
    fraction: str | None = None
    rate: Decimal | None = None
    amount: Decimal | None = None
    moratorium: bool | None = None


@dataclass(frozen=True, slots=True)
class PenaltyCase:
    """A penalty on one obligation (spec 3.2) and what it should come to."""

    where: Where
    title: str
    obligation: penalties.Obligation
    payments: tuple[penalties.Payment, ...]
    calc_date: date
    rules: penalties.PenaltyRules
    delay_days: Mapping[int, tuple[Where, date]]
    rows: tuple[ExpectedPenaltyRow, ...] | None
    total: Decimal | None
    issues: tuple[ExpectedIssue, ...]


AllocationKey = tuple[Period, str, allocation.Kind]
"""(period, service, kind) of an expected allocation or remaining amount."""


@dataclass(frozen=True, slots=True)
class AllocationCase:
    """A payment allocated over open debts (spec 3.4) and what it should come to."""

    where: Where
    title: str
    payment: allocation.Payment
    obligations: tuple[allocation.Obligation, ...]
    due_dates: Mapping[Period, date]
    service_order: tuple[str, ...]
    config: allocation.AllocationConfig
    allocated: Mapping[AllocationKey, tuple[Where, Decimal]] | None
    remaining: Mapping[AllocationKey, tuple[Where, Decimal]] | None
    advance: tuple[Where, Decimal] | None  # all advances together
    advances: Mapping[str, tuple[Where, Decimal]] | None  # by provider
    penalties_paid: tuple[Where, Decimal] | None
    issues: tuple[ExpectedIssue, ...]


@dataclass(frozen=True, slots=True)
class QrInput:
    """What a payment QR code is built from (spec 5.2)."""

    payee: Payee
    amount: Decimal | None = None
    purpose: str = ""
    payer_account: str = ""
    period: Period | None = None
    tech_code: str = HOUSING_TECH_CODE
    encoding: str = "utf-8"

    def payload(self) -> str:
        requisites = payment_requisites(
            self.payee,
            amount=self.amount,
            purpose=self.purpose,
            payer_account=self.payer_account,
            period=self.period,
            tech_code=self.tech_code,
        )
        return encode(requisites, self.encoding)


@dataclass(frozen=True, slots=True)
class QrRejection:
    """Changed requisites that must be refused with an error containing `error`."""

    where: Where
    given: QrInput
    error: str


@dataclass(frozen=True, slots=True)
class QrCase:
    """A payment QR code and the payload it should be."""

    where: Where
    title: str
    given: QrInput
    payload: tuple[Where, str] | None
    length_chars: tuple[Where, int] | None
    length_bytes: tuple[Where, int] | None
    rejections: tuple[QrRejection, ...]


@dataclass(frozen=True, slots=True)
class StatementCase:
    """A reconciliation act and turnover row (spec 5.3, 5.4) and their figures."""

    where: Where
    title: str
    account: str
    first_day: date
    last_day: date
    opening: Decimal
    entries: tuple[Entry, ...]
    figures: Mapping[str, tuple[Where, Decimal]]


# --- the scenario -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    source: str
    title: str
    language: str
    currency: str
    config_rows: tuple[ParameterRow, ...]
    providers: Mapping[str, Provider]
    services: Mapping[str, Service]
    accounts: tuple[AccountPlan, ...]
    periods: tuple[Period, ...]
    expectations: Mapping[tuple[Period, str], AccountExpectation]
    penalties: tuple[PenaltyCase, ...] = ()
    allocations: tuple[AllocationCase, ...] = ()
    qr_codes: tuple[QrCase, ...] = ()
    statements: tuple[StatementCase, ...] = ()
