"""Who may be a user: staff belong to a tenant and have a role; consumers stay out of the
back-office."""

from __future__ import annotations

from typing import Any

import pytest

from kvit.users.models import Role, User

pytestmark = pytest.mark.django_db


def test_one_valid_staff_user_per_role(staff: dict[str, Any], tenant: Any) -> None:
    assert sorted(staff) == sorted(r for r in Role.values if r != Role.CONSUMER)
    for role, user in staff.items():
        stored = User.objects.get(pk=user.pk)
        assert (stored.role, stored.tenant, stored.is_staff) == (role, tenant, True)
        assert not stored.is_consumer


def test_a_user_needs_a_tenant_unless_superuser(make: Any, clean_errors: Any) -> None:
    user = User(username="drifter", role=Role.ACCOUNTANT, password="!")
    assert clean_errors(user) == {
        "tenant": ["Every user except a superuser needs an organisation."]
    }
    assert clean_errors(User(username="root", is_superuser=True, password="!")) == {}


def test_a_user_needs_a_role(tenant: Any, clean_errors: Any) -> None:
    user = User(username="nobody", tenant=tenant, password="!")
    assert clean_errors(user) == {"role": ["Choose the user's role."]}


def test_a_consumer_cannot_use_the_back_office(make: Any, account: Any, clean_errors: Any) -> None:
    consumer = make.consumer(account)
    assert list(consumer.accounts.all()) == [account]
    consumer.is_staff = True
    assert clean_errors(consumer) == {"is_staff": ["A consumer cannot use the back-office."]}
