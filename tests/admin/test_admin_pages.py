"""Every admin page answers, for a superuser and for a tenant chairman, in a fixed number of
queries on the big lists."""

from __future__ import annotations

from typing import Any

import admin_factories as factories
import pytest
from admin_factories import admin_url, kvit_models
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kvit.accounts.models import Account
from kvit.controls.models import ToDo
from kvit.ledger.models import LedgerEntry
from kvit.metering.models import Reading
from kvit.online.models import OnlineEvent, OnlineTransaction
from kvit.payments.models import Payment, SuspensePayment
from kvit.registries.models import RegistryLine, RegistryReading, StatementCredit
from kvit.tariffs.models import Tariff
from kvit.users.admin_scoping import ParentEditedAdmin
from kvit.users.models import User

pytestmark = pytest.mark.django_db

MODELS = kvit_models()
# Edited only inline on their parent (shares must add up to 1, tiers must be consistent).
PARENT_EDITED = {m for m, a in admin.site._registry.items() if isinstance(a, ParentEditedAdmin)}
# Never added nor changed in the back-office: actions post them.
READ_ONLY = {
    LedgerEntry,
    Payment,
    SuspensePayment,
    OnlineTransaction,
    OnlineEvent,
    RegistryLine,
    RegistryReading,
    StatementCredit,
    ToDo,
}


def test_every_reference_model_has_an_admin() -> None:
    labels = {m._meta.label for m in MODELS}
    assert len(labels) == 39
    assert {"accounts.Account", "metering.Reading", "users.User", "tenants.Tenant"} <= labels


@pytest.fixture(params=["superuser", "chairman"])
def who(request: Any, world_a: factories.World, world_b: factories.World) -> User:
    if request.param == "superuser":
        return factories.superuser()
    return factories.user(world_a.tenant, "chairman")


def obj_of(world: factories.World, model: Any, fallback: User) -> Any:
    if model is User:
        return fallback
    return next(o for o in world.objects() if type(o) is model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_add_change_and_history_pages(
    model: Any, who: User, world_a: factories.World, client_as: Any
) -> None:
    client = client_as(who)
    obj = obj_of(world_a, model, who)
    assert client.get(admin_url(model, "changelist")).status_code == 200
    add_forbidden = model in PARENT_EDITED | READ_ONLY or (
        model._meta.label == "tenants.Tenant" and not who.is_superuser
    )
    assert client.get(admin_url(model, "add")).status_code == (403 if add_forbidden else 200)
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert client.get(admin_url(model, "history", obj.pk)).status_code == 200
    if hasattr(model, "history"):
        version = model.history.filter(id=obj.pk).first()
        response = client.get(admin_url(model, "simple_history", obj.pk, version.history_id))
        assert response.status_code == 200


def test_history_cannot_be_reverted(world_a: factories.World, client_as: Any) -> None:
    client = client_as(factories.superuser())
    building = world_a.building
    version = building.history.first()
    url = admin_url(type(building), "simple_history", building.pk, version.history_id)
    response = client.post(url, {"address": "Reverted", "total_area": "1", "common_area": "1"})
    assert response.status_code == 403
    building.refresh_from_db()
    assert building.address != "Reverted"


def test_account_page_lists_the_premise_meters_with_readings_and_links(
    world_a: factories.World, staff_client: Any
) -> None:
    response = staff_client("operator").get(admin_url(Account, "change", world_a.account.pk))
    page = response.content.decode()
    assert world_a.meter.serial_number in page
    assert admin_url(type(world_a.meter), "change", world_a.meter.pk) in page
    assert admin_url(Reading, "change", world_a.reading.pk) in page
    assert f"{admin_url(Reading, 'add')}?meter={world_a.meter.pk}" in page


def test_cashier_gets_no_add_reading_link(world_a: factories.World, staff_client: Any) -> None:
    response = staff_client("cashier").get(admin_url(Account, "change", world_a.account.pk))
    assert response.status_code == 200
    assert f"{admin_url(Reading, 'add')}?meter=" not in response.content.decode()


@pytest.mark.parametrize("model", [Account, Reading], ids=lambda m: m._meta.label)
def test_big_lists_cost_the_same_queries_at_any_size(
    model: Any, world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client("chairman")
    url = admin_url(model, "changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    for _ in range(3):
        factories.more_rows(world_a)
    assert queries() == before


def test_parent_edited_rows_go_with_their_parent_but_not_alone(
    world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client("accountant")
    tier = world_a.tier
    assert client.post(admin_url(type(tier), "delete", tier.pk), {"post": "yes"}).status_code == 403
    response = client.post(admin_url(Tariff, "delete", world_a.tariff.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Tariff.objects.filter(pk=world_a.tariff.pk).exists()
