"""A row may only point at rows of its own tenant: each reference names itself when it doesn't."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def premise_of(make: Any, tenant: Any) -> Any:
    return make.premise(make.building(tenant))


def account_of(make: Any, tenant: Any) -> Any:
    return make.account(premise_of(make, tenant))


def absence_of(make: Any, account: Any) -> Any:
    from kvit.people.models import Absence

    person = make.registration(account).person
    return Absence.objects.create(account=account, person=person, effective_from=date(2024, 1, 3))


# name: (the row in tenant A, the field, its replacement from tenant B, the message)
Case = Callable[[Any, Any, Any], tuple[Any, str, Any]]
CASES: dict[str, tuple[Case, str]] = {
    "Building.node": (
        lambda make, a, b: (make.building(a), "node", make.node(b)),
        "The hierarchy node belongs to another organisation.",
    ),
    "Premise.building": (
        lambda make, a, b: (premise_of(make, a), "building", make.building(b)),
        "The building belongs to another organisation.",
    ),
    "Premise.node": (
        lambda make, a, b: (premise_of(make, a), "node", make.node(b)),
        "The hierarchy node belongs to another organisation.",
    ),
    "Account.premise": (
        lambda make, a, b: (account_of(make, a), "premise", premise_of(make, b)),
        "The premise belongs to another organisation.",
    ),
    "Account.node": (
        lambda make, a, b: (account_of(make, a), "node", make.node(b)),
        "The hierarchy node belongs to another organisation.",
    ),
    "Account.payer": (
        lambda make, a, b: (account_of(make, a), "payer", make.person(b)),
        "The payer belongs to another organisation.",
    ),
    "AccountService.service": (
        lambda make, a, b: (make.account_service(account_of(make, a)), "service", make.service(b)),
        "The service belongs to another organisation.",
    ),
    "AccountService.provider": (
        lambda make, a, b: (
            make.account_service(account_of(make, a)),
            "provider",
            make.provider(b),
        ),
        "The provider belongs to another organisation.",
    ),
    "Ownership.owner": (
        lambda make, a, b: (make.ownership(premise_of(make, a)), "owner", make.person(b)),
        "The owner belongs to another organisation.",
    ),
    "Registration.person": (
        lambda make, a, b: (make.registration(account_of(make, a)), "person", make.person(b)),
        "The person belongs to another organisation.",
    ),
    "Benefit.person": (
        lambda make, a, b: (make.benefit(account_of(make, a)), "person", make.person(b)),
        "The person belongs to another organisation.",
    ),
    "Benefit.category": (
        lambda make, a, b: (
            make.benefit(account_of(make, a)),
            "category",
            make.benefit_category(b),
        ),
        "The category belongs to another organisation.",
    ),
    "Absence.person": (
        lambda make, a, b: (absence_of(make, account_of(make, a)), "person", make.person(b)),
        "The person belongs to another organisation.",
    ),
    "Service.provider": (
        lambda make, a, b: (make.service(a), "provider", make.provider(b)),
        "The default provider belongs to another organisation.",
    ),
    "Tariff.service": (
        lambda make, a, b: (make.tariff(make.service(a)), "service", make.service(b)),
        "The service belongs to another organisation.",
    ),
    "Norm.service": (
        lambda make, a, b: (make.norm(make.service(a)), "service", make.service(b)),
        "The service belongs to another organisation.",
    ),
    "Meter.premise": (
        lambda make, a, b: (make.meter(premise_of(make, a)), "premise", premise_of(make, b)),
        "The premise belongs to another organisation.",
    ),
    "Meter.building": (
        lambda make, a, b: (
            make.meter(tenant=a, kind="common_house", resource="heat", building=make.building(a)),
            "building",
            make.building(b),
        ),
        "The building belongs to another organisation.",
    ),
    "Meter.node": (
        lambda make, a, b: (
            make.meter(tenant=a, kind="feeder_head", resource="electricity", node=make.node(a)),
            "node",
            make.node(b),
        ),
        "The hierarchy node belongs to another organisation.",
    ),
}


@pytest.mark.parametrize(("case", "message"), CASES.values(), ids=list(CASES))
def test_a_reference_to_another_tenant_is_refused_on_its_field(
    make: Any, tenant: Any, other_tenant: Any, clean_errors: Any, case: Case, message: str
) -> None:
    row, field, foreign = case(make, tenant, other_tenant)
    assert clean_errors(row) == {}
    setattr(row, field, foreign)
    assert clean_errors(row) == {field: [message]}
