"""What a report covers (an organisation, optionally one hierarchy node's subtree and one
provider) and the SQL the reports share: the scope's entries with reversals resolved, and
the account's address and payer.

The reports sum in the database with hand-written SQL (the aggregates the ORM would write
are nested three levels deep); the table names come from the models' metadata and every
value is a query parameter, except the ledger's own kind codes, which are constants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q

from kvit.accounts.models import Account, Contract
from kvit.ledger.models import CENT, LedgerEntry
from kvit.people.models import Person
from kvit.premises.models import Building, Premise
from kvit.providers.models import Provider
from kvit.tenants.models import HierarchyNode, Tenant

_CODE = re.compile(r"[a-z_]+")
ZERO = Decimal("0.00")
FETCH = 2_000
"""Rows per round trip: a report streams from a server-side cursor, never held whole."""


def money_reader() -> Callable[[Sequence[Any]], Sequence[Decimal]]:
    """How this database's sums read as money (asked once per report, not per row).
    PostgreSQL's sums of numeric(14, 2) are exact Decimals already; SQLite sums decimals as
    floats, exact to the kopeck once rounded."""
    if connection.vendor == "postgresql":
        return _exact
    return _rounded


def _exact(sums: Sequence[Any]) -> Sequence[Decimal]:
    return sums


def _rounded(sums: Sequence[Any]) -> Sequence[Decimal]:
    return [Decimal(str(value)).quantize(CENT) for value in sums]


def table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def literal(code: str) -> str:
    """A constant code of ours (a ledger kind, a column name) as an SQL string literal."""
    if not _CODE.fullmatch(code):
        raise ValueError(f"not a code: {code!r}")
    return f"'{code}'"


def codes(values: Any) -> str:
    return ", ".join(literal(str(value)) for value in values)


@dataclass(frozen=True, slots=True)
class Scope:
    """The entries a report reads: of `tenant`; of the accounts under `node` (the account's
    own node or its premise's, as the bill run's `--node` scope); of `provider` only."""

    tenant: Tenant
    node: HierarchyNode | None = None
    provider: Provider | None = None

    def __post_init__(self) -> None:
        for name in ("node", "provider"):
            found = getattr(self, name)
            if found is not None and found.tenant_id != self.tenant.pk:
                raise ValueError(f"the {name} {found} belongs to another organisation")

    def account_filter(self, column: str) -> tuple[str, list[Any]]:
        """SQL restricting `column` (an account id) to the node's accounts; '' without a
        node. Built by the ORM, with the bill run's rule for a node's accounts."""
        if self.node is None:
            return "", []
        accounts = Account.objects.filter(tenant=self.tenant).filter(
            Q(node__path__startswith=self.node.path)
            | Q(premise__node__path__startswith=self.node.path)
        )
        sql, params = accounts.order_by().values("pk").query.sql_with_params()
        return f" AND {column} IN ({sql})", list(params)

    def entry_filter(self, alias: str) -> tuple[str, list[Any]]:
        """SQL (and its parameters) for the entries of the scope, `alias` being the entry
        table: the tenant, the node's accounts, the provider."""
        sql = f"{alias}.tenant_id = %s"
        params: list[Any] = [self.tenant.pk]
        if self.provider is not None:
            sql += f" AND {alias}.provider_id = %s"
            params.append(self.provider.pk)
        accounts, more = self.account_filter(f"{alias}.account_id")
        return sql + accounts, params + more


def scope_entries(
    scope: Scope,
    columns: str,
    column_params: list[Any],
    where: str = "",
    where_params: list[Any] | None = None,
) -> tuple[str, list[Any]]:
    """SELECT `columns` FROM the scope's entries `e` that satisfy `where`, as a UNION ALL of
    two branches: entries other than reversals, with `{kind}` = their kind and `{original}`
    = their amount; and reversals, with `{kind}` = the kind of the entry they reverse and
    `{original}` = the reversed amount (a reversal is the exact negation). The reversals
    are found through the partial unique index on `corrects` (`ledger_entry_reversed_once`)
    and joined by primary key, so a scan of the entries does not join the ledger to itself.

    Each branch takes `column_params` (the select list's placeholders), then the scope's,
    then `where_params`.
    """
    entries = table(LedgerEntry)
    scoped, scope_params = scope.entry_filter("e")
    condition = f"{scoped} AND {where}" if where else scoped
    reversal = literal(LedgerEntry.Kind.REVERSAL)
    plain = columns.format(kind="e.kind", original="e.amount")
    reversed_ = columns.format(kind="c.kind", original="-e.amount")
    sql = (
        f"SELECT {plain} FROM {entries} e WHERE {condition} AND e.kind <> {reversal} "  # noqa: S608
        f"UNION ALL SELECT {reversed_} FROM {entries} e "
        f"JOIN {entries} c ON c.id = e.corrects_id WHERE {condition} AND e.kind = {reversal}"
    )
    branch = [*column_params, *scope_params, *(where_params or [])]
    return sql, [*branch, *branch]


# --- the account's address and payer ----------------------------------------------------------

LABEL_COLUMNS = (
    "a.number, a.premise_id, b.address, p.number, "
    "pp.last_name, pp.first_name, pp.middle_name, ct.organisation_name"
)
"""The account's columns `account_label` reads, in its order."""
LABEL_SIZE = 8


def label_joins() -> str:
    """The joins from the account `a` to its premise `p`, building `b`, payer `pp` and
    contract `ct` (each optional)."""
    return (
        f"LEFT JOIN {table(Premise)} p ON p.id = a.premise_id "
        f"LEFT JOIN {table(Building)} b ON b.id = p.building_id "
        f"LEFT JOIN {table(Person)} pp ON pp.id = a.payer_id "
        f"LEFT JOIN {table(Contract)} ct ON ct.account_id = a.id"
    )


@dataclass(frozen=True, slots=True)
class AccountLabel:
    number: str
    address: str
    payer: str


def account_label(values: tuple[Any, ...] | list[Any]) -> AccountLabel:
    """The account number, the premise's address ("building address, premise number", as
    `Premise.__str__`) and the payer (the payer person, else the contract's organisation)."""
    number, premise, street, flat, last, first, middle, organisation = values
    address = f"{street}, {flat}" if premise is not None else ""
    person = " ".join(part for part in (last, first, middle) if part)
    return AccountLabel(number=number, address=address, payer=person or organisation or "")
