"""Duplicate and parallel callbacks credit once (R4), and one Idempotency-Key runs once
however many requests carry it at the same moment (R8).

The parallel tests run on PostgreSQL against a live server: forked processes wait at a
barrier, then send their requests over HTTP at once, each on its own connection; the
server's threads each use their own database connection.
"""

from __future__ import annotations

import multiprocessing
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from online_shop import SECRET, Shop, open_shop

from kvit.api.models import IdempotentRequest
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.online.models import OnlineEvent, OnlineTransaction
from kvit.online.signing import signed_headers
from kvit.online.testbank import Reply, TestBank, over_http
from kvit.payments.models import Payment

SEQUENTIAL, PARALLEL, KEYED = 50, 16, 8


def signed_perform(shop: Shop, transaction_id: str) -> tuple[str, dict[str, str]]:
    """One perform callback, signed once: every copy sent is the very same request."""
    path = shop.path(f"transactions/{transaction_id}/perform")
    return path, signed_headers(SECRET, "POST", path, b"", int(time.time()))


@pytest.mark.django_db
def test_the_same_signed_callback_fifty_times_in_sequence_credits_once(shop: Shop) -> None:
    shop.bank.create("t-1", "000101", "120.00")
    path, headers = signed_perform(shop, "t-1")
    replies = [shop.bank.send("POST", path, b"", headers) for _ in range(SEQUENTIAL)]
    assert {reply.status for reply in replies} == {200}
    assert all(reply.body == replies[0].body for reply in replies)
    assert Payment.objects.count() == 1
    assert balance(shop.account) == Decimal("380.00")


def _send(
    url: str, request: tuple[str, str, bytes, dict[str, str]], barrier: Any, out: Any
) -> None:
    try:
        send = over_http(url)
        barrier.wait(30)
        reply = send(*request)
        out.put((reply.status, reply.body, reply.headers.get("Idempotent-Replayed")))
    except Exception as error:  # reported to the parent, which fails the test
        out.put((0, {"error": repr(error)}, None))


def at_once(url: str, requests: list[tuple[str, str, bytes, dict[str, str]]]) -> list[Any]:
    """Send each request from its own process, all at the same moment; the replies."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(requests))
    out = context.Queue()
    connections.close_all()  # the children must not share the parent's connection
    children = [
        context.Process(target=_send, args=(url, request, barrier, out)) for request in requests
    ]
    for child in children:
        child.start()
    replies = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    return replies


@pytest.fixture
def live_shop(make: Any, live_server: Any) -> tuple[Shop, TestBank]:
    shop = open_shop(make)
    return shop, TestBank(shop.tenant.code, SECRET, over_http(live_server.url))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_a_callback_replayed_while_the_first_is_in_flight_credits_once(
    live_shop: tuple[Shop, TestBank], live_server: Any
) -> None:
    shop, bank = live_shop
    assert bank.create("t-1", "000101", "120.00").status == 200
    path, headers = signed_perform(shop, "t-1")
    request = ("POST", path, b"", headers)
    replies: list[Any] = at_once(live_server.url, [request] * PARALLEL)
    send = over_http(live_server.url)
    for _ in range(SEQUENTIAL):
        reply: Reply = send(*request)
        replies.append((reply.status, reply.body, None))
    assert len(replies) == SEQUENTIAL + PARALLEL
    assert {status for status, _body, _replayed in replies} == {200}, replies[:3]
    assert [body for _status, body, _replayed in replies if body != replies[0][1]] == []
    assert replies[0][1]["state"] == "performed"
    assert Payment.objects.count() == 1
    assert balance(shop.account) == Decimal("380.00")  # changed once, by 120.00
    assert LedgerEntry.objects.filter(kind="payment").count() == 2  # water and heat, once
    outcomes = list(
        OnlineEvent.objects.filter(operation="perform").values_list("outcome", flat=True)
    )
    assert outcomes.count("performed") == 1
    assert outcomes.count("replayed") == SEQUENTIAL + PARALLEL - 1
    assert balance_mismatches(shop.tenant) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
@pytest.mark.parametrize("key", ["k-1", None], ids=["one-key", "no-key"])
def test_parallel_creates_run_once(
    live_shop: tuple[Shop, TestBank], live_server: Any, key: str | None
) -> None:
    shop, _bank = live_shop
    body = b'{"transaction_id": "t-1", "account": "000101", "amount": "10.00"}'
    path = shop.path("transactions")
    headers = signed_headers(SECRET, "POST", path, body, int(time.time()))
    if key:
        headers["Idempotency-Key"] = key
    replies = at_once(live_server.url, [("POST", path, body, headers)] * KEYED)
    assert {status for status, _body, _replayed in replies} == {200}, replies[:3]
    assert all(body == replies[0][1] for _status, body, _replayed in replies)
    assert OnlineTransaction.objects.count() == 1
    creates = list(OnlineEvent.objects.filter(operation="create").values_list("outcome", flat=True))
    assert creates.count("created") == 1 and creates.count("replayed") == KEYED - 1
    replayed = [flag for _status, _body, flag in replies]
    if key:
        assert replayed.count("true") == KEYED - 1 and replayed.count(None) == 1
        assert IdempotentRequest.objects.count() == 1
    else:
        assert replayed == [None] * KEYED
