"""Fixtures for the admin tests: two tenants' worth of data and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import admin_factories as factories
import pytest
from django.test import Client


@pytest.fixture
def world_a(db: Any) -> factories.World:
    return factories.world("Alpha")


@pytest.fixture
def world_b(db: Any) -> factories.World:
    return factories.world("Beta")


@pytest.fixture
def client_as(db: Any) -> Callable[[Any], Client]:
    def login(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def staff_client(world_a: factories.World, client_as: Callable[[Any], Client]) -> Any:
    """A client logged in as a tenant-A user of the given role."""
    return lambda role: client_as(factories.user(world_a.tenant, role))
