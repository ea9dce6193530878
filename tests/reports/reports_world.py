"""A small organisation for the report tests, and ledgers drawn by Hypothesis and posted
through the ledger's actions (`post_entries`, `reverse_entry`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from hypothesis import strategies as st

from kvit.ledger.actions import open_period, post_entries, reverse_entry
from kvit.ledger.models import LedgerEntry

PERIODS = (date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1))
FIRST_DAY, LAST_DAY = date(2023, 12, 20), date(2024, 5, 10)
"""Entries are posted between these days; statements look from a bit before to after."""


@dataclass
class World:
    """An organisation with two districts under a region, two buildings, five accounts
    (four households with payers, one legal contract without a premise), two providers
    and two services; January to April 2024 open."""

    tenant: Any
    region: Any
    north: Any
    south: Any
    accounts: list[Any]
    providers: list[Any]
    services: list[Any]
    user: Any


def build_world(make: Any) -> World:
    from kvit.accounts.models import Account, Contract

    tenant = make.tenant()
    region = make.node(tenant, kind="region", name="Region")
    north = make.node(tenant, region, name="North")
    south = make.node(tenant, region, name="South")
    first = make.building(tenant, address="Lenina st. 1")
    second = make.building(tenant, address="Mira st. 2")
    accounts = [
        make.account(make.premise(first, node=north), payer=make.person(tenant)),
        make.account(make.premise(first, node=north), payer=make.person(tenant)),
        make.account(make.premise(second), payer=make.person(tenant), node=south),
        make.account(make.premise(second), payer=make.person(tenant)),
    ]
    legal = Account(
        tenant=tenant,
        number="L-0001",
        consumer_kind=Account.ConsumerKind.LEGAL,
        opened_on=date(2020, 1, 1),
    )
    legal.full_clean()
    legal.save()
    Contract.objects.create(
        account=legal,
        number="C-1",
        signed_on=date(2020, 1, 1),
        organisation_name="Horns and Hoofs LLC",
        inn="7707083893",
        kpp="773601001",
    )
    accounts.append(legal)
    providers = [make.provider(tenant, name="Water Co"), make.provider(tenant, name="Heat Co")]
    services = [
        make.service(tenant, name="Cold water"),
        make.service(tenant, name="Heating", code="heat", method="per_area"),
    ]
    for period in PERIODS:
        open_period(tenant, period)
    return World(
        tenant=tenant,
        region=region,
        north=north,
        south=south,
        accounts=accounts,
        providers=providers,
        services=services,
        user=make.user(tenant, "accountant"),
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run a Hypothesis example in a savepoint and undo it afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- drawn ledgers ----------------------------------------------------------------------------

# (kind, sign): +1 adds to the debt, −1 reduces it, 0 either way (spec 1.9's convention).
KINDS = (
    ("charge", 1),
    ("recalculation", 0),
    ("quality_reduction", -1),
    ("benefit", -1),
    ("penalty", 1),
    ("payment", -1),
    ("write_off", -1),
    ("transfer", 0),
    ("opening_balance", 0),
)
DAYS = (LAST_DAY - FIRST_DAY).days


@dataclass(frozen=True)
class Post:
    account: int
    provider: int
    service: int | None
    kind: str
    sign: int
    cents: int
    day: int
    period: int
    penalty_rule: bool
    corrects_back: int  # months back for corrects_period; 0: none


@dataclass(frozen=True)
class Reverse:
    target: int  # index into the entries posted so far
    day: int


def drawn_operations(accounts: int = 5, most: int = 14) -> st.SearchStrategy[list[Any]]:
    """Lists of postings and reversals on the first `accounts` accounts."""
    posts = st.builds(
        Post,
        account=st.integers(0, accounts - 1),
        provider=st.integers(0, 1),
        service=st.one_of(st.none(), st.integers(0, 1)),
        kind=st.sampled_from([kind for kind, _sign in KINDS]),
        sign=st.sampled_from([1, -1]),
        cents=st.integers(1, 5_000_000),
        day=st.integers(0, DAYS),
        period=st.integers(0, len(PERIODS) - 1),
        penalty_rule=st.booleans(),
        corrects_back=st.sampled_from([0, 0, 0, 1, 2, 13, 40]),
    )
    reversals = st.builds(Reverse, target=st.integers(0, 1_000), day=st.integers(0, DAYS))
    return st.lists(st.one_of(posts, posts, posts, reversals), min_size=1, max_size=most)


operations = drawn_operations()
days = st.integers(-15, DAYS + 25).map(lambda offset: FIRST_DAY + timedelta(days=offset))


def months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def post_operations(world: World, drawn: list[Post | Reverse]) -> list[LedgerEntry]:
    """Post the drawn operations through the ledger's actions; the entries posted."""
    posted: list[LedgerEntry] = []
    for operation in drawn:
        if isinstance(operation, Reverse):
            candidates = [
                entry
                for entry in posted
                if entry.kind != LedgerEntry.Kind.REVERSAL
                and not entry.corrections.filter(kind=LedgerEntry.Kind.REVERSAL).exists()
            ]
            if candidates:
                target = candidates[operation.target % len(candidates)]
                day = FIRST_DAY + timedelta(days=operation.day)
                posted.append(reverse_entry(target, world.user, "test", posted_on=day))
            continue
        sign = dict(KINDS)[operation.kind] or operation.sign
        period = PERIODS[operation.period]
        back = operation.corrects_back
        penalty_payment = operation.kind == "payment" and operation.penalty_rule
        (entry,) = post_entries(
            [
                LedgerEntry(
                    tenant=world.tenant,
                    account=world.accounts[operation.account],
                    provider=world.providers[operation.provider],
                    service=(
                        None if operation.service is None else world.services[operation.service]
                    ),
                    period=period,
                    posted_on=FIRST_DAY + timedelta(days=operation.day),
                    kind=operation.kind,
                    amount=Decimal(sign * operation.cents) / 100,
                    rule="penalty" if penalty_payment else "",
                    corrects_period=months_back(period, back) if back else None,
                )
            ]
        )
        posted.append(entry)
    return posted
