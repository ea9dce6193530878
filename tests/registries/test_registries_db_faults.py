"""An import whose database connection the server drops fails cleanly, and importing the
file again posts it once (R26).

While a registry is being imported (some batches posted inside its transaction, the next
batch's writes perhaps on their way on the writes-behind thread), another connection ends
the importer's session with `pg_terminate_backend`. The import must raise a database error —
not hang, not report success — and leave nothing visible; the same file imported again must
then give exactly the ledger of one clean import.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection
from registry_bank import Bank, make_bank, sberbank
from test_registries_crash import ledger, payments

from db_faults import terminate_own_session
from kvit.controls import checks
from kvit.ledger.models import LedgerEntry
from kvit.payments.models import Payment
from kvit.registries import actions
from kvit.registries.actions import import_registry
from kvit.registries.models import Registry, RegistryLine

LINES = 30
BATCH = 4
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_append_only"),
]


@pytest.mark.parametrize("at", [BATCH + 1, 13, LINES - 2])
def test_an_import_whose_connection_is_dropped_fails_cleanly_and_posts_once_again(
    make: Any, monkeypatch: Any, at: int
) -> None:
    monkeypatch.setattr(actions, "BATCH", BATCH)
    dropped: Bank = make_bank(make, accounts=6)
    clean: Bank = make_bank(make, accounts=6)
    content = sberbank(dropped.pays(LINES))
    assert import_registry(clean.tenant, content, "r.txt", "sberbank").registry.posted == LINES

    reached: list[int] = []

    def progress(done: int, total: int) -> None:
        if done >= at and not reached:
            reached.append(done)
            terminate_own_session()

    with pytest.raises(DatabaseError) as failed:
        import_registry(dropped.tenant, content, "r.txt", "sberbank", progress=progress)
    assert reached and reached[0] < LINES
    assert "terminat" in str(failed.value) + str(failed.value.__cause__)
    # The next use of the connection opens a new session, as the next request's would.
    connection.close_if_unusable_or_obsolete()
    assert not Payment.objects.filter(tenant=dropped.tenant).exists()
    assert not LedgerEntry.objects.filter(tenant=dropped.tenant, kind="payment").exists()
    assert not Registry.objects.filter(tenant=dropped.tenant).exists()
    assert not RegistryLine.objects.filter(registry__tenant=dropped.tenant).exists()

    again = import_registry(dropped.tenant, content, "r.txt", "sberbank")
    assert (again.already_imported, again.registry.posted) == (False, LINES)
    assert import_registry(dropped.tenant, content, "r.txt", "sberbank").already_imported
    assert ledger(dropped.tenant) == ledger(clean.tenant)
    assert payments(dropped.tenant) == payments(clean.tenant)
    assert checks.find(dropped.tenant) == []
