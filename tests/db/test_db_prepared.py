"""`@prepared`: compiled once on PostgreSQL, the same rows as the ORM on every database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, QuerySet

from kvit.db.prepared import prepared
from kvit.ledger.models import LedgerEntry
from kvit.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def tenants(ids: list[int], name: str) -> QuerySet[Any, Any]:
    return (
        Tenant.objects.filter(Q(pk__any_of=ids) | Q(name=name))
        .order_by("pk")
        .values_list("pk", "code", "name")
    )


def test_the_rows_are_the_orms_whatever_the_arguments(make: Any) -> None:
    built: list[tuple[Any, ...]] = []

    @prepared
    def found(ids: list[int], name: str) -> QuerySet[Any, Any]:
        built.append((ids, name))
        return tenants(ids, name)

    rows = [make.tenant(name=f"Tenant {n}") for n in range(4)]
    for ids, name in [
        ([rows[0].pk, rows[2].pk], "nobody"),
        ([rows[1].pk], "Tenant 3"),
        ([], "Tenant 0"),
        ([], "nobody"),
    ]:
        assert found(ids, name) == list(tenants(ids, name))
    # PostgreSQL builds the query once, with placeholders; elsewhere at every call
    assert len(built) == (1 if connection.vendor == "postgresql" else 4)


def test_the_columns_are_converted_as_by_the_orm(make: Any) -> None:
    @prepared
    def explanations(ids: list[int], since: date) -> QuerySet[Any, Any]:
        entries = LedgerEntry.objects.filter(account_id__any_of=ids, period__gte=since)
        return entries.order_by("pk").values_list("pk", "explanation", "amount")

    account = make.account(make.premise(make.building(make.tenant())))
    entry = make.entry(account, explanation={"rule": "metered", "values": {"volume": "7.250"}})
    (row,) = explanations([entry.account_id], date(2000, 1, 1))
    assert row == (entry.pk, {"rule": "metered", "values": {"volume": "7.250"}}, entry.amount)
    assert explanations([entry.account_id], date(2100, 1, 1)) == []


def test_a_query_that_matches_nothing_runs_no_sql(django_assert_num_queries: Any) -> None:
    @prepared
    def nothing(name: str) -> QuerySet[Any, Any]:
        return Tenant.objects.filter(pk__in=[], name=name).values_list("pk")

    with django_assert_num_queries(0):
        assert nothing("x") == []


def test_what_cannot_be_prepared_is_refused() -> None:
    @prepared
    def flat(name: str) -> QuerySet[Any, Any]:
        return Tenant.objects.filter(name=name).values_list("pk", flat=True)

    with pytest.raises(TypeError, match="positional"):
        flat(name="x")
    with pytest.raises(TypeError, match="values_list"):
        flat("x")
