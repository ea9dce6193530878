"""Fixtures for the registry tests: `bank` (see registry_bank.py), stored files in a
temporary directory."""

from __future__ import annotations

from typing import Any

import pytest
from registry_bank import FEB, JAN, MAR, Bank

from kvit.ledger.actions import open_period


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_bank(make: Any, accounts: int = 5) -> Bank:
    tenant = make.tenant()
    water = make.provider(tenant, name="Vodokanal")
    service = make.service(tenant, code="water", provider=water, penalty_scheme="none")
    building = make.building(tenant)
    bank = Bank(make=make, tenant=tenant, water=water, water_service=service)
    for period in (JAN, FEB, MAR):
        open_period(tenant, period)
    for n in range(accounts):
        account = make.account(make.premise(building), number=f"{n + 1:06d}")
        bank.accounts.append(account)
        bank.owe(account)
    return bank


@pytest.fixture
def bank(make: Any, db: Any) -> Bank:
    return make_bank(make)
