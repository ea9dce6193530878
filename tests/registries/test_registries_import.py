"""Importing registries (kvit.registries.actions.import_registry)."""

from __future__ import annotations

import pytest
from registry_bank import Bank, sberbank

from kvit.payments.models import Payment
from kvit.registries.actions import import_registry
from kvit.registries.models import RegistryLine

pytestmark = pytest.mark.django_db


def test_smoke(bank: Bank) -> None:
    content = sberbank(bank.pays(7))
    imported = import_registry(bank.tenant, content, "r.txt", "sberbank")
    registry = imported.registry
    assert registry.status == "imported", registry.problem_texts()
    assert registry.posted == 7
    assert Payment.objects.count() == 7
    assert RegistryLine.objects.count() == 7
    again = import_registry(bank.tenant, content, "r.txt", "sberbank")
    assert again.already_imported
