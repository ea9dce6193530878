"""Fixtures for the report tests: `world`, a small organisation with January to April 2024
open."""

from __future__ import annotations

from typing import Any

import pytest
from reports_world import World, build_world


@pytest.fixture
def world(make: Any, db: Any) -> World:
    return build_world(make)
