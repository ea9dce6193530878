"""A registry's lines and readings, and bank statements with their credits, are never
changed nor deleted: the database refuses, on SQLite and on PostgreSQL (R14). They are the
record of what the bank sent and what Kvit did with it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, models, transaction
from registry_bank import Bank, Order, Pay, sberbank, statement

from append_only_checks import raw, refused
from kvit.registries.actions import import_registry
from kvit.registries.models import (
    BankStatement,
    Registry,
    RegistryLine,
    RegistryReading,
    StatementCredit,
)
from kvit.registries.reconciliation import import_statement

pytestmark = pytest.mark.django_db

MODELS = {
    RegistryLine: "registries_line_append_only",
    RegistryReading: "registries_reading_append_only",
}


def imported(bank: Bank) -> Registry:
    bank.make.meter(bank.accounts[0].premise, serial_number="SN-1")
    pays = [Pay("OP-1", bank.accounts[0].number, readings=("SN-1", "12.5"))]
    return import_registry(bank.tenant, sberbank(pays), "r.txt", "sberbank").registry


@pytest.mark.parametrize("model", list(MODELS), ids=lambda m: m.__name__)
def test_changing_or_deleting_a_row_is_refused(bank: Bank, model: type[models.Model]) -> None:
    registry = imported(bank)
    rows: Any = model._default_manager.filter(registry=registry)
    row = rows.get()
    table = model._meta.db_table
    refused(MODELS[model], lambda: rows.update(outcome="invalid"))
    refused(MODELS[model], rows.delete)
    refused(MODELS[model], row.save)
    refused(MODELS[model], raw(f'UPDATE "{table}" SET outcome = outcome'))  # noqa: S608
    refused(MODELS[model], raw(f'DELETE FROM "{table}" WHERE id = %s', row.pk))  # noqa: S608
    assert rows.count() == 1


def test_a_registry_with_lines_cannot_be_deleted(bank: Bank) -> None:
    registry = imported(bank)
    with pytest.raises(IntegrityError), transaction.atomic():
        registry.delete()
    assert Registry.objects.filter(pk=registry.pk).exists()


STATEMENT_MODELS = {  # the constraint, a number column
    BankStatement: ("registries_statement_append_only", "credits"),
    StatementCredit: ("registries_credit_append_only", "line"),
}


@pytest.mark.parametrize("model", list(STATEMENT_MODELS), ids=lambda m: m.__name__)
def test_a_bank_statement_and_its_credits_are_never_changed(
    bank: Bank, model: type[models.Model]
) -> None:
    # A statement without credits: deleting it would otherwise be refused for its credit.
    orders = [Order()] if model is StatementCredit else []
    import_statement(bank.tenant, statement(orders), "s.txt")
    rows: Any = model._default_manager.all()
    row = rows.get()
    table = model._meta.db_table
    name, column = STATEMENT_MODELS[model]
    refused(name, lambda: rows.update(**{column: 7}))
    refused(name, rows.delete)
    refused(name, row.save)
    refused(name, raw(f'UPDATE "{table}" SET id = id'))  # noqa: S608
    refused(name, raw(f'DELETE FROM "{table}" WHERE id = %s', row.pk))  # noqa: S608
    assert rows.count() == 1
