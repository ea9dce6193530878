"""Who reads what: `kvit.users.scoping.visible()` over every tenant-owned model.

`populate()` creates rows of every model in a tenant and records which of them the consumer
of the tenant's first account may see. The tests walk `apps.get_models()`, so a new model is
covered the day it appears; if `populate()` does not create it yet, they fail and say so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import models
from simple_history.models import HistoricalChanges

from kvit.accounts.models import Account, Contract
from kvit.api.models import IdempotentRequest
from kvit.billing.models import BillRun, BillRunChunk
from kvit.controls.models import ToDo
from kvit.ledger.models import AccountBalance
from kvit.metering.models import Reading
from kvit.online.models import Aggregator, OnlineEvent, OnlineTransaction
from kvit.payments.models import Payment, PaymentEvent, PaymentSplit, SuspensePayment
from kvit.people.models import Absence
from kvit.premises.models import BuildingResource, MeterImpossibility
from kvit.registries.models import (
    BankStatement,
    Registry,
    RegistryFormat,
    RegistryLine,
    RegistryReading,
    StatementCredit,
)
from kvit.tariffs.models import TariffTier, TariffZone
from kvit.users.scoping import can_see, tenant_path, visible


def kvit_models() -> list[type[models.Model]]:
    """Concrete models of Kvit's own apps, without simple_history's Historical* copies."""
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("kvit.") and not issubclass(model, HistoricalChanges)
    ]


SCOPED = [model for model in kvit_models() if hasattr(model, "tenant_path")]


@dataclass
class World:
    """The rows of one tenant, by model, and what the consumer of `account` may see."""

    tenant: Any
    account: Any
    rows: dict[type[models.Model], set[int]] = field(default_factory=lambda: defaultdict(set))
    consumer_sees: dict[type[models.Model], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )

    def add(self, obj: Any, consumer: bool = False) -> Any:
        self.rows[type(obj)].add(obj.pk)
        if consumer:
            self.consumer_sees[type(obj)].add(obj.pk)
        return obj


def created(obj: models.Model) -> Any:
    obj.full_clean()
    obj.save()
    return obj


def populate(make: Any) -> World:
    tenant = make.tenant()
    node = make.node(tenant)
    building = make.building(tenant, node=node)
    premise = make.premise(building, node=node)
    neighbour = make.premise(building)
    account = make.account(premise)
    world = World(tenant, account)
    add = world.add
    add(tenant)
    add(node)
    add(building, consumer=True)
    add(premise, consumer=True)
    add(neighbour)
    add(account, consumer=True)
    neighbour_account = add(make.account(neighbour))
    add(created(BuildingResource(building=building, resource="heat", common_meter="present")))
    add(
        created(
            MeterImpossibility(
                premise=premise, resource="gas", act_number="7", act_on=date(2023, 1, 1)
            )
        ),
        consumer=True,
    )
    add(
        created(
            MeterImpossibility(
                premise=neighbour, resource="gas", act_number="8", act_on=date(2023, 1, 1)
            )
        )
    )

    resident = add(make.person(tenant), consumer=True)
    neighbour_resident = add(make.person(tenant))
    owner = add(make.person(tenant))
    add(make.registration(account, resident), consumer=True)
    add(make.registration(neighbour_account, neighbour_resident))
    add(make.ownership(premise, owner), consumer=True)
    add(make.ownership(neighbour, owner))
    category = add(make.benefit_category(tenant))
    add(make.benefit(account, resident, category), consumer=True)
    add(make.benefit(neighbour_account, neighbour_resident, category))
    away = {"effective_from": date(2024, 2, 1), "effective_to": date(2024, 2, 20)}
    add(created(Absence(account=account, person=resident, **away)), consumer=True)
    add(created(Absence(account=neighbour_account, person=neighbour_resident, **away)))

    provider = add(make.provider(tenant))
    service = add(make.service(tenant, provider=provider))
    tariff = add(make.tariff(service, value=None))
    add(created(TariffTier(tariff=tariff, upper_bound=Decimal(100), value=Decimal(5))))
    add(created(TariffZone(tariff=tariff, zone="day", value=Decimal(6))))
    add(make.norm(service))
    add(make.account_service(account, service, provider), consumer=True)
    add(make.account_service(neighbour_account, service, provider))
    legal = add(
        created(
            Account(
                tenant=tenant,
                number=f"L{make.n()}",
                opened_on=date(2024, 1, 1),
                consumer_kind=Account.ConsumerKind.LEGAL,
            )
        )
    )
    add(
        created(
            Contract(
                account=legal,
                number="C-1",
                signed_on=date(2024, 1, 1),
                organisation_name="LLC Romashka",
                inn="7707083893",
                kpp="773601001",
            )
        )
    )

    meter = add(make.meter(premise), consumer=True)
    neighbour_meter = add(make.meter(neighbour))
    add(make.reading(meter), consumer=True)
    add(make.reading(neighbour_meter))
    add(make.meter(tenant=tenant, kind="common_house", resource="heat", building=building))
    add(make.parameter(tenant))
    add(make.billing_period(tenant))
    add(make.entry(account, provider, service), consumer=True)
    add(make.entry(neighbour_account, provider, service))
    for balance in AccountBalance.objects.filter(account__tenant=tenant):
        add(balance, consumer=balance.account_id == account.pk)
    paid = {"paid_at": datetime(2024, 1, 5, 12, tzinfo=UTC), "amount": Decimal(100)}
    payment = add(
        created(
            Payment(
                tenant=tenant,
                source="sber",
                external_id=f"op-{make.n()}",
                account=account,
                account_number=account.number,
                net_amount=Decimal(100),
                status="posted",
                **paid,
            )
        ),
        consumer=True,
    )
    add(
        created(PaymentSplit(payment=payment, provider=provider, service=service, amount=1)),
        consumer=True,
    )
    add(created(PaymentEvent(payment=payment, kind="posted", at=paid["paid_at"])), consumer=True)
    add(
        created(
            Payment(
                tenant=tenant,
                source="sber",
                external_id=f"op-{make.n()}",
                account=neighbour_account,
                account_number=neighbour_account.number,
                net_amount=Decimal(100),
                status="posted",
                **paid,
            )
        )
    )
    unknown = add(
        created(
            Payment(
                tenant=tenant,
                source="sber",
                external_id=f"op-{make.n()}",
                account_number="nobody",
                net_amount=Decimal(100),
                status="suspense",
                suspense_reason="unknown_account",
                **paid,
            )
        )
    )
    add(SuspensePayment.objects.get(pk=unknown.pk))
    aggregator = add(
        created(Aggregator(tenant=tenant, code="testbank", name="Test bank", secret="s" * 32))
    )
    online = {"tenant": tenant, "aggregator": aggregator, "amount": Decimal(10)}
    mine = add(
        created(
            OnlineTransaction(
                external_id=f"tb-{make.n()}",
                account=account,
                account_number=account.number,
                state="created",
                created_at=paid["paid_at"],
                **online,
            )
        ),
        consumer=True,
    )
    add(
        created(
            OnlineTransaction(
                external_id=f"tb-{make.n()}",
                account=neighbour_account,
                account_number=neighbour_account.number,
                state="created",
                created_at=paid["paid_at"],
                **online,
            )
        )
    )
    add(
        created(
            OnlineEvent(
                tenant=tenant,
                aggregator=aggregator,
                transaction=mine,
                operation="create",
                outcome="created",
                status_code=200,
                body_sha256="0" * 64,
                at=paid["paid_at"],
            )
        )
    )
    add(
        created(
            IdempotentRequest(
                tenant=tenant,
                principal=f"aggregator:{aggregator.pk}",
                key="k-1",
                fingerprint="0" * 64,
                status_code=200,
                content_type="application/json",
                created_at=paid["paid_at"],
            )
        )
    )
    add(
        created(
            RegistryFormat(
                tenant=tenant,
                code="bank",
                name="Bank",
                source="bank",
                columns={"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 4},
            )
        )
    )
    registry = add(
        created(
            Registry(
                tenant=tenant,
                format_code="sberbank",
                source="sberbank",
                file_name="reestr.txt",
                sha256=f"{make.n():064d}",
                size=10,
                status="imported",
                imported_at=paid["paid_at"],
            )
        )
    )
    add(created(RegistryLine(registry=registry, number=1, outcome="posted", payment=payment)))
    add(created(RegistryReading(registry=registry, line=1, meter="1", text="1", outcome="skipped")))
    statement = add(
        created(
            BankStatement(
                tenant=tenant,
                file_name="kl_to_1c.txt",
                sha256=f"{make.n():064d}",
                imported_at=paid["paid_at"],
            )
        )
    )
    add(
        created(
            StatementCredit(
                statement=statement,
                tenant=tenant,
                line=9,
                kind="Платежное поручение",
                number="1",
                dated=date(2025, 7, 1),
                amount=Decimal("1.00"),
            )
        )
    )
    run = add(created(BillRun(tenant=tenant, period=date(2025, 7, 1), chunk_size=10)))
    add(created(BillRunChunk(run=run, index=0, account_ids=[account.pk])))
    found = paid["paid_at"]
    add(
        created(
            ToDo(
                tenant=tenant,
                kind=ToDo.Kind.BILL_RUN,
                subject=str(run.pk),
                bill_run=run,
                details={"run": str(run), "chunks": [0, "0.00"], "ledger": [1, "1.00"]},
                opened_at=found,
                found_at=found,
            )
        )
    )
    for role in ("chairman", "accountant"):
        add(make.user(tenant, role))
    return world


def rows_by_model(worlds: list[World]) -> dict[type[models.Model], set[int]]:
    merged: dict[type[models.Model], set[int]] = defaultdict(set)
    for world in worlds:
        for model, pks in world.rows.items():
            merged[model] |= pks
    return merged


def seen(user: Any, model: type[models.Model]) -> set[int]:
    return set(visible(user, model._default_manager.all()).values_list("pk", flat=True))


def check(user: Any, expected: dict[type[models.Model], set[int]]) -> list[str]:
    """What `user` sees of each scoped model that differs from `expected`."""
    problems = []
    for model in SCOPED:
        got, want = seen(user, model), expected.get(model, set())
        if got != want:
            problems.append(f"{model.__name__}: sees {sorted(got)}, expected {sorted(want)}")
    return problems


@pytest.fixture
def worlds(make: Any) -> tuple[World, World]:
    return populate(make), populate(make)


# --- the guards ---------------------------------------------------------------------------


def test_every_kvit_model_declares_its_tenant_path() -> None:
    missing = [m.__name__ for m in kvit_models() if getattr(m, "tenant_path", None) is None]
    assert missing == [], f"models without tenant_path (unscoped for every user): {missing}"
    assert len(SCOPED) >= 20


@pytest.mark.django_db
def test_populate_covers_every_scoped_model_in_both_tenants(worlds: tuple[World, World]) -> None:
    for world in worlds:
        missing = [m.__name__ for m in SCOPED if not world.rows.get(m)]
        assert missing == [], f"populate() creates no rows of {missing}: add them"


def test_tenant_path_refuses_an_unscoped_model() -> None:
    class Unscoped:
        __name__ = "Unscoped"

    with pytest.raises(TypeError, match="Unscoped does not declare tenant_path"):
        tenant_path(Unscoped)  # type: ignore[arg-type]


# --- who sees what ------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_of_every_role_see_their_tenant_and_nothing_of_another(
    make: Any, worlds: tuple[World, World]
) -> None:
    mine, theirs = worlds
    roles = ["chairman", "accountant", "engineer", "cashier", "operator", "auditor"]
    users = {role: mine.add(make.user(mine.tenant, role)) for role in roles}
    for role, user in users.items():
        assert check(user, dict(mine.rows)) == [], role
        for model in SCOPED:  # the other tenant's rows really exist
            assert seen(user, model).isdisjoint(theirs.rows[model])


@pytest.mark.django_db
def test_a_consumer_sees_only_their_own_accounts_rows(
    make: Any, worlds: tuple[World, World]
) -> None:
    mine, _ = worlds
    consumer = make.consumer(mine.account)
    assert check(consumer, dict(mine.consumer_sees)) == []
    assert can_see(consumer, mine.account)


@pytest.mark.django_db
def test_a_consumer_with_two_accounts_sees_both(make: Any, worlds: tuple[World, World]) -> None:
    mine, _ = worlds
    second = make.account(make.premise(make.building(mine.tenant)))
    consumer = make.consumer(mine.account, second)
    assert seen(consumer, Account) == {mine.account.pk, second.pk}
    assert seen(consumer, Reading) == mine.consumer_sees[Reading]


@pytest.mark.django_db
def test_a_consumer_linked_to_another_tenants_account_sees_nothing(
    make: Any, worlds: tuple[World, World]
) -> None:
    mine, theirs = worlds
    consumer = make.consumer(mine.account)
    consumer.accounts.set([theirs.account])  # a misconfigured link
    assert check(consumer, {}) == []


@pytest.mark.django_db
def test_a_superuser_sees_everything(make: Any, worlds: tuple[World, World]) -> None:
    admin = make.superuser()
    expected = rows_by_model(list(worlds))
    expected[type(admin)].add(admin.pk)
    assert check(admin, expected) == []


@pytest.mark.django_db
def test_nobody_else_sees_anything(make: Any, worlds: tuple[World, World]) -> None:
    from kvit.users.models import User

    mine, _ = worlds
    nobodies = {
        "anonymous": AnonymousUser(),
        # clean() refuses a tenant-less staff user; the scoping must hold all the same
        "no_tenant": User.objects.create(username="lost", role="accountant", is_staff=True),
        "inactive_staff": make.user(mine.tenant, "chairman", is_active=False),
        "inactive_superuser": make.superuser(is_active=False),
        "inactive_consumer": make.consumer(mine.account, is_active=False),
    }
    for who, user in nobodies.items():
        assert check(user, {}) == [], who
        assert not can_see(user, mine.account), who


@pytest.mark.django_db
def test_can_see_follows_the_tenant(make: Any, worlds: tuple[World, World]) -> None:
    mine, theirs = worlds
    user = make.user(mine.tenant, "operator")
    assert can_see(user, mine.account)
    assert not can_see(user, theirs.account)
    assert can_see(user, mine.tenant)
    assert not can_see(user, theirs.tenant)
