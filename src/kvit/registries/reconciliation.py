"""Registries checked against bank statements (spec 6.2): what a bank's registries say was
transferred under a payment order is the credit the bank statement shows for that order.

* **A statement** (`import_statement`, 1C client-bank exchange format,
  `kvit.registries.statements`) is kept with its file and credits, once per file;
  documents that
  cannot be read are reported and the others kept. A file that is not a statement, or is
  cut short, is refused whole (ValidationError, nothing recorded). It takes its turn with
  the organisation's registry imports (`kvit.registries.turns`), so it sees every registry
  committed before it, and every registry imported after it sees it.
* **The check** (`matches`) pairs the imported registries of a payment order (number and
  date, and the bank's INN when the format names it: two banks may number their orders
  alike) with the statements' credits of that order (of that bank): *matched* when one
  credit is what the registries add up to (a payment order may cover several registries),
  *differs* when none is, *awaited* while no imported statement holds the order. A credit
  kept by two statements (a daily and a monthly one) counts once. A registry without a
  payment order in its footer is not checked.
* **At import** (`overpaid`, before anything is posted) a registry is rejected whole when
  its format names the bank's INN, that bank's credits of the order are in a statement
  already, and the order's registries with this one would add up to more than any of them:
  no later registry can make that right. A shortfall may be a registry still to come, and
  without the bank's INN a credit may be another bank's: those registries are imported and
  show "differs" until it is resolved. The statement's import lists the registries it
  matched and those it differs from.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.registries import statements
from kvit.registries.models import BankStatement, Registry, StatementCredit
from kvit.registries.problems import describe, problem_data
from kvit.registries.turns import take_turn
from kvit.tenants.models import Tenant

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
Order = tuple[str, date, str]  # payment order number, date, the bank's INN ("": any bank)


class Check(StrEnum):
    MATCHED = "matched"
    DIFFERS = "differs"
    AWAITED = "awaited"
    NONE = "none"  # no payment order in the footer


@dataclass(frozen=True)
class Match:
    """A registry's check: the distinct credits of its payment order and what the order's
    registries add up to."""

    check: Check
    credits: tuple[StatementCredit, ...] = ()
    transferred: Decimal = ZERO

    @property
    def text(self) -> str:
        if self.check is Check.NONE:
            return _("Not checked: the registry names no payment order.")
        if self.check is Check.AWAITED:
            return _("Awaited: no imported bank statement holds the payment order yet.")
        amounts = ", ".join(str(credit.amount) for credit in self.credits)
        if self.check is Check.MATCHED:
            return _("Matched: the bank statement credits %(amounts)s.") % {"amounts": amounts}
        return _(
            "Differs: the bank statement credits %(amounts)s for the payment order; its "
            "registries say %(transferred)s was transferred."
        ) % {"amounts": amounts, "transferred": self.transferred}


@dataclass(frozen=True)
class ImportedStatement:
    """What `import_statement` did: the statement (or the one imported before from the same
    file), and the registries its credits matched or differ from, with their checks."""

    statement: BankStatement
    already_imported: bool = False
    checked: dict[Check, list[tuple[Registry, Match]]] = field(default_factory=dict)


def import_statement(
    tenant: Tenant, content: bytes, file_name: str, user: Any = None
) -> ImportedStatement:
    """Keep a bank statement and its credits (see the module doc)."""
    sha256 = hashlib.sha256(content).hexdigest()
    earlier = BankStatement.objects.filter(tenant=tenant, sha256=sha256).first()
    if earlier is not None:
        return ImportedStatement(earlier, already_imported=True)
    read = statements.read_statement(content)
    if read.rejected:
        raise ValidationError([describe(problem) for problem in read.problems], code="statement")
    statement = BankStatement(
        tenant=tenant,
        file_name=posixpath.basename(file_name.replace("\\", "/"))[:255] or "statement",
        sha256=sha256,
        imported_by=user if getattr(user, "pk", None) else None,
        starts_on=read.starts_on,
        ends_on=read.ends_on,
        accounts=", ".join(read.accounts)[:255],
        credits=len(read.credits),
        amount=sum((credit.amount for credit in read.credits), ZERO),
        debits=read.debits,
        problems=[problem_data(problem) for problem in read.problems],
    )
    statement.keep(content)  # a statement is append-only: its file before its row
    try:
        with transaction.atomic():
            take_turn(tenant.pk)
            statement.imported_at = timezone.now()
            statement.save()
            StatementCredit.objects.bulk_create(
                _credit(statement, credit) for credit in read.credits
            )
            orders = {(credit.number[:64], credit.dated) for credit in read.credits}
            concerned = [
                registry
                for registry in _with_orders(tenant.pk, orders)
                if (registry.order_number, registry.order_date) in orders
            ]
            found = matches(concerned)
    except BaseException as error:
        statement.file.delete(save=False)  # its row never committed
        if isinstance(error, IntegrityError):  # a race with the same file?
            earlier = BankStatement.objects.filter(tenant=tenant, sha256=sha256).first()
            if earlier is not None:
                return ImportedStatement(earlier, already_imported=True)
        raise
    checked: dict[Check, list[tuple[Registry, Match]]] = defaultdict(list)
    for registry in concerned:
        match = found[registry.pk]
        if match.check in (Check.MATCHED, Check.DIFFERS):
            checked[match.check].append((registry, match))
    return ImportedStatement(statement, checked=dict(checked))


def _credit(statement: BankStatement, credit: statements.Credit) -> StatementCredit:
    return StatementCredit(
        statement=statement,
        tenant_id=statement.tenant_id,
        line=credit.line,
        kind=credit.kind[:100],
        number=credit.number[:64],
        dated=credit.dated,
        amount=credit.amount,
        received_on=credit.received_on,
        payer_name=credit.payer_name[:255],
        payer_inn=credit.payer_inn[:12],
        payer_account=credit.payer_account[:34],
        recipient_account=credit.recipient_account[:34],
        purpose=credit.purpose,
    )


def _with_orders(tenant_id: int, orders: Iterable[tuple[str, date]]) -> QuerySet[Registry]:
    """The imported registries that may have one of these payment orders (a superset: those
    of the orders' dates, which a statement has a few of, where its order numbers may be
    thousands — more than SQLite takes as parameters)."""
    return Registry.objects.filter(
        tenant_id=tenant_id,
        status=Registry.Status.IMPORTED,
        order_date__in={day for _number, day in orders},
    )


def _order(registry: Registry) -> Order | None:
    if not registry.order_number or registry.order_date is None:
        return None
    if registry.footer_transferred is None:
        return None
    return (registry.order_number, registry.order_date, registry.bank_inn)


def matches(registries: Sequence[Registry]) -> dict[int, Match]:
    """Each registry's check (three queries per organisation)."""
    by_tenant: dict[int, list[Registry]] = defaultdict(list)
    for registry in registries:
        by_tenant[registry.tenant_id].append(registry)
    found: dict[int, Match] = {}
    for tenant_id, theirs in by_tenant.items():
        orders = {registry.pk: _order(registry) for registry in theirs}
        keys = {(order[0], order[1]) for order in orders.values() if order}
        totals = _transferred(tenant_id, keys)
        credits = _credits(tenant_id, keys)
        for pk, order in orders.items():
            found[pk] = (
                Match(Check.NONE) if order is None else _match(order, totals[order], credits)
            )
    return found


