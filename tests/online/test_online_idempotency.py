"""`Idempotency-Key` on the write operations (R8, IETF draft), in sequence; the parallel
case is in test_online_concurrency. And no mass assignment (R18): fields a caller must not
set are refused."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from online_shop import Shop

from kvit.api import idempotency
from kvit.api.idempotency import purge
from kvit.api.models import IdempotentRequest
from kvit.online.models import OnlineEvent, OnlineTransaction
from kvit.payments.actions import reverse_payment
from kvit.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_the_same_key_replays_the_stored_response_without_running_again(shop: Shop) -> None:
    shop.bank.create("t-1", "000101", "10.00")
    first = shop.bank.perform("t-1", key="k-1")
    assert first.status == 200 and "Idempotent-Replayed" not in first.headers
    reverse_payment(Payment.objects.get(), "recalled by the bank", None)
    replay = shop.bank.perform("t-1", key="k-1")
    assert (replay.status, replay.body) == (first.status, first.body)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body["payment"]["status"] == "posted"  # the stored answer, not a new one
    assert shop.bank.perform("t-1").body["payment"]["status"] == "reversed"
    outcomes = OnlineEvent.objects.filter(operation="perform").values_list("outcome", flat=True)
    assert sorted(outcomes) == ["performed", "replayed", "replayed"]


def test_the_same_key_for_another_request_is_refused(shop: Shop) -> None:
    assert shop.bank.create("t-1", "000101", "10.00", key="k-1").status == 200
    for reply in (
        shop.bank.create("t-1", "000101", "11.00", key="k-1"),  # another body
        shop.bank.perform("t-1", key="k-1"),  # another operation
    ):
        assert (reply.status, reply.body["code"]) == (422, "idempotency_key_reused")
    transaction = OnlineTransaction.objects.get()
    assert (transaction.amount, transaction.state) == (10, "created")


def test_keys_are_scoped_per_organisation_and_aggregator(shop: Shop) -> None:
    from online_shop import open_shop

    other_contract = shop.make_aggregator(code="payme")
    elsewhere = open_shop(shop.make)
    for bank in (shop.bank, shop.bank_for(other_contract), elsewhere.bank):
        reply = bank.create("t-1", "000101", "10.00", key="same-key")
        assert reply.status == 200 and "Idempotent-Replayed" not in reply.headers
    assert OnlineTransaction.objects.count() == 3
    assert IdempotentRequest.objects.filter(key="same-key").count() == 3


def test_a_refused_request_stores_nothing_and_may_be_retried_with_its_key(shop: Shop) -> None:
    refused = shop.bank.create("t-1", "000777", "10.00", key="k-1")
    assert refused.status == 404
    assert not IdempotentRequest.objects.exists()
    shop.make.account(shop.account.premise, number="000777")
    retried = shop.bank.create("t-1", "000777", "10.00", key="k-1")
    assert retried.status == 200 and "Idempotent-Replayed" not in retried.headers


def test_a_key_older_than_the_retention_may_be_used_again(shop: Shop) -> None:
    shop.bank.create("t-1", "000101", "10.00", key="k-1")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    reply = shop.bank.create("t-2", "000101", "20.00", key="k-1")
    assert reply.status == 200 and reply.body["transaction_id"] == "t-2"
    assert "Idempotent-Replayed" not in reply.headers


def test_an_empty_or_overlong_key_is_refused(shop: Shop) -> None:
    for key in ("", "k" * 256):
        reply = shop.bank.request(
            "POST",
            "transactions",
            {"transaction_id": "t-1", "account": "000101", "amount": "1.00"},
            headers={"Idempotency-Key": key},
        )
        assert reply.status == 422, key
    assert not OnlineTransaction.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"tenant_id": 999},
        {"status": "performed"},
        {"state": "performed"},
        {"balance": "-1000.00"},
        {"payment": {"status": "posted"}},
        {"is_staff": True},
    ],
    ids=lambda extra: next(iter(extra)),
)
def test_fields_a_caller_must_not_set_are_refused(shop: Shop, extra: dict) -> None:
    name = next(iter(extra))
    create = {"transaction_id": "t-1", "account": "000101", "amount": "10.00", **extra}
    reply = shop.bank.request("POST", "transactions", create)
    assert reply.status == 422
    assert any(error["field"].endswith(name) for error in reply.body["errors"])
    assert not OnlineTransaction.objects.exists()
    shop.bank.create("t-2", "000101", "10.00")
    cancel = shop.bank.request("POST", "transactions/t-2/cancel", {"reason": "x", **extra})
    assert cancel.status == 422
    assert OnlineTransaction.objects.get().state == "created"


def test_expired_keys_are_purged_and_the_others_kept(shop: Shop) -> None:
    for n in range(3):
        shop.bank.create(f"t-{n}", "000101", "10.00", key=f"k-{n}")
    old = timezone.now() - timedelta(hours=24, seconds=1)
    IdempotentRequest.objects.filter(key__in=["k-0", "k-1"]).update(created_at=old)
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue().strip() == "Deleted 2 stored request(s) older than 24 hours."
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["k-2"]
    # an expired key is new again; the kept one still replays
    reused = shop.bank.create("t-9", "000101", "11.00", key="k-0")
    assert reused.status == 200 and "Idempotent-Replayed" not in reused.headers
    replay = shop.bank.create("t-2", "000101", "10.00", key="k-2")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert purge() == 0
    with translation.override("ru"):
        call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Удалено сохранённых запросов старше 24 ч: 0."


def test_purging_goes_in_batches(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        shop.bank.create(f"t-{n}", "000101", "10.00", key=f"k-{n}")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(days=2))
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 2)
    with CaptureQueriesContext(connection) as captured:
        assert purge() == 5
    deletes = [q for q in captured if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 3
    assert not IdempotentRequest.objects.exists()
