"""`kvit testbank`: the test bank over HTTP against a running server, as in the demo."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from online_shop import SECRET, open_shop

from kvit.demo.housing_catalog import CODE as DEMO_HOUSING
from kvit.ledger.queries import balance
from kvit.online.models import OnlineTransaction
from kvit.online.testbank import DEFAULT_TENANT


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_append_only")
def test_pay_then_cancel_over_http(make: Any, live_server: Any) -> None:
    shop = open_shop(make)
    where = ["--url", live_server.url, "--tenant", shop.tenant.code, "--secret", SECRET]
    out = StringIO()
    call_command("testbank", "pay", "--account", "000101", "--amount", "100.00", *where, stdout=out)
    assert '"state": "performed"' in out.getvalue()
    assert '"owed": "400.00"' in out.getvalue()
    assert balance(shop.account) == Decimal("400.00")
    transaction_id = OnlineTransaction.objects.get().external_id
    call_command(
        "testbank", "cancel", "--transaction", transaction_id, "--reason", "test", *where,
        stdout=StringIO(),
    )  # fmt: skip
    assert balance(shop.account) == Decimal("500.00")
    with pytest.raises(CommandError, match="HTTP 404"):
        call_command("testbank", "check", "--account", "nobody", *where, stdout=StringIO())


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="does not answer"):
        call_command("testbank", "check", "--account", "1", "--url", "http://127.0.0.1:9")


def test_the_default_organisation_is_the_demo_management_company() -> None:
    assert DEFAULT_TENANT == DEMO_HOUSING