def registries_checked_as(check: Check, registries: QuerySet[Registry]) -> QuerySet[Registry]:
    """Those of `registries` whose check is `check` (the back-office's filter: registries
    are a few a day, so their checks are worked out here, as `matches` does)."""
    ordered = list(registries.filter(status=Registry.Status.IMPORTED).exclude(order_number=""))
    found = matches(ordered)
    return registries.filter(pk__in=[pk for pk, match in found.items() if match.check is check])


def overpaid(tenant_id: int, order: Order, transferred: Decimal) -> tuple[StatementCredit, ...]:
    """The bank's credits of the payment order when the order's imported registries with
    `transferred` more would add up to more than any of them (a registry to reject), else
    () — also when the bank is not named."""
    number, day, bank_inn = order
    if not bank_inn:
        return ()
    keys = {(number, day)}
    total = _transferred(tenant_id, keys)[order] + transferred
    match = _match(order, total, _credits(tenant_id, keys))
    if match.check is Check.DIFFERS and all(total > credit.amount for credit in match.credits):
        return match.credits
    return ()


def _transferred(tenant_id: int, keys: set[tuple[str, date]]) -> defaultdict[Order, Decimal]:
    """What the imported registries of each payment order say was transferred by it: their
    footers, less their lines received before (a registry sent again, also as other bytes,
    adds nothing)."""
    totals: defaultdict[Order, Decimal] = defaultdict(lambda: ZERO)
    if not keys:
        return totals
    rows = (
        _with_orders(tenant_id, keys)
        .filter(footer_transferred__isnull=False)
        .values_list("order_number", "order_date", "bank_inn")
        .annotate(total=Sum(F("footer_transferred") - F("duplicate_transferred")))
        .order_by()
    )
    for number, day, bank_inn, total in rows:
        totals[(number, day, bank_inn)] = Decimal(total).quantize(CENT)  # SQLite: 198
    return totals


def _credits(
    tenant_id: int, keys: set[tuple[str, date]]
) -> dict[tuple[str, date], list[StatementCredit]]:
    """The statements' credits of these payment orders."""
    found: dict[tuple[str, date], list[StatementCredit]] = defaultdict(list)
    if not keys:
        return found
    wanted = Q()
    for number, day in keys:
        wanted |= Q(number=number, dated=day)
    for credit in StatementCredit.objects.filter(wanted, tenant_id=tenant_id).order_by("pk"):
        found[(credit.number, credit.dated)].append(credit)
    return found


def _distinct(credits: Iterable[StatementCredit]) -> list[StatementCredit]:
    """A credit kept by several statements once (the first)."""
    seen: dict[tuple[Any, ...], StatementCredit] = {}
    for credit in credits:
        key = (credit.number, credit.dated, credit.amount, credit.payer_inn, credit.received_on)
        seen.setdefault(key, credit)
    return list(seen.values())


def _match(
    order: Order, transferred: Decimal, credits: dict[tuple[str, date], list[StatementCredit]]
) -> Match:
    number, day, bank_inn = order
    ours = _distinct(
        credit
        for credit in credits.get((number, day), ())
        if not bank_inn or credit.payer_inn == bank_inn
    )
    if not ours:
        return Match(Check.AWAITED, transferred=transferred)
    same = tuple(credit for credit in ours if credit.amount == transferred)
    if same:
        return Match(Check.MATCHED, same, transferred)
    return Match(Check.DIFFERS, tuple(ours), transferred)
