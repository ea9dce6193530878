"""A tenant's staff see, pick and change only their tenant's rows, as far as their role allows."""

from __future__ import annotations

from typing import Any

import admin_factories as factories
import pytest
from admin_factories import add_rows, admin_url, form_data, kvit_models

from kvit.accounts.models import Account
from kvit.metering.models import Meter, Reading
from kvit.premises.models import Building, Premise
from kvit.tariffs.models import Service
from kvit.users.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", kvit_models(), ids=lambda m: m._meta.label)
def test_other_tenants_rows_are_not_found_nor_listed(
    model: Any, world_a: factories.World, world_b: factories.World, client_as: Any
) -> None:
    chairman = factories.user(world_a.tenant, "chairman")
    client = client_as(chairman)
    if model is User:
        mine, theirs = chairman, factories.user(world_b.tenant, "chairman")
    else:
        mine = next(o for o in world_a.objects() if type(o) is model)
        theirs = next(o for o in world_b.objects() if type(o) is model)
    listing = client.get(admin_url(model, "changelist")).content.decode()
    assert admin_url(model, "change", mine.pk) in listing
    assert admin_url(model, "change", theirs.pk) not in listing
    # Django's admin answers a missing object with a redirect to the index and a message.
    response = client.get(admin_url(model, "change", theirs.pk))
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get(admin_url(model, "history", theirs.pk)).status_code in (302, 404)
    if hasattr(model, "history"):
        version = model.history.filter(id=theirs.pk).first()
        url = admin_url(model, "simple_history", theirs.pk, version.history_id)
        assert client.get(url).status_code == 404


def test_foreign_key_choices_are_the_users_tenants(
    world_a: factories.World, world_b: factories.World, staff_client: Any
) -> None:
    client = staff_client("engineer")
    response = client.get(admin_url(Premise, "add"))
    choices = response.context["adminform"].form.fields["building"].queryset
    assert list(choices) == [world_a.building]
    # Picking the other tenant's building by its id is refused, and the posted tenant ignored.
    response = client.post(
        admin_url(Premise, "add"),
        {
            "tenant": world_b.tenant.pk,
            "building": world_b.building.pk,
            "number": "99",
            "kind": "residential",
            "area": "30",
            "rooms": "1",
            **management_forms(response),
        },
    )
    assert response.status_code == 200
    assert "building" in response.context["adminform"].form.errors
    assert not Premise.objects.filter(number="99").exists()


def test_tenant_is_filled_from_the_user(
    world_a: factories.World, world_b: factories.World, staff_client: Any
) -> None:
    client = staff_client("engineer")
    response = client.get(admin_url(Building, "add"))
    data = {
        **management_forms(response),
        "tenant": world_b.tenant.pk,
        "address": "New st. 1",
        "total_area": "100",
        "common_area": "10",
        "management_method": "hoa",
        "heating_scheme": "central",
        "capital_repair_fund": "regional_operator",
    }
    assert client.post(admin_url(Building, "add"), data).status_code == 302
    assert Building.objects.get(address="New st. 1").tenant == world_a.tenant


def test_autocomplete_searches_only_the_users_tenant(
    world_a: factories.World, world_b: factories.World, staff_client: Any
) -> None:
    response = staff_client("operator").get(
        "/admin/autocomplete/",
        {"app_label": "accounts", "model_name": "account", "field_name": "premise", "term": ""},
    )
    ids = {int(row["id"]) for row in response.json()["results"]}
    assert ids == {world_a.premise.pk}


def test_auditor_views_but_cannot_change(world_a: factories.World, staff_client: Any) -> None:
    client = staff_client("auditor")
    url = admin_url(Service, "change", world_a.service.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert "adminform" in response.context
    data = {"name": "Renamed", "code": world_a.service.code}
    assert client.post(url, data).status_code == 403
    assert client.get(admin_url(Service, "add")).status_code == 403
    world_a.service.refresh_from_db()
    assert world_a.service.name != "Renamed"


@pytest.mark.parametrize(
    ("role", "model", "may_change"),
    [
        ("accountant", Service, True),
        ("accountant", Meter, False),
        ("engineer", Meter, True),
        ("engineer", Account, False),
        ("operator", Reading, True),
        ("operator", Meter, False),
        ("operator", Account, True),
        ("cashier", Account, False),
        ("chairman", User, True),
        ("accountant", User, False),
    ],
)
def test_roles_change_only_their_apps(
    role: str, model: Any, may_change: bool, world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client(role)
    assert client.get(admin_url(model, "add")).status_code == (200 if may_change else 403)


def test_consumers_never_get_in(world_a: factories.World, client_as: Any) -> None:
    consumer = factories.user(world_a.tenant, "consumer")
    response = client_as(consumer).get(admin_url(Account, "changelist"))
    assert response.status_code == 302
    assert "/login/" in response.url


def test_a_chairman_cannot_make_superusers(world_a: factories.World, staff_client: Any) -> None:
    client = staff_client("chairman")
    clerk = factories.user(world_a.tenant, "cashier")
    url = admin_url(User, "change", clerk.pk)
    data = {**form_data(client.get(url)), "is_superuser": "on"}
    assert client.post(url, data).status_code == 302
    clerk.refresh_from_db()
    assert not clerk.is_superuser


def management_forms(response: Any) -> dict[str, str]:
    data = form_data(response)
    return {k: v for k, v in data.items() if k.endswith("_FORMS")}


def test_a_chairman_creates_users_of_their_own_tenant(
    world_a: factories.World, world_b: factories.World, staff_client: Any
) -> None:
    client = staff_client("chairman")
    data = {
        "username": "new-cashier",
        "usable_password": "true",  # pragma: allowlist secret
        "password1": "a-Long-pass-phrase-42",  # pragma: allowlist secret
        "password2": "a-Long-pass-phrase-42",  # pragma: allowlist secret
        "tenant": world_b.tenant.pk,
        "role": "cashier",
        "is_staff": "on",
    }
    assert client.post(admin_url(User, "add"), data).status_code == 302
    assert User.objects.get(username="new-cashier").tenant == world_a.tenant


def test_a_meter_added_on_the_premise_takes_its_tenant(
    world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client("engineer")
    url = admin_url(Premise, "change", world_a.premise.pk)
    data = add_rows(
        form_data(client.get(url)),
        "meters",
        {
            "kind": "individual",
            "resource": "hot_water",
            "serial_number": "HW-1",
            "zones": 1,
            "installed_on": "2024-01-01",
            "status": "active",
        },
    )
    # The engineer may not change ownerships (people): that inline is read-only for them.
    assert client.post(url, data).status_code == 302
    assert Meter.objects.get(serial_number="HW-1").tenant == world_a.tenant
