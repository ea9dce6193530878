"""Registries checked against bank statements (spec 6.2): the amount a registry's footer
says was transferred is the credit the bank statement shows for its payment order.

* **A statement** (`import_statement`, 1C client-bank exchange format,
  `kvit.registries.statements`) is kept with its credits, once per file; documents that
  cannot be read are reported and the others kept. A file that is not a statement, or is
  truncated, is refused whole (ValidationError, nothing recorded).
* **The check** (`matches`) pairs a registry with the credits of the same payment order
  (number and date; of the format's bank when its INN is set): *matched* when one of them
  is the amount transferred, *differs* when none is, *awaited* while no imported statement
  holds the order; a registry without a payment order in its footer is not checked.
* **At import** a registry whose payment order is in a statement already and differs is
  rejected whole (`import_registry` calls `differing_credits` before posting anything). One
  imported before its statement is checked when the statement comes: the statement's import
  lists the registries it matched and those it differs from, and each registry shows its
  check from then on.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from kvit.registries import statements
from kvit.registries.models import BankStatement, Registry, StatementCredit
from kvit.registries.problems import describe, problem_data
from kvit.tenants.models import Tenant


class Check(StrEnum):
    MATCHED = "matched"
    DIFFERS = "differs"
    AWAITED = "awaited"
    NONE = "none"  # no payment order in the footer


@dataclass(frozen=True)
class Match:
    """A registry's check against the statements' credits of its payment order."""

    check: Check
    credits: tuple[StatementCredit, ...] = ()

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
            "Differs: the bank statement credits %(amounts)s for the payment order, not the "
            "amount transferred."
        ) % {"amounts": amounts}


@dataclass(frozen=True)
class ImportedStatement:
    """What `import_statement` did: the statement (or the one imported before from the same
    file), and the registries its credits matched or differ from."""

    statement: BankStatement
    already_imported: bool = False
    checked: dict[Check, list[Registry]] = field(default_factory=dict)


def import_statement(
    tenant: Tenant, content: bytes, file_name: str, user: Any = None
) -> ImportedStatement:
    """Keep a bank statement and its credits (see the module doc)."""
    read = statements.read_statement(content)
    if read.rejected:
        raise ValidationError([describe(problem) for problem in read.problems], code="statement")
    sha256 = hashlib.sha256(content).hexdigest()
    statement = BankStatement(
        tenant=tenant,
        file_name=posixpath.basename(file_name.replace("\\", "/"))[:255] or "statement",
        sha256=sha256,
        imported_at=timezone.now(),
        imported_by=user if getattr(user, "pk", None) else None,
        starts_on=read.starts_on,
        ends_on=read.ends_on,
        accounts=", ".join(read.accounts)[:255],
        credits=len(read.credits),
        amount=sum((credit.amount for credit in read.credits), Decimal("0.00")),
        debits=read.debits,
        problems=[problem_data(problem) for problem in read.problems],
    )
    try:
        with transaction.atomic():
            statement.save()
            StatementCredit.objects.bulk_create(
                _credit(statement, credit) for credit in read.credits
            )
    except IntegrityError:
        earlier = BankStatement.objects.filter(tenant=tenant, sha256=sha256).first()
        if earlier is None:
            raise
        return ImportedStatement(earlier, already_imported=True)
    orders = {(credit.number[:64], credit.dated) for credit in read.credits}
    concerned = [
        registry
        for registry in Registry.objects.filter(
            tenant=tenant,
            status=Registry.Status.IMPORTED,
            order_number__in={number for number, _day in orders},
            order_date__in={day for _number, day in orders},
        )
        if (registry.order_number, registry.order_date) in orders
    ]
    checked: dict[Check, list[Registry]] = defaultdict(list)
    found = matches(concerned)
    for registry in concerned:
        if found[registry.pk].check in (Check.MATCHED, Check.DIFFERS):
            checked[found[registry.pk].check].append(registry)
    return ImportedStatement(statement, checked=dict(checked))


def _credit(statement: BankStatement, credit: statements.Credit) -> StatementCredit:
    return StatementCredit(
        statement=statement,
        tenant_id=statement.tenant_id,
        line=credit.line,
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


def _credits_of(
    tenant_id: int, orders: set[tuple[str, date]]
) -> dict[tuple[str, date], list[StatementCredit]]:
    found: dict[tuple[str, date], list[StatementCredit]] = defaultdict(list)
    if not orders:
        return found
    wanted = Q()
    for number, day in orders:
        wanted |= Q(number=number, dated=day)
    for credit in StatementCredit.objects.filter(wanted, tenant_id=tenant_id).order_by("pk"):
        found[(credit.number, credit.dated)].append(credit)
    return found


def matches(registries: Sequence[Registry]) -> dict[int, Match]:
    """Each registry's check (one query per organisation)."""
    by_tenant: dict[int, list[Registry]] = defaultdict(list)
    for registry in registries:
        by_tenant[registry.tenant_id].append(registry)
    found: dict[int, Match] = {}
    for tenant_id, theirs in by_tenant.items():
        credits = _credits_of(
            tenant_id,
            {(r.order_number, r.order_date) for r in theirs if r.order_number and r.order_date},
        )
        for registry in theirs:
            found[registry.pk] = _match(
                registry.order_number,
                registry.order_date,
                registry.footer_transferred,
                registry.bank_inn,
                credits,
            )
    return found


def checked_as(check: Check) -> Q:
    """A filter of the imported registries whose check is `check` (not `NONE`)."""
    ours = StatementCredit.objects.filter(
        Q(payer_inn=OuterRef("bank_inn")) | Exact(OuterRef("bank_inn"), Value("")),
        tenant=OuterRef("tenant"),
        number=OuterRef("order_number"),
        dated=OuterRef("order_date"),
    )
    same = Exists(ours.filter(amount=OuterRef("footer_transferred")))
    ordered = Q(
        status=Registry.Status.IMPORTED, order_date__isnull=False, footer_transferred__isnull=False
    ) & ~Q(order_number="")
    if check is Check.MATCHED:
        return ordered & Q(same)
    if check is Check.DIFFERS:
        return ordered & Q(Exists(ours)) & ~Q(same)
    return ordered & ~Q(Exists(ours))


def differing_credits(
    tenant_id: int, number: str, day: date | None, transferred: Decimal | None, bank_inn: str
) -> tuple[StatementCredit, ...]:
    """The statements' credits of the payment order when none is `transferred` (a registry
    to reject), else ()."""
    if not number or day is None or transferred is None:
        return ()
    match = _match(number, day, transferred, bank_inn, _credits_of(tenant_id, {(number, day)}))
    return match.credits if match.check is Check.DIFFERS else ()


def _match(
    number: str,
    day: date | None,
    transferred: Decimal | None,
    bank_inn: str,
    credits: dict[tuple[str, date], list[StatementCredit]],
) -> Match:
    if not number or day is None or transferred is None:
        return Match(Check.NONE)
    ours = tuple(
        credit
        for credit in credits.get((number, day), ())
        if not bank_inn or credit.payer_inn == bank_inn
    )
    if not ours:
        return Match(Check.AWAITED)
    same = tuple(credit for credit in ours if credit.amount == transferred)
    return Match(Check.MATCHED, same) if same else Match(Check.DIFFERS, ours)
