"""Helpers for the registry tests: `Bank`, an organisation whose accounts each owe water
1,000.00 for January 2024 (February and March open too: registries are paid in March), and
`sberbank()`, which writes a Sberbank-style registry (spec 6.2) for given payments.

The charges are posted by hand, not by the engine: the accounts have no connected services,
so the recalculation a payment triggers proposes nothing and leaves them alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from kvit.ledger.actions import open_period, post_entries
from kvit.ledger.models import LedgerEntry

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
OWED = Decimal("1000.00")


@dataclass(frozen=True)
class Pay:
    """One registry line: operation `op` paying `amount` (fee 1 %) to `account`."""

    op: str
    account: str
    amount: str = "100.00"
    paid_on: str = "05-03-2024"
    paid_time: str = "12-30-00"
    period: str = "0224"
    payer: str = "Иванов Иван Иванович"
    address: str = "г. Москва, ул. Ленина, д. 1"
    readings: tuple[str, ...] = ()
    fee: str | None = None
    transferred: str | None = None

    def cells(self) -> list[str]:
        if self.fee is not None and self.transferred is not None:
            fee, transferred = self.fee, self.transferred  # as given, readable or not
        else:
            amount = Decimal(self.amount)
            cent = Decimal("0.01")
            fee = self.fee if self.fee is not None else str((amount / 100).quantize(cent))
            transferred = self.transferred or str(amount - Decimal(fee))
        return [
            self.paid_on,
            self.paid_time,
            "9038",
            "1234",
            "77",
            self.op,
            self.account,
            self.payer,
            self.address,
            self.period,
            self.amount,
            transferred,
            fee,
            *self.readings,
        ]


def footer(pays: Sequence[Pay], order: str = "4711", order_date: str = "06-03-2024") -> str:
    rows = [pay.cells() for pay in pays]
    total = sum((Decimal(row[10]) for row in rows), Decimal("0.00"))
    transferred = sum((Decimal(row[11]) for row in rows), Decimal("0.00"))
    fee = sum((Decimal(row[12]) for row in rows), Decimal("0.00"))
    return f"={len(rows)};{total};{transferred};{fee};{order};{order_date}"


def sberbank(
    pays: Sequence[Pay],
    *,
    foot: str | None = None,
    encoding: str = "windows-1251",
    order: str = "4711",
) -> bytes:
    """A Sberbank-style registry of `pays` with a correct footer (or `foot`), CRLF lines."""
    lines = [";".join(pay.cells()) for pay in pays]
    lines.append(footer(pays, order) if foot is None else foot)
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@dataclass
class Bank:
    make: Any
    tenant: Any
    water: Any
    water_service: Any
    accounts: list[Any] = field(default_factory=list)

    def owe(self, account: Any, amount: Decimal = OWED) -> None:
        post_entries(
            [
                LedgerEntry(
                    tenant=self.tenant,
                    account=account,
                    provider=self.water,
                    service=self.water_service,
                    period=JAN,
                    posted_on=JAN,
                    kind="charge",
                    amount=amount,
                )
            ]
        )

    def numbers(self) -> list[str]:
        return [account.number for account in self.accounts]

    def pays(self, count: int, prefix: str = "OP", amount: str = "100.00") -> list[Pay]:
        """`count` payments, one per account in turn, operations PREFIX-000001…"""
        numbers = self.numbers()
        return [Pay(f"{prefix}-{n:06d}", numbers[n % len(numbers)], amount) for n in range(count)]


def make_bank(make: Any, accounts: int = 5) -> Bank:
    """An organisation with `accounts` accounts (numbers 000001…) owing 1,000.00 each."""
    tenant = make.tenant()
    water = make.provider(tenant, name="Vodokanal")
    service = make.service(tenant, code="water", provider=water, penalty_scheme="none")
    building = make.building(tenant)
    bank = Bank(make=make, tenant=tenant, water=water, water_service=service)
    for period in (JAN, FEB, MAR):
        open_period(tenant, period)
    for n in range(accounts):
        account = make.account(make.premise(building), number=f"{n + 1:06d}")
        bank.accounts.append(account)
        bank.owe(account)
    return bank


OUR_ACCOUNT = "40702810900000000001"
SBERBANK_INN = "7707083893"


@dataclass(frozen=True)
class Order:
    """A payment order in a bank statement: `amount` paid by a bank to `to` (our account)."""

    number: str = "4711"
    dated: str = "06.03.2024"
    amount: str = "99.00"
    to: str = OUR_ACCOUNT
    payer_inn: str = SBERBANK_INN
    received: str = "06.03.2024"

    def lines(self) -> list[str]:
        return [
            "СекцияДокумент=Платежное поручение",
            f"Номер={self.number}",
            f"Дата={self.dated}",
            f"Сумма={self.amount}",
            "ПлательщикСчет=30101810400000000225",
            f"ПлательщикИНН={self.payer_inn}",
            "Плательщик1=ПАО СБЕРБАНК",
            f"ПолучательСчет={self.to}",
            "ПолучательИНН=7701000000",
            f"ДатаПоступило={self.received}",
            "НазначениеПлатежа=Перечисление платежей населения по реестру",
            "КонецДокумента",
        ]


def statement(
    orders: Sequence[Order],
    *,
    accounts: Sequence[str] = (OUR_ACCOUNT,),
    encoding: str = "windows-1251",
    end: bool = True,
) -> bytes:
    """A bank statement in the 1C client-bank exchange format, CRLF lines."""
    kind = {"windows-1251": "Windows", "cp866": "DOS"}.get(encoding, "Windows")
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        f"Кодировка={kind}",
        "Отправитель=Бухгалтерия предприятия",
        "ДатаНачала=01.03.2024",
        "ДатаКонца=31.03.2024",
        *(f"РасчСчет={account}" for account in accounts),
        *(
            line
            for account in accounts
            for line in ("СекцияРасчСчет", f"РасчСчет={account}", "КонецРасчСчет")
        ),
    ]
    for order in orders:
        lines += order.lines()
    if end:
        lines.append("КонецФайла")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
