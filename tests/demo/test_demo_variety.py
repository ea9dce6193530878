"""The smallest demo (500 accounts) already shows every case the back office has to handle."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction
from itertools import pairwise

import pytest
from django.db.models import Count, Q

from kvit.accounts.models import Account, AccountService, Contract
from kvit.metering.models import Meter, Reading
from kvit.parameters.models import Parameter
from kvit.people.models import Benefit, BenefitCategory, Ownership, Registration
from kvit.people.queries import premise_share_errors
from kvit.premises.models import Building, MeterImpossibility, Premise
from kvit.providers import validators
from kvit.providers.models import Provider
from kvit.tariffs.models import Norm, Tariff
from kvit.tenants.models import HierarchyNode, Tenant
from kvit.users.models import User

WINDOW_START, WINDOW_END = date(2024, 7, 1), date(2025, 7, 1)

pytestmark = pytest.mark.usefixtures("seeded")


def uk() -> Tenant:
    return Tenant.objects.get(code="demo-uk")


def energo() -> Tenant:
    return Tenant.objects.get(code="demo-energo")


def test_two_tenants_share_the_accounts_60_40() -> None:
    assert uk().kind == "management_company"
    assert energo().kind == "energy_sales"
    assert Account.objects.filter(tenant=uk()).count() == 300
    assert Account.objects.filter(tenant=energo()).count() == 200


def test_housing_tree_is_company_building_entrance() -> None:
    buildings = HierarchyNode.objects.filter(tenant=uk(), kind="building")
    assert buildings.count() >= 3
    assert set(buildings.values_list("parent__kind", flat=True)) == {"company"}
    entrance = HierarchyNode.objects.select_related("parent").filter(kind="entrance")[0]
    assert entrance.parent is not None and entrance.parent.kind == "building"
    assert entrance.path == f"{entrance.parent.path}{entrance.pk}/"
    premise = Premise.objects.select_related("node").filter(tenant=uk())[0]
    assert premise.node is not None and premise.node.kind == "entrance"
    assert Building.objects.get(pk=premise.building_id).node_id == premise.node.parent_id


def test_energy_tree_runs_region_to_transformer_point() -> None:
    kinds = ["region", "district", "substation", "feeder", "transformer_point"]
    point = HierarchyNode.objects.filter(tenant=energo(), kind="transformer_point")[0]
    chain = []
    node: HierarchyNode | None = point
    while node is not None:
        chain.append(node.kind)
        node = node.parent
    assert chain == kinds[::-1]
    assert point.descendants().count() == 1
    assert HierarchyNode.objects.get(pk=point.path.split("/")[1]).kind == "region"
    assert Meter.objects.filter(tenant=energo(), kind="feeder_head").exists()


def test_housing_services_tariffs_and_norms() -> None:
    codes = set(uk().service_set.values_list("code", flat=True))
    assert {"maintenance", "current_repair", "capital_repair", "cold_water", "hot_water",
            "heating", "electricity", "solid_waste", "common_electricity"} <= codes  # fmt: skip
    capital = uk().service_set.get(code="capital_repair")
    assert Provider.objects.filter(service=capital, short_name="Фонд капремонта").exists()
    changed = Tariff.objects.filter(
        service__tenant=uk(), effective_from__gt=WINDOW_START, effective_from__lt=WINDOW_END
    )
    assert changed.exists(), "some tariff changes inside the seeded year"
    assert Tariff.objects.filter(service__tenant=uk(), group="electric_stove").exists()
    assert Norm.objects.filter(tenant=uk(), kind="per_person").exists()
    assert Norm.objects.filter(tenant=uk(), kind="per_common_area").exists()


def test_energy_tariffs_are_tiered_and_day_night() -> None:
    tiered = Tariff.objects.filter(service__tenant=energo(), service__method="tiered")
    assert tiered.exists()
    assert all(t.tiers.filter(upper_bound__isnull=True).count() == 1 for t in tiered)
    day_night = Tariff.objects.filter(service__tenant=energo(), service__method="time_of_use")
    assert all({z.zone for z in t.zones.all()} == {"day", "night"} for t in day_night)
    assert Norm.objects.filter(tenant=energo(), rooms=2, persons=3).exists()


def test_tariffs_never_overlap() -> None:
    spans: dict[tuple[int, str], list[Tariff]] = defaultdict(list)
    for tariff in Tariff.objects.order_by("effective_from"):
        spans[(tariff.service_id, tariff.group)].append(tariff)
    for tariffs in spans.values():
        for before, after in pairwise(tariffs):
            assert before.effective_to == after.effective_from


def test_parameters_keep_defaults_but_one_example_override() -> None:
    assert list(Parameter.objects.values_list("name", flat=True)) == ["reading_cutoff_day"]


def test_providers_have_valid_bank_details() -> None:
    for provider in Provider.objects.all():
        provider.full_clean()
        assert validators.account_key_ok(provider.bic, provider.settlement_account)
        assert validators.account_key_ok(provider.bic, provider.corr_account, correspondent=True)


def test_a_meter_is_replaced_mid_month() -> None:
    old = Meter.objects.filter(status="removed", premise__isnull=False)[0]
    assert old.removed_on is not None and old.removed_on.day > 1
    assert old.readings.latest("taken_on", "id").kind == "final"
    new = Meter.objects.get(
        premise=old.premise_id, resource=old.resource, installed_on=old.removed_on
    )
    assert new.readings.earliest("taken_on", "id").kind == "initial"
    assert new.status == "active"


def test_a_meter_fails_and_is_no_longer_read() -> None:
    meter = Meter.objects.filter(status="failed")[0]
    failed_on = meter.failed_on
    assert failed_on is not None and WINDOW_START < failed_on < WINDOW_END
    assert meter.readings.latest("taken_on", "id").taken_on < failed_on


def test_a_meter_rolls_over() -> None:
    rolled = 0
    for meter in Meter.objects.filter(integer_digits=4):
        values = [r.value for r in meter.readings.filter(status="accepted").order_by("taken_on")]
        drops = [(a, b) for a, b in pairwise(values) if b < a]
        assert all(meter.capacity - a + b <= meter.capacity / 10 for a, b in drops)
        rolled += len(drops)
    assert rolled >= 1


def test_twelve_months_of_readings_some_missing() -> None:
    months = Reading.objects.filter(kind="actual", source="consumer").dates("taken_on", "month")
    assert list(months) == [date(2024 + (6 + n) // 12, (6 + n) % 12 + 1, 1) for n in range(12)]
    per_meter = (
        Reading.objects.filter(kind="actual", zone="total", taken_on__gte=WINDOW_START)
        .values("meter")
        .annotate(n=Count("id"))
    )
    assert any(row["n"] < 12 for row in per_meter), "some months are missing"
    assert Reading.objects.filter(status="rejected").exclude(reason="").count() == (
        Reading.objects.filter(status="rejected").count()
    )


def test_day_night_meters_have_both_zones() -> None:
    meter = Meter.objects.filter(zones=2)[0]
    assert set(meter.readings.values_list("zone", flat=True)) == {"day", "night"}


def test_co_owned_premises_shares_add_up_to_one() -> None:
    co_owned = (
        Ownership.objects.filter(effective_to__isnull=True)
        .values("premise")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
    )
    assert co_owned.count() >= 2
    for row in co_owned:
        assert premise_share_errors(row["premise"]) == []
    sold = Ownership.objects.filter(effective_to__isnull=False)[0]
    assert premise_share_errors(sold.premise_id) == []


def test_co_owners_with_separate_share_accounts() -> None:
    accounts = Account.objects.filter(share_denominator__gt=1)
    premises = {a.premise_id for a in accounts}
    assert premises
    for premise in premises:
        shares = Account.objects.filter(premise=premise)
        assert sum((a.share for a in shares), Fraction(0)) == 1


def test_beneficiaries() -> None:
    assert BenefitCategory.objects.filter(tenant=uk()).count() >= 3
    assert BenefitCategory.objects.filter(services__isnull=False).exists()
    assert Benefit.objects.filter(account__tenant=uk()).exists()
    assert Benefit.objects.filter(account__tenant=energo()).exists()


def test_moves_in_and_out_and_temporary_registrations() -> None:
    left = Registration.objects.filter(effective_to__gte=WINDOW_START, effective_to__lt=WINDOW_END)
    arrived = Registration.objects.filter(
        effective_from__gte=WINDOW_START, effective_from__lt=WINDOW_END
    )
    assert left.exists() and arrived.exists()
    assert Registration.objects.filter(kind="temporary", effective_to__isnull=False).exists()
    assert Account.objects.filter(closed_on__isnull=False).exists(), "a house is sold"


def test_meters_missing_with_and_without_an_act() -> None:
    assert MeterImpossibility.objects.filter(resource="hot_water").exists()
    without_cold = Premise.objects.filter(tenant=uk()).exclude(meters__resource="cold_water")
    assert without_cold.exclude(meter_impossibilities__resource="cold_water").exists()


def test_legal_consumers_have_contracts_and_transformer_meters() -> None:
    legal = Account.objects.filter(tenant=energo(), consumer_kind="legal")
    assert legal.count() >= 5
    for contract in Contract.objects.filter(account__in=legal):
        contract.full_clean()
        assert len(contract.inn) == 10 and contract.kpp
    ratios = set(
        Meter.objects.filter(premise__accounts__in=legal).values_list("transform_ratio", flat=True)
    )
    assert ratios & {40, 80}
    assert AccountService.objects.filter(account__in=legal, service__code="electricity_legal")


def test_users_per_tenant_and_consumers() -> None:
    assert User.objects.get(username="admin").is_superuser
    for tenant in (uk(), energo()):
        staff = User.objects.filter(tenant=tenant, is_staff=True)
        assert set(staff.values_list("role", flat=True)) == {"chairman", "accountant", "engineer"}
        consumers = User.objects.filter(tenant=tenant, role="consumer")
        assert consumers.exists()
        for user in consumers:
            assert not user.is_staff
            assert 2 <= user.accounts.count() <= 3
            assert not user.accounts.filter(~Q(tenant=tenant)).exists()
            user.full_clean()


def test_logins_are_printed(seeded: str) -> None:
    assert "admin / demo-admin" in seeded
    assert "uk-chairman / demo-staff" in seeded
    assert "energo-consumer-1 / demo-consumer" in seeded
