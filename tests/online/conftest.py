"""Fixtures for the online payment tests: `shop` (see `online_shop`)."""

from __future__ import annotations

from typing import Any

import pytest
from online_shop import Shop, open_shop


@pytest.fixture
def shop(make: Any, db: Any) -> Shop:
    return open_shop(make)
