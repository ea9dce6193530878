"""Small factories for the admin tests: one tenant's worth of reference data, every row valid."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.urls import reverse
from stdnum.ru import inn as stdnum_inn

from kvit.accounts.models import Account, AccountService, Contract
from kvit.controls.models import ToDo
from kvit.ledger.actions import open_period, post_entries
from kvit.ledger.models import BillingPeriod, LedgerEntry
from kvit.metering.models import Meter, Reading
from kvit.online.models import Aggregator, OnlineEvent, OnlineTransaction
from kvit.parameters.models import Parameter
from kvit.payments.models import Payment, PaymentEvent, PaymentSplit, SuspensePayment
from kvit.people.models import Absence, Benefit, BenefitCategory, Ownership, Person, Registration
from kvit.premises.models import Building, BuildingResource, MeterImpossibility, Premise
from kvit.providers.models import Provider
from kvit.providers.validators import account_key_ok
from kvit.registries.models import (
    BankStatement,
    Registry,
    RegistryFormat,
    RegistryLine,
    RegistryReading,
    StatementCredit,
)
from kvit.tariffs.models import Norm, Service, Tariff, TariffTier, TariffZone
from kvit.tenants.models import HierarchyNode, Tenant
from kvit.users.models import User

BIC = "044525225"
CORR_ACCOUNT = "30101810400000000225"
START = date(2024, 1, 1)
_numbers = itertools.count(1)


def saved(obj: Any) -> Any:
    obj.full_clean()
    obj.save()
    return obj


def company_inn(n: int) -> str:
    first_nine = f"77{n:07d}"
    return first_nine + stdnum_inn.calc_company_check_digit(first_nine)


def settlement_account(n: int) -> str:
    keyed = (f"40702810{key}{n:011d}" for key in range(10))
    return next(account for account in keyed if account_key_ok(BIC, account))


def user(tenant: Tenant | None, role: str = "chairman", **fields: Any) -> User:
    fields = {"username": f"user{next(_numbers)}", "is_staff": role != "consumer", **fields}
    obj = User(tenant=tenant, role=role, **fields)
    obj.set_password("pw")
    return saved(obj)


def superuser() -> User:
    return user(None, role="", is_superuser=True)


@dataclass
class World:
    """One row of every reference model, all of one tenant."""

    tenant: Tenant
    node: HierarchyNode
    provider: Provider
    building: Building
    building_resource: BuildingResource
    premise: Premise
    impossibility: MeterImpossibility
    person: Person
    ownership: Ownership
    category: BenefitCategory
    service: Service
    tariff: Tariff
    tier: TariffTier
    zone: TariffZone
    norm: Norm
    parameter: Parameter
    account: Account
    legal_account: Account
    contract: Contract
    account_service: AccountService
    registration: Registration
    benefit: Benefit
    absence: Absence
    meter: Meter
    reading: Reading
    billing_period: BillingPeriod
    ledger_entry: LedgerEntry
    payment: Payment
    suspense_payment: SuspensePayment
    aggregator: Aggregator
    online_transaction: OnlineTransaction
    online_event: OnlineEvent
    registry_format: RegistryFormat
    registry: Registry
    registry_line: RegistryLine
    registry_reading: RegistryReading
    bank_statement: BankStatement
    statement_credit: StatementCredit
    to_do: ToDo

    def objects(self) -> list[Any]:
        return [getattr(self, name) for name in self.__dataclass_fields__]


def world(name: str = "") -> World:
    n = next(_numbers)
    name = name or f"Organisation {n}"
    tenant = saved(Tenant(code=f"org-{n}", name=name, kind=Tenant.Kind.HOA))
    node = saved(HierarchyNode(tenant=tenant, kind="district", code=f"d{n}", name=f"{name} D"))
    provider = saved(
        Provider(
            tenant=tenant,
            name=f"{name} Water",
            inn=company_inn(n),
            kpp="770101001",
            bic=BIC,
            settlement_account=settlement_account(n),
            corr_account=CORR_ACCOUNT,
            bank_name="Sberbank",
        )
    )
    building = saved(
        Building(
            tenant=tenant,
            address=f"{name}, Lenina st. {n}",
            total_area=Decimal("3000.00"),
            common_area=Decimal("400.00"),
        )
    )
    premise = saved(Premise(tenant=tenant, building=building, number=f"{n}", area=Decimal("54.30")))
    person = saved(Person(tenant=tenant, last_name=f"{name} Ivanov", first_name="Ivan"))
    service = saved(
        Service(
            tenant=tenant,
            code=f"cw-{n}",
            name=f"{name} cold water",
            unit="m3",
            method="metered",
            resource="cold_water",
            provider=provider,
        )
    )
    tariff = saved(Tariff(tenant=tenant, service=service, effective_from=START))
    category = saved(BenefitCategory(tenant=tenant, code=f"v{n}", name="Veteran", rate="0.5"))
    account = saved(
        Account(tenant=tenant, number=f"{n:08d}", premise=premise, payer=person, opened_on=START)
    )
    legal = saved(
        Account(tenant=tenant, number=f"L{n:07d}", consumer_kind="legal", opened_on=START)
    )
    meter = saved(
        Meter(
            tenant=tenant,
            premise=premise,
            resource="cold_water",
            serial_number=f"SN-{n}",
            installed_on=START,
        )
    )
    billing_period = open_period(tenant, START)
    (ledger_entry,) = post_entries(
        [
            LedgerEntry(
                tenant=tenant,
                account=account,
                provider=provider,
                service=service,
                period=START,
                posted_on=date(2024, 1, 31),
                kind=LedgerEntry.Kind.CHARGE,
                amount=Decimal("45.12"),
                quantity=Decimal("1.000000"),
                unit="m3",
                tariff=Decimal("45.120000"),
            )
        ]
    )
    paid = {"source": "sber", "paid_at": datetime(2024, 2, 5, 12, tzinfo=UTC)}
    payment = saved(
        Payment(
            tenant=tenant,
            external_id=f"op-{n}",
            account=account,
            account_number=account.number,
            amount=Decimal("45.12"),
            net_amount=Decimal("45.12"),
            status=Payment.Status.POSTED,
            **paid,
        )
    )
    saved(PaymentSplit(payment=payment, provider=provider, service=service, amount=Decimal(1)))
    saved(PaymentEvent(payment=payment, kind=PaymentEvent.Kind.POSTED, at=paid["paid_at"]))
    unidentified = saved(
        Payment(
            tenant=tenant,
            external_id=f"op-{n}-x",
            account_number="99999999",
            amount=Decimal("10.00"),
            net_amount=Decimal("10.00"),
            status=Payment.Status.SUSPENSE,
            suspense_reason=Payment.SuspenseReason.UNKNOWN_ACCOUNT,
            **paid,
        )
    )
    aggregator = saved(
        Aggregator(tenant=tenant, code="testbank", name="Test bank", secret="s" * 32)
    )
    online_transaction = saved(
        OnlineTransaction(
            tenant=tenant,
            aggregator=aggregator,
            external_id=f"tb-{n}",
            account_number=account.number,
            account=account,
            amount=Decimal("10.00"),
            state=OnlineTransaction.State.CREATED,
            created_at=paid["paid_at"],
        )
    )
    online_event = saved(
        OnlineEvent(
            tenant=tenant,
            aggregator=aggregator,
            transaction=online_transaction,
            operation=OnlineEvent.Operation.CREATE,
            outcome="created",
            status_code=200,
            body_sha256="0" * 64,
            at=paid["paid_at"],
        )
    )
    registry = saved(
        Registry(
            tenant=tenant,
            format_code="sberbank",
            source="sberbank",
            file_name=f"reestr-{n}.txt",
            sha256=f"{n:064d}",
            size=100,
            status=Registry.Status.IMPORTED,
            imported_at=paid["paid_at"],
            lines=1,
            posted=1,
        )
    )
    statement = saved(
        BankStatement(
            tenant=tenant,
            file_name=f"kl_to_1c-{n}.txt",
            sha256=f"{n:064d}",
            imported_at=paid["paid_at"],
            credits=1,
            amount=Decimal("99.00"),
        )
    )
    return World(
        tenant=tenant,
        node=node,
        provider=provider,
        building=building,
        building_resource=saved(
            BuildingResource(building=building, resource="cold_water", common_meter="present")
        ),
        premise=premise,
        impossibility=saved(
            MeterImpossibility(premise=premise, resource="gas", act_number="1", act_on=START)
        ),
        person=person,
        ownership=saved(Ownership(premise=premise, owner=person, effective_from=START)),
        category=category,
        service=service,
        tariff=tariff,
        tier=saved(TariffTier(tariff=tariff, upper_bound=None, value=Decimal("40"))),
        zone=saved(TariffZone(tariff=tariff, zone="total", value=Decimal("40"))),
        norm=saved(
            Norm(
                tenant=tenant,
                service=service,
                kind="per_person",
                effective_from=START,
                value=Decimal("4.85"),
            )
        ),
        parameter=saved(Parameter(tenant=tenant, name="due_day", value="12", effective_from=START)),
        account=account,
        legal_account=legal,
        contract=saved(
            Contract(
                account=legal,
                number=f"C-{n}",
                signed_on=START,
                organisation_name=f"{name} Bakery",
                inn=company_inn(n + 5000),
                kpp="770101001",
            )
        ),
        account_service=saved(
            AccountService(
                account=account, service=service, provider=provider, effective_from=START
            )
        ),
        registration=saved(Registration(account=account, person=person, effective_from=START)),
        benefit=saved(
            Benefit(account=account, person=person, category=category, effective_from=START)
        ),
        absence=saved(
            Absence(
                account=account,
                person=person,
                effective_from=date(2024, 2, 3),
                effective_to=date(2024, 2, 19),
                filed_on=date(2024, 2, 20),
            )
        ),
        meter=meter,
        reading=saved(Reading(meter=meter, taken_on=date(2024, 2, 25), value=Decimal("12.345"))),
        billing_period=billing_period,
        ledger_entry=ledger_entry,
        payment=payment,
        suspense_payment=SuspensePayment.objects.get(pk=unidentified.pk),
        aggregator=aggregator,
        online_transaction=online_transaction,
        online_event=online_event,
        registry_format=saved(
            RegistryFormat(
                tenant=tenant,
                code=f"bank-{n}",
                name=f"{name} bank",
                source=f"bank-{n}",
                columns={"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 4},
            )
        ),
        registry=registry,
        registry_line=saved(
            RegistryLine(registry=registry, number=1, outcome="posted", payment=payment)
        ),
        registry_reading=saved(
            RegistryReading(
                registry=registry,
                line=1,
                meter=meter.serial_number,
                text="12.5",
                outcome="skipped",
                reason="The payment was received before.",
            )
        ),
        bank_statement=statement,
        statement_credit=saved(
            StatementCredit(
                statement=statement,
                tenant=tenant,
                line=9,
                kind="Платежное поручение",
                number=str(n),
                dated=START,
                amount=Decimal("99.00"),
                payer_inn="7707083893",
            )
        ),
        to_do=saved(
            ToDo(
                tenant=tenant,
                kind=ToDo.Kind.BALANCE,
                subject=f"{account.number} / {provider.pk} / {service.pk}",
                account=account,
                details={
                    "account": account.number,
                    "provider": provider.name,
                    "service": service.name,
                    "cached": "45.13",
                    "entries": "45.12",
                },
                opened_at=datetime(2024, 2, 1, 2, 30, tzinfo=UTC),
                found_at=datetime(2024, 2, 1, 2, 30, tzinfo=UTC),
            )
        ),
    )


def more_rows(w: World) -> None:
    """Another premise with a payer, an account, a meter and a reading in `w`'s tenant."""
    n = next(_numbers)
    premise = saved(
        Premise(tenant=w.tenant, building=w.building, number=f"{n}", area=Decimal("40.00"))
    )
    person = saved(Person(tenant=w.tenant, last_name=f"Petrov {n}", first_name="Petr"))
    saved(
        Account(tenant=w.tenant, number=f"{n:08d}", premise=premise, payer=person, opened_on=START)
    )
    meter = saved(
        Meter(
            tenant=w.tenant,
            premise=premise,
            resource="cold_water",
            serial_number=f"SN-{n}",
            installed_on=START,
        )
    )
    saved(Reading(meter=meter, taken_on=date(2024, 2, 25), value=Decimal("1.5")))


# --- the admin pages --------------------------------------------------------------------


def admin_url(model: Any, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def kvit_models() -> list[Any]:
    return sorted(
        (m for m in admin.site._registry if m.__module__.startswith("kvit.")),
        key=lambda m: m._meta.label,
    )


def form_data(response: Any) -> dict[str, Any]:
    """What the browser would post back for the change form in `response`, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if field.disabled or value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "on" if value is True else str(value)
    return data


def add_rows(data: dict[str, Any], prefix: str, *rows: dict[str, Any]) -> dict[str, Any]:
    """Append new inline rows under `prefix` to posted `data`."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{total + offset}-{name}"] = str(value)
    data[f"{prefix}-TOTAL_FORMS"] = str(total + len(rows))
    return data
