"""The aggregator protocol through the API, as the test bank plays it: check, create,
perform, cancel; each step repeated answers the same; bad input gets a clear, coded
refusal; every request is in the log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from online_shop import Shop

from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance
from kvit.online.models import OnlineEvent, OnlineTransaction
from kvit.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_check_shows_what_is_owed_and_nothing_personal(shop: Shop) -> None:
    reply = shop.bank.check("000101")
    assert reply.status == 200
    assert reply.body == {"account": "000101", "owed": "500.00", "currency": "RUB"}


def test_a_whole_payment_is_posted_once_and_at_once(shop: Shop) -> None:
    created, performed = shop.bank.pay("000101", "120.00", "t-1")
    assert created.status == 200 and created.body["state"] == "created"
    assert created.body["payment"] is None
    assert performed is not None and performed.status == 200
    assert performed.body["state"] == "performed"
    assert performed.body["payment"] == {"status": "posted", "suspense_reason": ""}
    assert balance(shop.account) == Decimal("380.00")
    payment = Payment.objects.get()
    assert (payment.source, payment.external_id, payment.amount) == (
        "testbank",
        "t-1",
        Decimal("120.00"),
    )
    assert payment.document_kind == Payment.DocumentKind.ONLINE
    assert shop.bank.check("000101").body["owed"] == "380.00"


def test_every_step_repeated_answers_the_same_and_posts_nothing(shop: Shop) -> None:
    first = shop.bank.create("t-1", "000101", "120.00")
    assert shop.bank.create("t-1", "000101", "120.00").body == first.body
    performed = shop.bank.perform("t-1")
    for _ in range(3):
        again = shop.bank.perform("t-1")
        assert (again.status, again.body) == (200, performed.body)
        assert shop.bank.create("t-1", "000101", "120.00").body == performed.body
    assert shop.bank.status("t-1").body == performed.body
    assert Payment.objects.count() == 1
    assert balance(shop.account) == Decimal("380.00")
    outcomes = list(OnlineEvent.objects.order_by("id").values_list("operation", "outcome"))
    assert outcomes[:3] == [("create", "created"), ("create", "replayed"), ("perform", "performed")]
    assert outcomes.count(("perform", "replayed")) == 3


def test_cancel_before_perform_posts_nothing_and_perform_is_then_refused(shop: Shop) -> None:
    shop.bank.create("t-1", "000101", "120.00")
    cancelled = shop.bank.cancel("t-1", "the payer gave up")
    assert cancelled.status == 200 and cancelled.body["state"] == "cancelled"
    assert cancelled.body["payment"] is None
    refused = shop.bank.perform("t-1")
    assert refused.status == 409 and refused.body["code"] == "transaction_cancelled"
    assert shop.bank.cancel("t-1", "again").body == cancelled.body
    assert not Payment.objects.exists()
    assert balance(shop.account) == Decimal("500.00")


def test_cancel_after_perform_reverses_the_payment_once(shop: Shop) -> None:
    shop.bank.pay("000101", "120.00", "t-1")
    cancelled = shop.bank.cancel("t-1", "refunded to the card")
    assert cancelled.body["state"] == "cancelled"
    assert cancelled.body["payment"]["status"] == "reversed"
    assert shop.bank.cancel("t-1", "refunded to the card").body == cancelled.body
    assert balance(shop.account) == Decimal("500.00")
    reversals = LedgerEntry.objects.filter(kind="reversal")
    assert sum(reversals.values_list("amount", flat=True), Decimal(0)) == Decimal("120.00")
    assert shop.bank.perform("t-1").status == 409


def test_a_payment_reversed_in_the_back_office_is_cancelled_without_a_second_reversal(
    shop: Shop,
) -> None:
    from kvit.payments.actions import reverse_payment

    shop.bank.pay("000101", "120.00", "t-1")
    reverse_payment(Payment.objects.get(), "the bank recalled it", None)
    assert shop.bank.cancel("t-1", "recalled").body["state"] == "cancelled"
    assert LedgerEntry.objects.filter(kind="reversal").count() == 2  # water and heat, once
    assert balance(shop.account) == Decimal("500.00")


def test_the_same_id_with_other_data_is_a_conflict_never_an_overwrite(shop: Shop) -> None:
    shop.bank.create("t-1", "000101", "120.00")
    refused = shop.bank.create("t-1", "000101", "121.00")
    assert refused.status == 409 and refused.body["code"] == "transaction_conflict"
    assert "amount" in refused.body["message"]
    assert OnlineTransaction.objects.get().amount == Decimal("120.00")


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [("999999", 404, "account_not_found"), ("000202", 409, "account_closed")],
)
def test_unknown_and_closed_accounts_are_refused_before_the_payer_pays(
    shop: Shop, number: str, status: int, code: str
) -> None:
    shop.make.account(shop.account.premise, number="000202", closed_on=date(2024, 1, 10))
    for reply in (shop.bank.check(number), shop.bank.create("t-1", number, "10.00")):
        assert (reply.status, reply.body["code"]) == (status, code)
        assert number in reply.body["message"]
    assert not OnlineTransaction.objects.exists()


def test_an_account_closed_between_create_and_perform_sends_the_payment_to_suspense(
    shop: Shop,
) -> None:
    shop.bank.create("t-1", "000101", "120.00")
    shop.account.closed_on = date(2024, 2, 1)
    shop.account.save()
    performed = shop.bank.perform("t-1")
    assert performed.status == 200 and performed.body["state"] == "performed"
    assert performed.body["payment"] == {"status": "suspense", "suspense_reason": "closed_account"}
    assert balance(shop.account) == Decimal("500.00")  # kept, visible, not credited


def test_a_contract_for_one_provider_pays_that_provider(shop: Shop) -> None:
    contract = shop.make_aggregator(code="teplo-pay", provider=shop.heat)
    bank = shop.bank_for(contract)
    assert bank.check("000101").body["owed"] == "200.00"
    bank.pay("000101", "50.00", "t-9")
    assert balance(shop.account, provider=shop.heat) == Decimal("150.00")
    assert balance(shop.account, provider=shop.water) == Decimal("300.00")
    assert Payment.objects.get().source == "teplo-pay"


def test_fee_and_period_travel_to_the_payment(shop: Shop) -> None:
    shop.bank.create("t-1", "000101", "100.00", fee="1.50", period="2024-01")
    shop.bank.perform("t-1")
    payment = Payment.objects.get()
    assert (payment.fee, payment.net_amount, payment.period) == (
        Decimal("1.50"),
        Decimal("98.50"),
        date(2024, 1, 1),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0.00"}, "amount"),
        ({"amount": "12.345"}, "body.amount"),
        ({"amount": 12.5}, "body.amount"),  # a JSON number: a float, refused
        ({"amount": "-5.00"}, "body.amount"),
        ({"fee": "200.00"}, "fee"),
        ({"period": "2024-13"}, "body.period"),
        ({"period": "0000-01"}, "body.period"),
        ({"transaction_id": "has space"}, "body.transaction_id"),
        ({"account": ""}, "body.account"),
        ({"account": "0001\x0001"}, "body.account"),  # PostgreSQL's text holds no NUL
        ({"account": "0001\n01"}, "body.account"),
    ],
)
def test_bad_input_is_refused_naming_the_field(shop: Shop, changes: dict, field: str) -> None:
    payload = {"transaction_id": "t-1", "account": "000101", "amount": "10.00", **changes}
    reply = shop.bank.request("POST", "transactions", payload)
    assert reply.status == 422
    assert reply.body["code"] in ("invalid_request", "invalid_amount")
    assert any(error["field"].endswith(field) for error in reply.body["errors"]), reply.body
    assert not OnlineTransaction.objects.exists()


def test_a_nul_in_the_path_is_refused_and_logged_replaced(shop: Shop) -> None:
    account = shop.bank.check("0001\x0001")  # the bank sends it as %00
    shop.bank.pay("000101", "120.00", "t-1")
    status, perform = shop.bank.status("t-1\x00"), shop.bank.perform("t-1\x00")
    for reply, field in (
        (account, "account"),
        (status, "transaction_id"),
        (perform, "transaction_id"),
    ):
        assert (reply.status, reply.body["code"]) == (422, "invalid_request")
        assert reply.body["errors"][0]["field"].endswith(field)
    cancel = shop.bank.request("POST", "transactions/t-1/cancel", {"reason": "no\x00"})
    assert cancel.status == 422 and cancel.body["errors"][0]["field"].endswith("reason")
    paths = [path for path in OnlineEvent.objects.values_list("details__path", flat=True) if path]
    assert any(path.endswith("/accounts/0001\ufffd01") for path in paths)
    assert not any("\x00" in path for path in paths)
    assert Payment.objects.get().status == "posted"  # the cancel with a NUL did nothing


def test_a_body_that_is_not_json_is_refused(shop: Shop) -> None:
    reply = shop.raw("POST", "transactions", b"{not json")
    assert reply.status == 400 and reply.body["code"] == "invalid_request"


def test_messages_follow_accept_language(shop: Shop) -> None:
    english = shop.bank.request("GET", "accounts/999999")
    russian = shop.bank.request("GET", "accounts/999999", headers={"Accept-Language": "ru"})
    assert english.body["code"] == russian.body["code"] == "account_not_found"
    assert english.body["message"] == "There is no account 999999."
    assert russian.body["message"] == "Лицевого счёта 999999 нет."
    assert russian.headers["Content-Language"] == "ru"


def test_every_request_is_logged_with_the_hash_of_its_body(shop: Shop) -> None:
    import hashlib

    shop.bank.create("t-1", "000101", "120.00")
    shop.bank.check("999999")
    create, check = OnlineEvent.objects.order_by("id")
    assert (create.operation, create.outcome, create.status_code) == ("create", "created", 200)
    assert create.transaction == OnlineTransaction.objects.get()
    assert create.tenant == shop.tenant and create.aggregator == shop.aggregator
    body = b'{"transaction_id": "t-1", "account": "000101", "amount": "120.00", "fee": "0.00"}'
    assert create.body_sha256 == hashlib.sha256(body).hexdigest()
    assert (check.operation, check.outcome, check.status_code) == (
        "check",
        "account_not_found",
        404,
    )
    assert not check.security
