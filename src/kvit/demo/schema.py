"""The tables the demo writes, in write order, and the field order of their row tuples.

Every row the generator produces is a tuple in the order of `Table.fields`. Values are
already in database form: int, str (dates as ISO text, decimals as text, datetimes as
naive UTC text), bool or None, so the writer only has to serialise them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

from django.apps import apps
from django.db import models


@dataclass(frozen=True, eq=False)  # identity equality: a fast hash for dict keys
class Table:
    label: str  # "app.Model", or "app.Model.m2m_field" for an auto-created through table
    fields: tuple[str, ...]
    tenant_via: str  # lookup from a row to its tenant's id, for deleting demo tenants

    @cached_property
    def model(self) -> type[models.Model]:
        app_label, model_name, *m2m = self.label.split(".")
        model = apps.get_model(app_label, model_name)
        if m2m:
            return cast(type[models.Model], model._meta.get_field(m2m[0]).remote_field.through)
        return model

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @cached_property
    def columns(self) -> tuple[str, ...]:
        columns = {f.name: str(f.column) for f in self.model._meta.concrete_fields}
        return tuple(columns[f] for f in self.fields)

    def __repr__(self) -> str:
        return f"Table({self.label})"


EFFECTIVE = ("effective_from", "effective_to")

TENANT = Table("tenants.Tenant", ("id", "code", "name", "kind", "currency"), "id")
NODE = Table(
    "tenants.HierarchyNode", ("id", "tenant", "parent", "kind", "code", "name", "path"), "tenant"
)
PROVIDER = Table(
    "providers.Provider",
    ("id", "tenant", "name", "short_name", "inn", "kpp", "settlement_account", "bic",
     "corr_account", "bank_name", "address", "phone", "email", "website"),
    "tenant",
)  # fmt: skip
SERVICE = Table(
    "tariffs.Service",
    ("id", "tenant", "code", "name", "unit", "method", "resource", "provider",
     "absence_recalc_allowed", "increase_coefficient_applies", "penalty_scheme",
     "part_of_maintenance", "sort_order"),
    "tenant",
)  # fmt: skip
TARIFF = Table(
    "tariffs.Tariff",
    ("id", "tenant", "service", "group", "value", "vat_included", *EFFECTIVE),
    "tenant",
)
TIER = Table("tariffs.TariffTier", ("id", "tariff", "upper_bound", "value"), "tariff__tenant")
ZONE = Table("tariffs.TariffZone", ("id", "tariff", "zone", "value"), "tariff__tenant")
NORM = Table(
    "tariffs.Norm",
    ("id", "tenant", "service", "kind", "rooms", "persons", "value", *EFFECTIVE),
    "tenant",
)
BENEFIT_CATEGORY = Table(
    "people.BenefitCategory", ("id", "tenant", "code", "name", "rate"), "tenant"
)
BENEFIT_CATEGORY_SERVICE = Table(
    "people.BenefitCategory.services",
    ("id", "benefitcategory", "service"),
    "benefitcategory__tenant",
)
PARAMETER = Table(
    "parameters.Parameter", ("id", "tenant", "name", "value", "note", *EFFECTIVE), "tenant"
)
USER = Table(
    "users.User",
    ("id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
     "email", "is_staff", "is_active", "date_joined", "tenant", "role"),
    "tenant",
)  # fmt: skip
BUILDING = Table(
    "premises.Building",
    ("id", "tenant", "node", "address", "fias_id", "management_method", "total_area",
     "common_area", "heating_scheme", "capital_repair_fund", "due_day"),
    "tenant",
)  # fmt: skip
BUILDING_RESOURCE = Table(
    "premises.BuildingResource", ("id", "building", "resource", "common_meter"), "building__tenant"
)
PREMISE = Table(
    "premises.Premise",
    ("id", "tenant", "building", "node", "number", "kind", "area", "living_area", "rooms",
     "communal_flat"),
    "tenant",
)  # fmt: skip
METER_IMPOSSIBILITY = Table(
    "premises.MeterImpossibility",
    ("id", "premise", "resource", "act_number", "act_on"),
    "premise__tenant",
)
PERSON = Table(
    "people.Person",
    ("id", "tenant", "last_name", "first_name", "middle_name", "birth_date", "inn", "phone",
     "email"),
    "tenant",
)  # fmt: skip
OWNERSHIP = Table(
    "people.Ownership",
    ("id", "premise", "owner", "share_numerator", "share_denominator", "document", *EFFECTIVE),
    "premise__tenant",
)
ACCOUNT = Table(
    "accounts.Account",
    ("id", "tenant", "number", "premise", "node", "consumer_kind", "payer", "share_numerator",
     "share_denominator", "opened_on", "closed_on"),
    "tenant",
)  # fmt: skip
CONTRACT = Table(
    "accounts.Contract",
    ("id", "account", "number", "signed_on", "organisation_name", "inn", "kpp",
     "price_category", "voltage_level", "contracted_volume"),
    "account__tenant",
)  # fmt: skip
ACCOUNT_SERVICE = Table(
    "accounts.AccountService",
    ("id", "account", "service", "provider", "tariff_group", *EFFECTIVE),
    "account__tenant",
)
REGISTRATION = Table(
    "people.Registration",
    ("id", "account", "person", "kind", "document", *EFFECTIVE),
    "account__tenant",
)
BENEFIT = Table(
    "people.Benefit",
    ("id", "account", "person", "category", "document", *EFFECTIVE),
    "account__tenant",
)
METER = Table(
    "metering.Meter",
    ("id", "tenant", "kind", "resource", "serial_number", "premise", "building", "node",
     "zones", "integer_digits", "fraction_digits", "transform_ratio", "installed_on",
     "verified_on", "verification_interval_years", "sealed_on", "removed_on", "failed_on",
     "status"),
    "tenant",
)  # fmt: skip
READING = Table(
    "metering.Reading",
    ("id", "meter", "zone", "taken_on", "value", "source", "kind", "status", "reason",
     "created_at"),
    "meter__tenant",
)  # fmt: skip
USER_ACCOUNT = Table("users.User.accounts", ("id", "user", "account"), "account__tenant")
AGGREGATOR = Table(
    "online.Aggregator",
    ("id", "tenant", "code", "name", "provider", "secret", "previous_secret",
     "previous_secret_until", "tolerance", "is_active", "created_at"),
    "tenant",
)  # fmt: skip

# Parents before children: the order rows are written in (and deleted in reverse).
TABLES: tuple[Table, ...] = (
    TENANT, NODE, PROVIDER, SERVICE, TARIFF, TIER, ZONE, NORM, BENEFIT_CATEGORY,
    BENEFIT_CATEGORY_SERVICE, PARAMETER, AGGREGATOR, USER, BUILDING, BUILDING_RESOURCE, PREMISE,
    METER_IMPOSSIBILITY, PERSON, OWNERSHIP, ACCOUNT, CONTRACT, ACCOUNT_SERVICE, REGISTRATION,
    BENEFIT, METER, READING, USER_ACCOUNT,
)  # fmt: skip
