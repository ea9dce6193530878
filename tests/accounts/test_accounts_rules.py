"""Personal accounts: numbers unique per tenant, an exclusive closing date (spec 1.4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kvit.accounts.models import Account, AccountService, Contract

pytestmark = pytest.mark.django_db

OPENED, CLOSED = date(2024, 1, 10), date(2024, 5, 1)


def refused_by_database(obj: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


def test_an_account_number_is_unique_in_its_tenant(
    make: Any, tenant: Any, other_tenant: Any, clean_errors: Any
) -> None:
    make.account(make.premise(make.building(tenant)), number="100200")
    duplicate = Account(
        tenant=tenant,
        number="100200",
        opened_on=OPENED,
        premise=make.premise(make.building(tenant)),
    )
    errors = clean_errors(duplicate)
    assert list(errors) == ["__all__"]
    assert "Account number" in errors["__all__"][0]
    assert "already exists" in errors["__all__"][0]
    refused_by_database(duplicate)


def test_the_same_number_in_another_tenant_is_fine(
    make: Any, tenant: Any, other_tenant: Any
) -> None:
    make.account(make.premise(make.building(tenant)), number="100200")
    make.account(make.premise(make.building(other_tenant)), number="100200")
    assert Account.objects.filter(number="100200").count() == 2


@pytest.mark.parametrize("closed_on", [OPENED, OPENED - timedelta(days=1)], ids=["same", "before"])
def test_closed_on_must_be_after_opened_on(
    make: Any, premise: Any, clean_errors: Any, closed_on: date
) -> None:
    account = make.account(premise, opened_on=OPENED)
    account.closed_on = closed_on
    assert clean_errors(account) == {"__all__": ["“Closed on” must be later than “opened on”."]}
    refused_by_database(account)


def test_closed_on_is_exclusive(make: Any, premise: Any) -> None:
    account = make.account(premise, opened_on=OPENED, closed_on=CLOSED)
    assert not account.is_open_on(OPENED - timedelta(days=1))
    assert account.is_open_on(OPENED)
    assert account.is_open_on(CLOSED - timedelta(days=1))
    assert not account.is_open_on(CLOSED)
    assert not account.is_open_on(CLOSED + timedelta(days=1))


def test_an_account_without_closing_date_stays_open(make: Any, premise: Any) -> None:
    account = make.account(premise, opened_on=OPENED)
    assert account.is_open_on(date(2099, 12, 31))


def test_a_one_day_account(make: Any, premise: Any) -> None:
    account = make.account(premise, opened_on=OPENED, closed_on=OPENED + timedelta(days=1))
    assert account.is_open_on(OPENED)
    assert not account.is_open_on(OPENED + timedelta(days=1))


def test_a_household_account_needs_a_premise(tenant: Any, clean_errors: Any) -> None:
    account = Account(tenant=tenant, number="1", opened_on=OPENED)
    assert clean_errors(account) == {"premise": ["A household account needs a premise."]}
    account.consumer_kind = Account.ConsumerKind.LEGAL
    assert clean_errors(account) == {}


def test_the_premise_must_belong_to_the_tenant(
    make: Any, premise: Any, other_tenant: Any, clean_errors: Any
) -> None:
    account = Account(tenant=other_tenant, number="1", opened_on=OPENED, premise=premise)
    assert clean_errors(account) == {"premise": ["The premise belongs to another organisation."]}


@pytest.mark.parametrize(("numerator", "denominator"), [(0, 1), (3, 2)])
def test_an_account_share_is_in_0_to_1(
    make: Any, premise: Any, clean_errors: Any, numerator: int, denominator: int
) -> None:
    account = make.account(premise)
    account.share_numerator, account.share_denominator = numerator, denominator
    assert clean_errors(account) == {"__all__": ["A share must be greater than 0 and at most 1."]}
    refused_by_database(account)


def test_a_contract_only_for_a_legal_consumer(
    make: Any, account: Any, tenant: Any, clean_errors: Any
) -> None:
    contract = Contract(
        account=account,
        number="C-1",
        signed_on=OPENED,
        organisation_name="LLC Romashka",
        inn="7707083893",
        kpp="773601001",
    )
    assert clean_errors(contract) == {
        "account": ["Only a legal consumer's account has a contract."]
    }
    legal = Account.objects.create(
        tenant=tenant, number="L-1", opened_on=OPENED, consumer_kind=Account.ConsumerKind.LEGAL
    )
    contract.account = legal
    assert clean_errors(contract) == {}
    contract.kpp = ""
    assert clean_errors(contract) == {"kpp": ["An organisation (10-digit INN) needs a KPP."]}
    contract.inn = "500100732259"  # an individual entrepreneur: no KPP
    assert clean_errors(contract) == {}


@pytest.mark.parametrize("field", ["service", "provider"])
def test_a_connected_service_stays_in_the_tenant(
    make: Any, account: Any, other_tenant: Any, clean_errors: Any, field: str
) -> None:
    connected = AccountService(
        account=account,
        service=make.service(account.tenant),
        provider=make.provider(account.tenant),
        effective_from=OPENED,
    )
    assert clean_errors(connected) == {}
    foreign = make.service(other_tenant) if field == "service" else make.provider(other_tenant)
    setattr(connected, field, foreign)
    assert clean_errors(connected) == {field: [f"The {field} belongs to another organisation."]}


def test_a_contract_without_inn_is_a_field_error_not_a_crash(
    tenant: Any, clean_errors: Any
) -> None:
    legal = Account.objects.create(
        tenant=tenant, number="L-1", opened_on=OPENED, consumer_kind=Account.ConsumerKind.LEGAL
    )
    contract = Contract(account=legal, number="C-1", signed_on=OPENED, organisation_name="LLC")
    contract.inn = None  # type: ignore[assignment]
    assert list(clean_errors(contract)) == ["inn"]
