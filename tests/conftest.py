"""Shared test setup: the database guard and plain factories that build valid objects.

Every factory fills in whatever the caller leaves out, runs `full_clean()` (so a factory that
drifts out of the validation rules fails loudly) and saves. Use them through the `make`
fixture: `make.account(make.premise(make.building(tenant)))`.

The suite runs once on SQLite and once on PostgreSQL. A test that needs PostgreSQL-only
features is marked `@pytest.mark.postgres` and is skipped on any other database; when the
configured database is PostgreSQL and the server cannot be reached, the run stops with an
error instead of skipping anything.
"""

from __future__ import annotations

import itertools
import os
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from stdnum.ru import inn as stdnum_inn

from kvit.providers.validators import account_key_ok

# The suite's Hypothesis examples are the same on every run, so the coverage gate cannot
# flake; HYPOTHESIS_PROFILE=random explores new examples (and prints a failing one's seed).
hypothesis_settings.register_profile("kvit", derandomize=True, deadline=None)
hypothesis_settings.register_profile("random", deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kvit"))

BIC = "044525225"  # a real BIC (Sberbank, Moscow); its correspondent account is below
CORR_ACCOUNT = "30101810400000000225"
ALWAYS = date(2020, 1, 1)
PERIOD = date(2024, 1, 1)  # the billing period the ledger factories post into


# --- the database guard -------------------------------------------------------------------


def database_vendor() -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgresql" if "postgresql" in engine else engine.rsplit(".", 1)[-1]


def _needs_database(item: pytest.Item) -> bool:
    uses = getattr(item, "fixturenames", ())
    return item.get_closest_marker("django_db") is not None or "django_db_setup" in uses


def _postgres_unreachable() -> str | None:
    """None when the configured PostgreSQL server answers, else why it does not."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            dbname="postgres",
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            connect_timeout=5,
        ).close()
    except psycopg.Error as error:
        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
        return f"PostgreSQL at {where} is unreachable: {error}".strip()
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = database_vendor()
    if vendor != "postgresql":
        skip = pytest.mark.skip(reason=f"needs PostgreSQL (running on {vendor})")
        for item in items:
            if item.get_closest_marker("postgres"):
                item.add_marker(skip)
        return
    if any(_needs_database(item) for item in items):
        problem = _postgres_unreachable()
        if problem:
            pytest.exit(
                f"{problem}\nDATABASE_URL points at PostgreSQL; the database tests will not "
                "be skipped. Start the server or run with a SQLite DATABASE_URL.",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )


# --- valid Russian requisites -------------------------------------------------------------


def company_inn(first_nine: str) -> str:
    """A 10-digit organisation INN with a correct check digit."""
    return first_nine + stdnum_inn.calc_company_check_digit(first_nine)


def personal_inn(first_ten: str) -> str:
    """A 12-digit personal INN with correct check digits."""
    return first_ten + stdnum_inn.calc_personal_check_digits(first_ten)


def bank_account(bic: str, head: str = "40702810", tail: str = "00000000001") -> str:
    """A 20-digit settlement account `head + key + tail` whose control key matches `bic`."""
    keyed = [head + str(key) + tail for key in range(10)]
    return next(account for account in keyed if account_key_ok(bic, account))


# --- factories ----------------------------------------------------------------------------


def saved(obj: Any) -> Any:
    obj.full_clean()
    obj.save()
    return obj


class Make:
    """Valid, saved objects with sensible defaults; keyword arguments override fields."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def n(self) -> int:
        return next(self._numbers)

    def tenant(self, **fields: Any) -> Any:
        from kvit.tenants.models import Tenant

        n = self.n()
        fields = {"code": f"org-{n}", "name": f"Organisation {n}", "kind": "hoa", **fields}
        return saved(Tenant(**fields))

    def node(self, tenant: Any, parent: Any = None, **fields: Any) -> Any:
        from kvit.tenants.models import HierarchyNode

        n = self.n()
        fields = {"kind": "district", "code": f"node-{n}", "name": f"Node {n}", **fields}
        return saved(HierarchyNode(tenant=tenant, parent=parent, **fields))

    def provider(self, tenant: Any, **fields: Any) -> Any:
        from kvit.providers.models import Provider

        n = self.n()
        fields = {
            "name": f"Provider {n}",
            "inn": company_inn(f"77{n:07d}"),
            "kpp": "770101001",
            "bic": BIC,
            "settlement_account": bank_account(BIC, tail=f"{n:011d}"),
            "corr_account": CORR_ACCOUNT,
            "bank_name": "Sberbank",
            **fields,
        }
        return saved(Provider(tenant=tenant, **fields))

    def building(self, tenant: Any, **fields: Any) -> Any:
        from kvit.premises.models import Building

        fields = {
            "address": f"Lenina st. {self.n()}",
            "total_area": Decimal("3000.00"),
            "common_area": Decimal("400.00"),
            **fields,
        }
        return saved(Building(tenant=tenant, **fields))

    def premise(self, building: Any, **fields: Any) -> Any:
        from kvit.premises.models import Premise

        fields = {
            "tenant": building.tenant,
            "number": str(self.n()),
            "area": Decimal("54.30"),
            "living_area": Decimal("32.10"),
            "rooms": 2,
            **fields,
        }
        return saved(Premise(building=building, **fields))

    def person(self, tenant: Any, **fields: Any) -> Any:
        from kvit.people.models import Person

        fields = {"last_name": f"Ivanov{self.n()}", "first_name": "Ivan", **fields}
        return saved(Person(tenant=tenant, **fields))

    def account(self, premise: Any, **fields: Any) -> Any:
        from kvit.accounts.models import Account

        fields = {
            "tenant": premise.tenant,
            "number": f"{self.n():08d}",
            "opened_on": ALWAYS,
            **fields,
        }
        return saved(Account(premise=premise, **fields))

    def service(self, tenant: Any, **fields: Any) -> Any:
        from kvit.tariffs.models import Service

        n = self.n()
        fields = {
            "code": f"svc-{n}",
            "name": f"Cold water {n}",
            "unit": "m3",
            "method": "metered",
            "resource": "cold_water",
            **fields,
        }
        return saved(Service(tenant=tenant, **fields))

    def tariff(self, service: Any, **fields: Any) -> Any:
        from kvit.tariffs.models import Tariff

        fields = {
            "tenant": service.tenant,
            "effective_from": ALWAYS,
            "value": Decimal("45.120000"),
            **fields,
        }
        return saved(Tariff(service=service, **fields))

    def norm(self, service: Any, **fields: Any) -> Any:
        from kvit.tariffs.models import Norm

        fields = {
            "tenant": service.tenant,
            "kind": "per_person",
            "effective_from": ALWAYS,
            "value": Decimal("4.850000"),
            **fields,
        }
        return saved(Norm(service=service, **fields))

    def meter(self, premise: Any = None, **fields: Any) -> Any:
        """A premise's meter; pass `tenant=` and `building=` or `node=` for the others."""
        from kvit.metering.models import Meter

        fields = {
            "tenant": premise.tenant if premise else None,
            "resource": "cold_water",
            "serial_number": f"SN-{self.n()}",
            "installed_on": ALWAYS,
            **fields,
        }
        return saved(Meter(premise=premise, **fields))

    def reading(self, meter: Any, **fields: Any) -> Any:
        from kvit.metering.models import Reading

        fields = {
            "zone": meter.zone_codes[0],
            "taken_on": date(2024, 1, 25),
            "value": Decimal("123.456"),
            **fields,
        }
        return saved(Reading(meter=meter, **fields))

    def ownership(self, premise: Any, owner: Any = None, **fields: Any) -> Any:
        from kvit.people.models import Ownership

        owner = owner or self.person(premise.tenant)
        fields = {"effective_from": ALWAYS, **fields}
        return saved(Ownership(premise=premise, owner=owner, **fields))

    def registration(self, account: Any, person: Any = None, **fields: Any) -> Any:
        from kvit.people.models import Registration

        person = person or self.person(account.tenant)
        fields = {"effective_from": ALWAYS, **fields}
        return saved(Registration(account=account, person=person, **fields))

    def benefit_category(self, tenant: Any, **fields: Any) -> Any:
        from kvit.people.models import BenefitCategory

        n = self.n()
        fields = {"code": f"cat-{n}", "name": f"Veteran {n}", "rate": Decimal("0.5"), **fields}
        return saved(BenefitCategory(tenant=tenant, **fields))

    def benefit(self, account: Any, person: Any = None, category: Any = None, **fields: Any) -> Any:
        from kvit.people.models import Benefit

        person = person or self.person(account.tenant)
        category = category or self.benefit_category(account.tenant)
        fields = {"effective_from": ALWAYS, **fields}
        return saved(Benefit(account=account, person=person, category=category, **fields))

    def account_service(
        self, account: Any, service: Any = None, provider: Any = None, **fields: Any
    ) -> Any:
        from kvit.accounts.models import AccountService

        service = service or self.service(account.tenant)
        provider = provider or self.provider(account.tenant)
        fields = {"effective_from": ALWAYS, **fields}
        return saved(AccountService(account=account, service=service, provider=provider, **fields))

    def parameter(self, tenant: Any, **fields: Any) -> Any:
        from kvit.parameters.models import Parameter

        fields = {"name": "due_day", "value": "12", "effective_from": ALWAYS, **fields}
        return saved(Parameter(tenant=tenant, **fields))

    def billing_period(self, tenant: Any, period: date = PERIOD) -> Any:
        from kvit.ledger.actions import open_period

        return open_period(tenant, period)

    def entry(self, account: Any, provider: Any = None, service: Any = None, **fields: Any) -> Any:
        """A posted ledger entry (a charge of 100.00 in January 2024 unless told otherwise);
        its period is opened if it is not yet."""
        from kvit.ledger.actions import open_period, post_entries
        from kvit.ledger.models import LedgerEntry

        provider = provider or self.provider(account.tenant)
        fields = {
            "period": PERIOD,
            "posted_on": date(2024, 1, 31),
            "kind": "charge",
            "amount": Decimal("100.00"),
            **fields,
        }
        open_period(account.tenant, fields["period"])
        entry = LedgerEntry(
            tenant=account.tenant, account=account, provider=provider, service=service, **fields
        )
        (posted,) = post_entries([entry])
        return posted

    def user(self, tenant: Any, role: str = "accountant", **fields: Any) -> Any:
        from kvit.users.models import User

        fields = {
            "username": f"user{self.n()}",
            "role": role,
            "is_staff": role != "consumer",
            **fields,
        }
        user = User(tenant=tenant, **fields)
        user.set_unusable_password()
        return saved(user)

    def consumer(self, *accounts: Any, **fields: Any) -> Any:
        user = self.user(accounts[0].tenant, role="consumer", **fields)
        user.accounts.set(accounts)
        return user

    def superuser(self, **fields: Any) -> Any:
        fields = {"is_superuser": True, "is_staff": True, "role": "", **fields}
        return self.user(None, **fields)


@pytest.fixture
def make() -> Make:
    return Make()


@pytest.fixture
def tenant(make: Make) -> Any:
    return make.tenant()


@pytest.fixture
def other_tenant(make: Make) -> Any:
    return make.tenant()


@pytest.fixture
def building(make: Make, tenant: Any) -> Any:
    return make.building(tenant)


@pytest.fixture
def premise(make: Make, building: Any) -> Any:
    return make.premise(building)


@pytest.fixture
def account(make: Make, premise: Any) -> Any:
    return make.account(premise)


@pytest.fixture
def meter(make: Make, premise: Any) -> Any:
    return make.meter(premise)


@pytest.fixture
def staff(make: Make, tenant: Any) -> dict[str, Any]:
    """One back-office user of `tenant` per staff role."""
    from kvit.users.models import Role

    return {role: make.user(tenant, role) for role in Role.values if role != Role.CONSUMER}


def empty_append_only_tables() -> None:
    """Delete every row of the append-only tables (`kvit.db.append_only`) past the
    database's refusal, and of the tables that protect what they refer to: after a test
    whose rows were committed, Django's flush truncates every table, which the triggers
    allow only for an empty one. Test-only: it uses the table owner's DDL power; nothing in
    Kvit deletes ledger rows."""
    from django.apps import apps
    from django.db import connection, transaction

    from kvit.db.append_only import AppendOnly
    from kvit.db.references import References
    from kvit.db.triggers import install_sqlite_triggers

    tables = [
        model._meta.db_table
        for model in apps.get_models()
        if any(isinstance(c, AppendOnly) for c in model._meta.constraints)
    ]
    # What refers to rows per statement (kvit.db.references) protects them from a delete,
    # and SQLite's flush deletes table by table: those rows go too, after the append-only
    # ones (a registry's lines refer to its payments) and after what refers to them by a
    # plain foreign key (an online transaction refers to its payment).
    referring: list[str] = []

    def dependents_first(model: Any) -> None:
        if model._meta.db_table in referring or model._meta.db_table in tables:
            return
        referring.append(model._meta.db_table)  # marked, then moved after its dependents
        for relation in model._meta.related_objects:
            if relation.one_to_many or relation.one_to_one:
                dependents_first(relation.related_model)
        referring.remove(model._meta.db_table)
        referring.append(model._meta.db_table)

    for model in apps.get_models():
        if any(isinstance(c, References) for c in model._meta.constraints):
            dependents_first(model)
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending before ALTER
            for table in tables:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (model metadata)
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
        else:
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
            for name, table in cursor.fetchall():
                if table in tables:
                    cursor.execute(f"DROP TRIGGER {quote(name)}")
            for table in tables:
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (model metadata)
        for table in referring:
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (model metadata)
    install_sqlite_triggers()


@pytest.fixture
def purge_append_only(transactional_db: None) -> Any:
    """For tests whose rows are committed (other connections or processes must see them):
    the append-only tables are emptied afterwards, before Django's flush."""
    yield
    empty_append_only_tables()


def clean_errors(obj: Any) -> dict[str, list[str]]:
    """The messages `full_clean()` raises for `obj`, by field name; {} when it is valid."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


@pytest.fixture(name="clean_errors")
def clean_errors_fixture() -> Any:
    return clean_errors
