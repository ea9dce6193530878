"""Fixtures for the ledger tests: `books`, with January 2024 open."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_books import JAN, Books

from kvit.ledger.actions import open_period


@pytest.fixture
def books(make: Any, db: Any) -> Books:
    tenant = make.tenant()
    account = make.account(make.premise(make.building(tenant)))
    water, heat = make.provider(tenant), make.provider(tenant)
    open_period(tenant, JAN)
    return Books(
        tenant=tenant,
        account=account,
        water=water,
        heat=heat,
        water_service=make.service(tenant, provider=water),
        heat_service=make.service(tenant, provider=heat, code="heat", method="per_area"),
        user=make.user(tenant, "accountant"),
    )
