"""The turnover statement (spec 5.4) against the ledger: every row keeps the invariant and
equals the engine's row over the same entries, the closing balances are the ledger's
balances, subtotals and the total add up, and both ways of summing agree."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Q
from hypothesis import given, settings
from hypothesis import strategies as st
from reports_world import World, days, operations, post_operations, rolled_back

from kvit.core.statements import Entry, EntryKind, TurnoverRow, turnover_row
from kvit.ledger.actions import post_entries, post_rows, reverse_entry
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance
from kvit.reports.turnover import (
    COLUMNS,
    GROUP_BY,
    PENALTY_RULE,
    Figures,
    Row,
    StatementMismatch,
    Subtotal,
    Total,
    turnover,
)

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")


# --- the oracle: the engine's turnover_row over the entries, in Python ------------------------


def engine_kind(kind: str, rule: str) -> EntryKind:
    if kind == LedgerEntry.Kind.PAYMENT and rule == PENALTY_RULE:
        return EntryKind.PENALTY_PAYMENT
    return EntryKind(kind)


def in_scope(world: World, account: Any, scope: str) -> bool:
    if scope in ("all", "provider"):
        return True
    node = world.north if scope == "north" else world.region
    nodes = [account.node, account.premise.node if account.premise else None]
    return any(found is not None and found.path.startswith(node.path) for found in nodes)


def expected_rows(
    world: World, date_from: date, date_to: date, group_by: str, scope: str
) -> dict[tuple[int, int | None], TurnoverRow]:
    """The rows the statement must have, keyed by (account id, provider or service id),
    computed by the engine from the entries read with the ORM."""
    accounts = {account.pk: account for account in world.accounts}
    opening: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    closing: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    moves: dict[tuple[int, int | None], list[Entry]] = defaultdict(list)
    entries = LedgerEntry.objects.filter(tenant=world.tenant).select_related("corrects")
    for entry in entries.order_by("id"):
        if not in_scope(world, accounts[entry.account_id], scope):
            continue
        if scope == "provider" and entry.provider_id != world.providers[0].pk:
            continue
        group = {"provider": entry.provider_id, "service": entry.service_id}.get(group_by)
        key = (entry.account_id, group)
        if entry.posted_on > date_to:
            continue
        closing[key] += entry.amount
        original = entry.corrects if entry.kind == LedgerEntry.Kind.REVERSAL else entry
        assert original is not None
        if entry.posted_on < date_from or original.kind == LedgerEntry.Kind.OPENING_BALANCE:
            opening[key] += entry.amount
            if entry.posted_on < date_from:
                continue
        else:
            kind = engine_kind(original.kind, original.rule)
            reversal = entry.kind == LedgerEntry.Kind.REVERSAL
            moves[key].append(
                Entry(
                    day=entry.posted_on,
                    document=str(entry.pk),
                    kind=EntryKind.REVERSAL if reversal else kind,
                    amount=entry.amount,
                    reverses=kind if reversal else None,
                )
            )
        moves.setdefault(key, [])
    rows = {}
    for key in closing:
        if moves[key] or opening[key] or closing[key]:
            rows[key] = turnover_row(str(key), opening[key], moves[key])
            assert rows[key].closing == closing[key]
    return rows


def keeps_the_invariant(figures: Figures) -> bool:
    """Spec 5.4: closing_net = opening_net + charged + recalculations − benefits + penalties
    − paid_principal − paid_penalties − write_offs (benefits, payments, write-offs positive)."""
    return figures.closing == (
        figures.opening
        + figures.charged
        + figures.recalculations
        - figures.benefits
        + figures.penalties
        - figures.paid_principal
        - figures.paid_penalties
        - figures.write_offs
    )


def summed(lines: list[Any]) -> Figures:
    values = [ZERO] * 11
    for line in lines:
        for index, name in enumerate(Figures.__dataclass_fields__):
            values[index] += getattr(line.figures, name)
    return Figures(*values)


def check_statement(
    world: World, date_from: date, date_to: date, group_by: Any, scope: str
) -> list[Any]:
    node = {"north": world.north, "region": world.region}.get(scope)
    provider = world.providers[0] if scope == "provider" else None
    forward = list(
        turnover(
            world.tenant,
            date_from,
            date_to,
            group_by=group_by,
            node=node,
            provider=provider,
            method="forward",
        )
    )
    backward = list(
        turnover(
            world.tenant,
            date_from,
            date_to,
            group_by=group_by,
            node=node,
            provider=provider,
            method="backward",
        )
    )
    assert forward == backward

    rows = [line for line in forward if isinstance(line, Row)]
    expected = expected_rows(world, date_from, date_to, group_by, scope)
    found = {}
    for row in rows:
        assert keeps_the_invariant(row.figures)
        key = row.group.key if group_by in ("provider", "service") and row.group else None
        found[(row.account_id, key)] = row.figures
    assert found == {key: Figures.of(row) for key, row in expected.items()}

    # Print order: groups one after another, each closed by its subtotal; the total last.
    total = forward[-1]
    assert isinstance(total, Total)
    assert total.rows == len(rows)
    assert total.figures == summed(rows)
    assert keeps_the_invariant(total.figures)
    if group_by == "account":
        assert all(isinstance(line, Row) and line.group is None for line in forward[:-1])
        assert [row.account for row in rows] == sorted(row.account for row in rows)
    else:
        pending: list[Row] = []
        seen = set()
        for line in forward[:-1]:
            if isinstance(line, Row):
                assert not pending or line.group == pending[0].group
                pending.append(line)
            else:
                assert isinstance(line, Subtotal)
                assert pending and line.group == pending[0].group
                assert line.group.key not in seen
                seen.add(line.group.key)
                assert (line.rows, line.figures) == (len(pending), summed(pending))
                assert keeps_the_invariant(line.figures)
                assert [r.account for r in pending] == sorted(r.account for r in pending)
                pending = []
        assert pending == []
    return forward


# --- properties -------------------------------------------------------------------------------


def brought_over(world: World) -> Any:
    """The opening balances brought over and their reversals: opening, wherever posted."""
    opening = LedgerEntry.Kind.OPENING_BALANCE
    return LedgerEntry.objects.filter(tenant=world.tenant).filter(
        Q(kind=opening) | Q(kind=LedgerEntry.Kind.REVERSAL, corrects__kind=opening)
    )


def test_the_statement_agrees_with_the_ledger_on_any_postings(world: World) -> None:
    @settings(max_examples=25, deadline=None)
    @given(
        drawn=operations,
        bounds=st.tuples(days, days).map(sorted),
        scope=st.sampled_from(["all", "all", "north", "region", "provider"]),
    )
    def check(drawn: list[Any], bounds: list[date], scope: str) -> None:
        with rolled_back():
            post_operations(world, drawn)
            date_from, date_to = bounds
            for group_by in GROUP_BY:
                statement = check_statement(world, date_from, date_to, group_by, scope)
            if scope == "all":
                # The grand total's closing balance is the ledger's, account by account.
                ledger = sum((balance(account, date_to) for account in world.accounts), Decimal(0))
                assert statement[-1].figures.closing == ledger
                before = date_from - timedelta(days=1)
                brought = brought_over(world).filter(posted_on__range=(date_from, date_to))
                opening = sum(
                    (balance(account, before) for account in world.accounts), Decimal(0)
                ) + sum((entry.amount for entry in brought), Decimal(0))
                assert statement[-1].figures.opening == opening

    check()


def test_consecutive_statements_chain(world: World) -> None:
    """One statement's closing balances are the next one's opening balances."""

    @settings(max_examples=10, deadline=None)
    @given(drawn=operations, cut=days)
    def check(drawn: list[Any], cut: date) -> None:
        with rolled_back():
            post_operations(world, drawn)
            if brought_over(world).filter(posted_on__gt=cut).exists():
                return  # an opening balance posted later counts as opening, not as a movement
            first = list(turnover(world.tenant, date(2023, 1, 1), cut))
            second = list(turnover(world.tenant, cut + timedelta(days=1), date(2025, 1, 1)))
            closing = {line.account_id: line.figures.closing for line in first[:-1]}
            opening = {line.account_id: line.figures.opening for line in second[:-1]}
            assert {k: v for k, v in closing.items() if v} == {
                k: v for k, v in opening.items() if v
            }

    check()


# --- examples ---------------------------------------------------------------------------------


def post(world: World, account: int = 0, **fields: Any) -> LedgerEntry:
    fields = {
        "tenant": world.tenant,
        "account": world.accounts[account],
        "provider": world.providers[0],
        "service": world.services[0],
        "period": date(2024, 3, 1),
        "kind": "charge",
        **fields,
    }
    (entry,) = post_entries([LedgerEntry(**fields)])
    return entry


def only_row(lines: list[Any]) -> Row:
    rows = [line for line in lines if isinstance(line, Row)]
    assert len(rows) == 1
    return rows[0]


def test_example_25_turnover_row(world: World) -> None:
    """Spec example 25: the turnover statement row of account 1002003, March to May 2025,
    posted through the ledger (the spec's 2025 dates moved to 2024's open periods)."""
    post(world, period=date(2024, 1, 1), posted_on=date(2024, 2, 28), amount=Decimal("1250.00"))
    for day, kind, amount, rule in [
        (date(2024, 3, 10), "payment", "-1250.00", ""),
        (date(2024, 3, 31), "charge", "5483.66", ""),
        (date(2024, 4, 30), "charge", "5350.37", ""),
        (date(2024, 4, 30), "recalculation", "-185.08", ""),
        (date(2024, 5, 12), "payment", "-7000.00", ""),
        (date(2024, 5, 31), "charge", "5412.90", ""),
    ]:
        post(world, posted_on=day, kind=kind, amount=Decimal(amount), rule=rule)
    row = only_row(list(turnover(world.tenant, date(2024, 3, 1), date(2024, 5, 31))))
    figures = row.figures
    assert (figures.opening_debit, figures.opening_credit) == (Decimal("1250.00"), ZERO)
    assert figures.charged == Decimal("16246.93")
    assert figures.recalculations == Decimal("-185.08")
    assert figures.paid_principal == Decimal("8250.00")
    assert (figures.closing_debit, figures.closing_credit) == (Decimal("9061.85"), ZERO)
    assert row.account == world.accounts[0].number
    assert row.address == f"Lenina st. 1, {world.accounts[0].premise.number}"
    assert row.payer == str(world.accounts[0].payer)


def test_every_ledger_kind_has_a_column() -> None:
    kinds = set(LedgerEntry.Kind.values) - {LedgerEntry.Kind.REVERSAL}
    assert kinds <= set(COLUMNS)
    # The engine's kinds (spec 1.9) too, penalty payments included.
    assert set(EntryKind) - {EntryKind.REVERSAL} <= set(COLUMNS)


def test_columns_take_each_kind_and_reversals_take_the_reversed_kind(world: World) -> None:
    day = date(2024, 3, 15)
    post(world, posted_on=day, amount=Decimal("1000.00"))
    post(world, posted_on=day, kind="benefit", amount=Decimal("-100.00"))
    post(world, posted_on=day, kind="quality_reduction", amount=Decimal("-7.00"))
    post(world, posted_on=day, kind="penalty", amount=Decimal("12.34"))
    paid = post(world, posted_on=day, kind="payment", amount=Decimal("-300.00"), service=None)
    post(world, posted_on=day, kind="payment", amount=Decimal("-12.00"), rule=PENALTY_RULE)
    post(world, posted_on=day, kind="write_off", amount=Decimal("-50.00"))
    post(world, posted_on=day, kind="transfer", amount=Decimal("20.00"))
    post(world, posted_on=day, kind="opening_balance", amount=Decimal("500.00"))
    reverse_entry(paid, world.user, "wrong account", posted_on=date(2024, 3, 20))
    figures = only_row(list(turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 31)))).figures
    assert figures == Figures(
        opening_debit=Decimal("500.00"),
        opening_credit=ZERO,
        charged=Decimal("1000.00"),
        recalculations=Decimal("-7.00"),
        benefits=Decimal("100.00"),
        penalties=Decimal("12.34"),
        paid_principal=ZERO,  # paid 300, reversed
        paid_penalties=Decimal("12.00"),
        write_offs=Decimal("30.00"),  # 50 written off, 20 transferred in
        closing_debit=Decimal("1363.34"),
        closing_credit=ZERO,
    )


def test_an_advance_is_in_the_credit_columns(world: World) -> None:
    post(world, posted_on=date(2024, 2, 10), kind="payment", amount=Decimal("-400.00"))
    post(world, posted_on=date(2024, 3, 31), amount=Decimal("150.00"))
    figures = only_row(list(turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 31)))).figures
    assert (figures.opening_debit, figures.opening_credit) == (ZERO, Decimal("400.00"))
    assert (figures.closing_debit, figures.closing_credit) == (ZERO, Decimal("250.00"))


def test_the_posting_date_decides_not_the_period(world: World) -> None:
    """A March charge posted on 2 April is an April movement."""
    post(world, period=date(2024, 3, 1), posted_on=date(2024, 4, 2), amount=Decimal("99.00"))
    march = list(turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 31)))
    april = only_row(list(turnover(world.tenant, date(2024, 4, 1), date(2024, 4, 30))))
    assert march == [Total(rows=0, figures=Figures(*[ZERO] * 11))]
    assert april.figures.charged == Decimal("99.00")


def test_quiet_accounts_are_left_out_and_netted_movements_kept(world: World) -> None:
    post(world, 0, posted_on=date(2024, 1, 5), amount=Decimal("10.00"))
    post(world, 0, posted_on=date(2024, 1, 6), kind="payment", amount=Decimal("-10.00"))
    post(world, 1, posted_on=date(2024, 3, 5), amount=Decimal("10.00"))
    post(world, 1, posted_on=date(2024, 3, 6), kind="payment", amount=Decimal("-10.00"))
    lines = list(turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 31)))
    assert [line.account for line in lines if isinstance(line, Row)] == [world.accounts[1].number]


def test_groups_are_labelled_and_rows_without_a_group_come_last(world: World) -> None:
    day = date(2024, 3, 5)
    post(world, 0, posted_on=day, amount=Decimal("1.00"))
    post(world, 2, posted_on=day, amount=Decimal("2.00"), service=world.services[1])
    post(world, 4, posted_on=day, kind="payment", amount=Decimal("-3.00"), service=None)
    labels = {}
    for group_by in ("building", "service", "node", "provider"):
        lines = list(turnover(world.tenant, day, day, group_by=group_by))
        labels[group_by] = [line.group.label for line in lines if isinstance(line, Subtotal)]
    assert labels == {
        "building": ["Lenina st. 1", "Mira st. 2", ""],  # the legal account has no premise
        "service": ["Cold water", "Heating", ""],  # the unsplit payment
        "node": ["North", "South", ""],
        "provider": ["Water Co"],
    }
    lines = list(turnover(world.tenant, day, day))
    (legal,) = [line for line in lines if isinstance(line, Row) and line.account == "L-0001"]
    assert (legal.account, legal.address, legal.payer) == ("L-0001", "", "Horns and Hoofs LLC")


def test_a_node_or_a_provider_narrows_the_statement(world: World) -> None:
    day = date(2024, 3, 5)
    for index in range(5):
        post(world, index, posted_on=day, amount=Decimal("1.00"))
    post(world, 0, posted_on=day, amount=Decimal("5.00"), provider=world.providers[1])

    def accounts(**scope: Any) -> list[str]:
        lines = turnover(world.tenant, day, day, **scope)
        return [line.account for line in lines if isinstance(line, Row)]

    numbers = [account.number for account in world.accounts]
    assert accounts(node=world.north) == numbers[:2]
    assert accounts(node=world.south) == numbers[2:3]  # the account's own node
    assert accounts(node=world.region) == numbers[:3]
    total = list(turnover(world.tenant, day, day, provider=world.providers[1]))[-1]
    assert (total.rows, total.figures.charged) == (1, Decimal("5.00"))


def test_bad_arguments_are_refused(world: World, make: Any) -> None:
    with pytest.raises(ValueError, match="starts"):
        turnover(world.tenant, date(2024, 3, 2), date(2024, 3, 1))
    with pytest.raises(ValueError, match="group_by"):
        turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 1), group_by="street")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 1), method="sideways")  # type: ignore[arg-type]
    other = make.tenant()
    with pytest.raises(ValueError, match="another organisation"):
        turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 1), node=make.node(other))
    with pytest.raises(ValueError, match="another organisation"):
        turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 1), provider=make.provider(other))


def test_an_entry_of_an_unknown_kind_stops_the_statement(world: World) -> None:
    """A kind the column table does not know would make a row that does not add up."""
    from kvit.ledger.actions import ENTRY_COLUMNS

    row = dict.fromkeys(ENTRY_COLUMNS, "")
    row.update(
        tenant_id=world.tenant.pk,
        account_id=world.accounts[0].pk,
        provider_id=world.providers[0].pk,
        service_id=None,
        period=date(2024, 3, 1),
        posted_on=date(2024, 3, 3),
        kind="mystery",
        amount=Decimal("5.00"),
        quantity=None,
        tariff=None,
        tier=0,
        span_from=None,
        span_to=None,
        explanation="{}",
        corrects_id=None,
        corrects_period=None,
        run_id=None,
        created_by_id=None,
    )
    post_rows(world.tenant.pk, [tuple(row[name] for name in ENTRY_COLUMNS)])
    for method in ("forward", "backward"):
        with pytest.raises(StatementMismatch, match="without a column"):
            list(turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 31), method=method))  # type: ignore[arg-type]


def test_the_statement_is_one_query_whatever_the_number_of_accounts(
    world: World, make: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(5):
        post(world, index, posted_on=date(2024, 3, 1), amount=Decimal("1.00"))
    for _ in range(20):
        account = make.account(make.premise(make.building(world.tenant)))
        post_entries(
            [
                LedgerEntry(
                    tenant=world.tenant,
                    account=account,
                    provider=world.providers[1],
                    period=date(2024, 3, 1),
                    posted_on=date(2024, 3, 2),
                    kind="charge",
                    amount=Decimal("2.00"),
                )
            ]
        )
    for group_by in GROUP_BY:
        with django_assert_max_num_queries(2):  # the posting dates (auto), the statement
            lines = list(
                turnover(world.tenant, date(2024, 3, 1), date(2024, 3, 31), group_by=group_by)
            )
        assert lines[-1].rows == 25


def test_auto_reads_the_shorter_side(world: World) -> None:
    post(world, posted_on=date(2024, 1, 3), period=date(2024, 1, 1), amount=Decimal("1.00"))
    post(world, posted_on=date(2024, 4, 28), period=date(2024, 4, 1), amount=Decimal("1.00"))
    method = {
        (first, last): turnover(world.tenant, first, last).method
        for first, last in [
            (date(2024, 1, 1), date(2024, 1, 31)),  # forward: one month
            (date(2024, 4, 1), date(2024, 4, 30)),  # backward: the cache and April
            (date(2024, 2, 1), date(2024, 3, 31)),  # forward 3 months, backward 1 + 3
        ]
    }
    assert list(method.values()) == ["forward", "backward", "forward"]
    empty = build_empty(world)
    assert turnover(empty, date(2024, 4, 1), date(2024, 4, 30)).method == "forward"


def build_empty(world: World) -> Any:
    from kvit.tenants.models import Tenant

    return Tenant.objects.create(code="empty", name="Empty", kind="hoa")
