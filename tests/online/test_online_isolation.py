"""Tenant isolation of the API (R16): an aggregator of organisation A, with its own valid
signature, names organisation B's accounts and transactions, or B's aggregator. Every
operation answers 404 (or 401 for B's aggregator, which A cannot sign for) exactly as for
something that does not exist, and nothing of B changes. A guard fails when an API
operation is added without a case here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from online_shop import Shop, open_shop

from kvit.api.urls import api
from kvit.online.models import OnlineTransaction
from kvit.online.testbank import Reply, TestBank
from kvit.payments.models import Payment

pytestmark = pytest.mark.django_db

B_SECRET = "organisation-b-secret-0123456789abcdefgh"  # pragma: allowlist secret


@pytest.fixture
def two(shop: Shop) -> tuple[Shop, Shop, TestBank]:
    other = open_shop(shop.make, secret=B_SECRET)
    other.bank = other.bank_for(other.aggregator, B_SECRET)
    other.make.account(other.account.premise, number="000909")  # only B has it
    other.bank.pay("000909", "10.00", "b-1")
    return shop, other, other.bank


Case = Callable[[Shop, Shop], Reply]
CASES: dict[tuple[str, str], tuple[Case, int, str]] = {
    ("get", "/accounts/{account}"): (
        lambda a, b: a.bank.check("000909"),
        404,
        "account_not_found",
    ),
    ("post", "/transactions"): (
        lambda a, b: a.bank.create("a-1", "000909", "10.00"),
        404,
        "account_not_found",
    ),
    ("get", "/transactions/{transaction_id}"): (
        lambda a, b: a.bank.status("b-1"),
        404,
        "transaction_not_found",
    ),
    ("post", "/transactions/{transaction_id}/perform"): (
        lambda a, b: a.bank.perform("b-1"),
        404,
        "transaction_not_found",
    ),
    ("post", "/transactions/{transaction_id}/cancel"): (
        lambda a, b: a.bank.cancel("b-1", "not mine"),
        404,
        "transaction_not_found",
    ),
}


def snapshot() -> list[Any]:
    return [
        sorted(OnlineTransaction.objects.values_list("pk", "state", "account_id", "amount")),
        sorted(Payment.objects.values_list("pk", "status", "account_id")),
    ]


def test_every_api_operation_has_a_cross_tenant_case() -> None:
    schema = api.get_openapi_schema()
    prefix = "/api/online/{tenant}/{aggregator}"
    operations = {
        (method, path.removeprefix(prefix))
        for path, item in schema["paths"].items()
        for method in item
    }
    assert operations == set(CASES), "add the new operation to CASES"


@pytest.mark.parametrize("operation", list(CASES), ids=" ".join)
def test_another_organisations_objects_are_not_found(
    two: tuple[Shop, Shop, TestBank], operation: tuple[str, str]
) -> None:
    a, b, _ = two
    case, status, code = CASES[operation]
    before = snapshot()
    reply = case(a, b)
    assert (reply.status, reply.body["code"]) == (status, code)
    assert snapshot() == before


@pytest.mark.parametrize("operation", list(CASES), ids=" ".join)
def test_another_organisations_aggregator_cannot_be_used(
    two: tuple[Shop, Shop, TestBank], operation: tuple[str, str]
) -> None:
    a, b, _ = two
    case, _status, _code = CASES[operation]
    posing = TestBank(b.tenant.code, a.bank.secret, a.bank.send, aggregator=b.aggregator.code)
    before = snapshot()
    reply = case(Shop(b.tenant, b.account, b.water, b.heat, b.aggregator, posing, b.make), a)
    assert (reply.status, reply.body["code"]) == (401, "signature_invalid")
    assert snapshot() == before
