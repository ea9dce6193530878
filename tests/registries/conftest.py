"""Fixtures for the registry tests: `bank` (see registry_bank.py), stored files in a
temporary directory."""

from __future__ import annotations

from typing import Any

import pytest
from registry_bank import Bank, make_bank


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def bank(make: Any, db: Any) -> Bank:
    return make_bank(make)
