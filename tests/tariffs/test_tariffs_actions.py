"""A corrected or added tariff or norm version is billed at once for every account using it:
chunk by chunk, in a fixed number of queries per chunk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kvit.ledger.queries import balance
from kvit.tariffs.actions import (
    add_norm_version,
    add_tariff_version,
    remove_tariff,
    save_norm,
    save_tariff,
)
from kvit.tariffs.models import Norm, Tariff
from realtime_world import JULY, JUNE, NORM, assert_current, billed, day, entries, water_by_norm

pytestmark = pytest.mark.django_db
ONE_PERSON = Decimal("232.27")  # 4.745 m³ × 48.95


def water_tenant(make: Any, accounts: int = 3) -> Any:
    tenant = make.tenant()
    for _ in range(accounts):
        water_by_norm(make, tenant)
    return tenant


def test_a_corrected_tariff_is_recalculated_for_every_account_using_it(make: Any) -> None:
    tenant = water_tenant(make)
    stove = water_by_norm(make, tenant)  # another tariff group: not touched
    stove_service = stove.services.get()
    stove_service.tariff_group = "electric_stove"
    stove_service.save()
    make.tariff(stove_service.service, group="electric_stove", value=Decimal("40"))
    billed(tenant)
    tariff = Tariff.objects.get(tenant=tenant, group="")
    tariff.value = Decimal("50.000000")
    done = save_tariff(tariff)
    corrected = Decimal("237.25") - ONE_PERSON  # 4.745 × 50.00
    assert (done.changed, done.periods, done.entries) == (3, [JUNE, JULY], 6)
    assert done.amount == 6 * corrected
    for account in tenant.account_set.exclude(pk=stove.pk):
        assert entries(account) == [
            (JULY.first_day, "recalculation", JUNE.first_day, "tariff_corrected", corrected),
            (JULY.first_day, "charge", None, "tariff_corrected", corrected),
        ]
    assert entries(stove) == []
    assert_current(tenant)
    assert save_tariff(tariff).entries == 0


def test_a_new_price_from_the_middle_of_the_open_period(make: Any) -> None:
    tenant = water_tenant(make, accounts=1)
    billed(tenant)
    old = Tariff.objects.get(tenant=tenant)
    new = Tariff(
        tenant=tenant, service=old.service, value=Decimal("52.100000"), effective_from=day(7, 16)
    )
    done = add_tariff_version(new)
    old.refresh_from_db()
    assert (old.effective_to, new.effective_to) == (day(7, 16), None)
    assert done.periods == [JULY]
    account = tenant.account_set.get()
    # July: 2.296 m³ for 15 days at 48.95, 2.449 m³ for 16 at 52.10 (spec 2.13)
    assert balance(account) == ONE_PERSON + Decimal("112.39") + Decimal("127.59")
    assert_current(tenant)
    with pytest.raises(ValidationError, match="Overlaps the row effective 2025-07-16"):
        add_tariff_version(
            Tariff(
                tenant=tenant, service=old.service, value=Decimal("1"), effective_from=day(7, 16)
            )
        )


def test_a_corrected_norm_of_the_closed_period_only(make: Any) -> None:
    tenant = water_tenant(make, accounts=2)
    billed(tenant)
    norm = Norm.objects.get(tenant=tenant)
    june = Norm(
        tenant=tenant,
        service=norm.service,
        kind=norm.kind,
        value=Decimal("5.000000"),
        effective_from=JUNE.first_day,
        effective_to=JULY.first_day,
    )
    done = add_norm_version(june)
    norm.refresh_from_db()
    assert norm.effective_to == JUNE.first_day
    assert done.entries == 2  # June's recalculation for each; July's norm came back as it was
    july = Norm(
        tenant=tenant,
        service=norm.service,
        kind=norm.kind,
        value=NORM,
        effective_from=JULY.first_day,
    )
    assert save_norm(july).entries == 0
    for account in tenant.account_set.all():
        assert entries(account) == [
            (JULY.first_day, "recalculation", JUNE.first_day, "tariff_corrected", Decimal("12.48"))
        ]  # 5 × 48.95 = 244.75 instead of 232.27
    assert_current(tenant)


def test_a_tariff_removed_by_mistake_leaves_the_accounts_unbilled_and_says_so(make: Any) -> None:
    tenant = water_tenant(make, accounts=2)
    billed(tenant)
    done = remove_tariff(Tariff.objects.get(tenant=tenant))
    assert done.entries == 0
    assert {item["account"] for item in done.skipped} == set(
        tenant.account_set.values_list("number", flat=True)
    )
    assert {i["code"] for item in done.skipped for i in item["issues"]} == {"no_tariff"}


def queries_of_a_correction(make: Any, accounts: int) -> int:
    tenant = water_tenant(make, accounts)
    billed(tenant)
    tariff = Tariff.objects.get(tenant=tenant)
    tariff.value = Decimal("50.000000")
    with CaptureQueriesContext(connection) as captured:
        assert save_tariff(tariff).changed == accounts
    return len(captured)


def test_a_correction_costs_the_same_queries_for_any_number_of_accounts(make: Any) -> None:
    assert queries_of_a_correction(make, 2) == queries_of_a_correction(make, 7)
