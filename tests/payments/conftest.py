"""Fixtures for the payment tests: `desk`, an account with two providers and charges."""

from __future__ import annotations

from typing import Any

import pytest
from payment_desk import Desk

from kvit.ledger.actions import open_period


@pytest.fixture
def desk(make: Any, db: Any) -> Desk:
    tenant = make.tenant()
    account = make.account(make.premise(make.building(tenant)), number="000101")
    quiet = {"penalty_scheme": "none"}  # no penalties accrue: the tests post their own
    water, heat = make.provider(tenant, name="Vodokanal"), make.provider(tenant, name="Teplo")
    desk = Desk(
        make=make,
        tenant=tenant,
        account=account,
        water=water,
        heat=heat,
        water_service=make.service(tenant, code="water", provider=water, sort_order=10, **quiet),
        heat_service=make.service(
            tenant,
            code="heat",
            name="Heating",
            unit="m2",
            method="per_area",
            resource="",
            provider=heat,
            sort_order=20,
            **quiet,
        ),
        user=make.user(tenant, "accountant"),
    )
    for period in desk.periods:
        open_period(tenant, period)
    return desk
