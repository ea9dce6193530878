"""A callback whose database connection the server drops is refused cleanly — 503 with an
error id that the log names, nothing posted — and the aggregator's retry credits once (R26)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from online_shop import SECRET, Shop, open_shop, over_client

from db_faults import terminate_own_session
from kvit.ledger.queries import balance
from kvit.online import actions
from kvit.online.models import OnlineEvent
from kvit.online.testbank import TestBank
from kvit.payments.models import Payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("purge_append_only")]


def served(make: Any) -> Shop:
    """The shop, answered as a server answers: an exception becomes a response instead of
    reaching the test."""
    shop = open_shop(make)
    shop.bank = TestBank(
        shop.tenant.code, SECRET, over_client(Client(raise_request_exception=False))
    )
    return shop


@pytest.mark.postgres
def test_a_perform_whose_connection_is_dropped_is_refused_and_its_retry_credits_once(
    make: Any, monkeypatch: Any, caplog: Any
) -> None:
    shop = served(make)
    assert shop.bank.create("t-1", "000101", "120.00").status == 200
    real = actions.perform_transaction
    calls: list[str] = []

    def dropped_once(*args: Any, **kwargs: Any) -> Any:
        calls.append("perform")
        if len(calls) == 1:
            terminate_own_session()
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "perform_transaction", dropped_once)
    failed = shop.bank.perform("t-1", key="k-1")
    assert failed.status == 503
    assert failed.body["code"] == "database_unavailable"
    error_id = failed.body["error_id"]
    assert len(error_id) == 32 and error_id in caplog.text
    assert failed.headers["Retry-After"]
    assert not Payment.objects.exists()
    assert balance(shop.account) == Decimal("500.00")

    retried = shop.bank.perform("t-1", key="k-1")
    assert retried.status == 200 and retried.body["state"] == "performed"
    assert shop.bank.perform("t-1", key="k-1").status == 200
    assert Payment.objects.count() == 1
    assert balance(shop.account) == Decimal("380.00")
    # The refused request is in the log of online requests too, with its error id.
    event = OnlineEvent.objects.filter(status_code=503).get()
    assert event.details["error_id"] == error_id


def test_any_other_failure_is_a_500_with_an_error_id_and_posts_nothing(
    make: Any, monkeypatch: Any, caplog: Any
) -> None:
    shop = served(make)
    shop.bank.create("t-1", "000101", "120.00")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(actions, "perform_transaction", broken)
    failed = shop.bank.perform("t-1", key="k-1")
    assert (failed.status, failed.body["code"]) == (500, "internal_error")
    assert failed.body["error_id"] in failed.body["message"]
    assert failed.body["error_id"] in caplog.text and "RuntimeError: a bug" in caplog.text
    assert "Retry-After" not in failed.headers
    assert not Payment.objects.exists()
    event = OnlineEvent.objects.filter(status_code=500).get()
    assert event.details["error_id"] == failed.body["error_id"]
