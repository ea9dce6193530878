"""The reconciliation checks and the To Do list (reliability R27): an organisation whose books
add up has nothing to do; each kind of mismatch opens one To Do, which stays open while it is
found and closes when it is not."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kvit.billing.models import BillRun
from kvit.config.celery import app
from kvit.controls import actions, checks, tasks
from kvit.controls.actions import reconcile
from kvit.controls.models import ToDo
from kvit.controls.texts import describe
from kvit.ledger.actions import post_entries, rebuild_balances
from kvit.ledger.models import AccountBalance, LedgerEntry
from kvit.ledger.queries import as_money
from kvit.payments.actions import post_cash_payment, reverse_payment, transfer_from_suspense
from kvit.payments.models import Payment
from kvit.registries.actions import import_registry
from kvit.registries.models import BankStatement, Registry, StatementCredit
from realtime_world import JULY, billed, water_by_norm

pytestmark = pytest.mark.django_db

FIRST, SECOND = datetime(2025, 8, 1, 2, 30, tzinfo=UTC), datetime(2025, 8, 2, 2, 30, tzinfo=UTC)


def registry(tenant: Any, lines: list[tuple[str, str, str]], order: str = "4711") -> Registry:
    """A Sberbank-style registry of (operation, account number, amount) paid on 5 July 2025."""
    rows = []
    for op, number, amount in lines:
        fee = (Decimal(amount) / 100).quantize(Decimal("0.01"))
        rows.append(
            f"05-07-2025;12-30-00;9038;1234;77;{op};{number};Иванов И.И.;ул. Ленина, 1;0725;"
            f"{amount};{Decimal(amount) - fee};{fee}"
        )
    total = sum((Decimal(amount) for _o, _n, amount in lines), Decimal("0.00"))
    fee = sum(
        ((Decimal(a) / 100).quantize(Decimal("0.01")) for _o, _n, a in lines), Decimal("0.00")
    )
    rows.append(f"={len(lines)};{total};{total - fee};{fee};{order};06-07-2025")
    content = ("\r\n".join(rows) + "\r\n").encode("windows-1251")
    imported = import_registry(tenant, content, f"{order}.txt", "sberbank")
    assert imported.registry.status == Registry.Status.IMPORTED, imported.registry.problem_texts()
    return imported.registry


def copy_of(entry: LedgerEntry) -> LedgerEntry:
    """The entry written again, as a faulty import or run would."""
    skip = ("id", "created_at")
    fields = LedgerEntry._meta.concrete_fields
    return LedgerEntry(
        **{f.attname: getattr(entry, f.attname) for f in fields if f.attname not in skip}
    )


def paid(make: Any) -> tuple[Any, Any, Registry]:
    """An organisation billed for June and July 2025 whose two accounts paid by a registry
    that also holds a payment for an unknown account (in suspense)."""
    first = water_by_norm(make)
    tenant = first.tenant
    second = water_by_norm(make, tenant)
    billed(tenant)
    paid_by = registry(
        tenant,
        [
            ("OP-1", first.number, "150.00"),
            ("OP-2", second.number, "80.00"),
            ("OP-3", "999999", "45.00"),
        ],
    )
    return tenant, first, paid_by


def test_books_that_add_up_open_nothing_whatever_was_done_to_them(make: Any) -> None:
    tenant, first, _registry = paid(make)
    reverse_payment(Payment.objects.get(external_id="OP-2"), "recalled by the bank", None)
    transfer_from_suspense(Payment.objects.get(external_id="OP-3"), first, None)
    # The same payments again, and one new, under another payment order: duplicates.
    registry(tenant, [("OP-1", first.number, "150.00"), ("OP-4", first.number, "10.00")], "4712")
    assert BillRun.objects.filter(tenant=tenant, status="completed").count() == 2
    assert checks.find(tenant) == []
    summary = reconcile(tenant, now=FIRST)
    assert (summary.found, summary.opened, summary.closed) == ([], 0, 0)
    assert not ToDo.objects.exists()


def test_a_cached_balance_off_opens_one_to_do_until_the_balances_are_rebuilt(make: Any) -> None:
    tenant, first, _registry = paid(make)
    cached = AccountBalance.objects.filter(account=first, service__isnull=False).first()
    AccountBalance.objects.filter(pk=cached.pk).update(amount=cached.amount + Decimal("0.01"))

    summary = reconcile(tenant, now=FIRST)
    assert (len(summary.found), summary.opened, summary.closed) == (1, 1, 0)
    todo = ToDo.objects.get()
    assert (todo.kind, todo.account, todo.opened_at, todo.closed_at) == (
        ToDo.Kind.BALANCE,
        first,
        FIRST,
        None,
    )
    assert todo.details["cached"] == str(cached.amount + Decimal("0.01"))
    assert todo.details["entries"] == str(cached.amount)
    assert str(cached.amount) in describe(todo.kind, todo.details)[0]

    again = reconcile(tenant, now=SECOND)  # still found: the same To Do, found later
    assert (again.opened, again.closed) == (0, 0)
    todo.refresh_from_db()
    assert (ToDo.objects.count(), todo.opened_at, todo.found_at) == (1, FIRST, SECOND)

    assert len(rebuild_balances(tenant)) == 1
    fixed = reconcile(tenant, now=SECOND)
    assert (fixed.found, fixed.opened, fixed.closed) == ([], 0, 1)
    todo.refresh_from_db()
    assert todo.closed_at == SECOND


def test_a_registry_whose_counts_or_ledger_differ_opens_a_to_do(make: Any) -> None:
    tenant, _first, paid_by = paid(make)
    payment = Payment.objects.get(external_id="OP-1")
    entry = LedgerEntry.objects.filter(source_id=str(payment.pk), kind="payment").first()
    post_entries([copy_of(entry)])
    Registry.objects.filter(pk=paid_by.pk).update(suspense_amount=Decimal("46.00"))

    (found,) = checks.find(tenant)
    assert (found.kind, found.subject, found.links) == (
        ToDo.Kind.REGISTRY,
        str(paid_by.pk),
        {"registry": paid_by.pk},
    )
    assert found.details["ledger"] == {
        "payments": 1,
        "expected": "-150.00",
        "entries": str(-Decimal("150.00") + entry.amount),
        "elsewhere": "0.00",
        "examples": [payment.pk],
    }
    assert found.details["suspense"] == {"registry": [1, "46.00"], "lines": [1, "45.00"]}
    assert "posted" not in found.details
    texts = describe(found.kind, found.details)
    assert len(texts) == 2 and f"#{payment.pk}" in texts[1]
    reconcile(tenant, now=FIRST)
    assert ToDo.objects.get().registry == paid_by


def test_a_registry_whose_lines_or_their_payments_differ_from_its_counts_is_found(
    make: Any,
) -> None:
    tenant, _first, paid_by = paid(make)
    Registry.objects.filter(pk=paid_by.pk).update(posted=3, duplicates=1, lines=4)
    # A posted line's payment put in suspense by hand: its status no longer fits the line, and
    # its entries stand where it says nothing should.
    Payment.objects.filter(external_id="OP-1").update(
        status="suspense", account=None, suspense_reason="unknown_account"
    )
    (found,) = checks.payments(tenant)
    assert found.details["lines"] == {"registry": 4, "lines": 3}
    assert found.details["posted"] == {"registry": [3, "230.00"], "lines": [2, "230.00"]}
    assert found.details["duplicate"] == {"registry": [1, None], "lines": [0, None]}
    assert found.details["statuses"] == {"posted": 1}
    assert found.details["ledger"]["expected"] == "0.00"
    assert found.details["ledger"]["elsewhere"] == "-150.00"  # the account it no longer names
    texts = describe(found.kind, found.details)
    assert "The registry counts 4 payment lines; it has 3." in texts
    assert "Lines duplicate: the registry counts 1, it has 0." in texts
    assert "Lines posted whose payment's status does not allow it: 1." in texts


def test_a_payment_credited_to_another_account_is_found(make: Any) -> None:
    tenant, _first, _registry = paid(make)
    payment = Payment.objects.get(external_id="OP-1")
    other = Payment.objects.get(external_id="OP-2").account
    entry = LedgerEntry.objects.filter(source_id=str(payment.pk), kind="payment").first()
    moved, back = copy_of(entry), copy_of(entry)
    moved.account = other
    back.amount = -entry.amount
    post_entries([moved, back])  # the sum is still the payment's amount, on the wrong account
    (found,) = checks.payments(tenant)
    assert found.details["ledger"] == {
        "payments": 1,
        "expected": "-150.00",
        "entries": str(as_money(-150 - entry.amount)),
        "elsewhere": str(entry.amount),
        "examples": [payment.pk],
    }


def test_payments_that_came_by_no_registry_are_checked_per_source(make: Any) -> None:
    tenant, first, _registry = paid(make)
    cash = post_cash_payment(
        first, Decimal("10.00"), "R-1", None, datetime(2025, 7, 10, tzinfo=UTC)
    )
    (entry,) = LedgerEntry.objects.filter(source_id=str(cash.payment.pk), kind="payment")
    post_entries([copy_of(entry)])
    (found,) = checks.find(tenant)
    assert (found.kind, found.subject, found.links) == (ToDo.Kind.PAYMENTS, "cash", {})
    assert found.details["ledger"]["examples"] == [cash.payment.pk]
    assert found.details["ledger"]["entries"] == "-20.00"
    texts = describe(found.kind, found.details)
    assert texts[0] == "Payments from cash that came by no registry:"


def test_a_bill_run_whose_entries_differ_from_its_chunks_opens_a_to_do(make: Any) -> None:
    account = water_by_norm(make)
    tenant = account.tenant
    billed(tenant)
    july = BillRun.objects.get(tenant=tenant, period=JULY.first_day)
    charge = LedgerEntry.objects.filter(run_id=july.pk).first()
    post_entries([copy_of(charge)])
    # Every run is checked, finished or not: a done chunk commits with its entries.
    BillRun.objects.filter(pk=july.pk).update(status="failed")
    (found,) = checks.find(tenant)
    entries = LedgerEntry.objects.filter(run_id=july.pk).count()
    assert found.kind == ToDo.Kind.BILL_RUN and found.links == {"bill_run": july.pk}
    assert found.details["ledger"] == [entries, str(2 * charge.amount)]
    assert found.details["chunks"] == [entries - 1, str(charge.amount)]


def test_an_organisation_sees_only_its_own_to_dos(make: Any) -> None:
    tenant, first, _registry = paid(make)
    other = water_by_norm(make)
    billed(other.tenant)
    AccountBalance.objects.filter(account=first).update(amount=Decimal("1.00"))
    assert checks.find(other.tenant) == []
    assert reconcile(other.tenant).opened == 0
    assert reconcile(tenant).opened >= 1
    assert set(ToDo.objects.values_list("tenant", flat=True)) == {tenant.pk}


def test_the_findings_read_in_russian(make: Any) -> None:
    tenant, first, _registry = paid(make)
    AccountBalance.objects.filter(account=first, service__isnull=False).update(amount=0)
    (found,) = checks.find(tenant)
    with translation.override("ru"):
        text = " ".join(describe(found.kind, found.details))
    assert f"Лицевой счёт {first.number}" in text and "kvit reconcile" in text


def test_the_command_prints_the_findings_and_fails_until_they_are_put_right(make: Any) -> None:
    tenant, first, _registry = paid(make)
    AccountBalance.objects.filter(account=first).delete()
    out = StringIO()
    with pytest.raises(CommandError, match="differences found") as failed:
        call_command("reconcile", "--tenant", tenant.code, stdout=out)
    assert failed.value.returncode == 1
    assert f"Account {first.number}" in out.getvalue()
    assert "there is no cached balance" in out.getvalue()

    out = StringIO()
    call_command("reconcile", "--tenant", tenant.code, "--rebuild-balances", stdout=out)
    assert "0 differences, 0 To Do opened, 1 closed" in out.getvalue()
    with pytest.raises(CommandError, match="no organisation with the code 'nope'"):
        call_command("reconcile", "--tenant", "nope")


def test_the_nightly_task_checks_every_organisation(make: Any) -> None:
    tenant, first, _registry = paid(make)
    clean = make.tenant()
    AccountBalance.objects.filter(account=first).update(amount=Decimal("1.00"))
    assert settings.CELERY_BEAT_SCHEDULE["reconcile"]["task"] == tasks.reconcile.name
    assert tasks.reconcile.name in app.tasks
    result = tasks.reconcile.apply().get()
    assert result[clean.code] == 0
    assert result[tenant.code] == ToDo.objects.filter(tenant=tenant).count() >= 1


def test_the_back_office_lists_a_to_do_and_checks_again_on_request(make: Any) -> None:
    tenant, first, _registry = paid(make)
    AccountBalance.objects.filter(account=first, service__isnull=False).update(amount=0)
    reconcile(tenant, now=FIRST)
    todo = ToDo.objects.get()
    changelist = reverse("admin:controls_todo_changelist")
    accountant, auditor = Client(), Client()
    accountant.force_login(make.user(tenant, "accountant", is_staff=True))
    auditor.force_login(make.user(tenant, "auditor", is_staff=True))

    page = accountant.get(reverse("admin:controls_todo_change", args=[todo.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Account {first.number}" in text
    assert reverse("admin:accounts_account_change", args=[first.pk]) in text
    assert "check_again" in accountant.get(changelist).content.decode()
    assert "check_again" not in auditor.get(changelist).content.decode()
    assert auditor.post(changelist, {"action": "check_again", "_selected_action": [todo.pk]})
    todo.refresh_from_db()
    assert todo.found_at == FIRST  # the auditor may not run the checks

    rebuild_balances(tenant)
    response = accountant.post(
        changelist, {"action": "check_again", "_selected_action": [todo.pk]}, follow=True
    )
    assert "differences found: 0; To Do closed: 1." in response.content.decode()
    todo.refresh_from_db()
    assert todo.closed_at is not None
    assert accountant.get(changelist + "?open=no").context["cl"].result_count == 1
    assert accountant.get(changelist + "?open=yes").context["cl"].result_count == 0


def test_each_registry_names_its_own_first_differing_payments(make: Any, monkeypatch: Any) -> None:
    tenant, first, paid_by = paid(make)
    later = registry(tenant, [("OP-5", first.number, "20.00")], "4713")
    for op in ("OP-1", "OP-2", "OP-5"):
        payment = Payment.objects.get(external_id=op)
        entry = LedgerEntry.objects.filter(source_id=str(payment.pk), kind="payment").first()
        post_entries([copy_of(entry)])
    monkeypatch.setattr(checks, "EXAMPLES", 1)
    found = {f.links["registry"]: f.details["ledger"] for f in checks.payments(tenant)}
    ids = dict(Payment.objects.values_list("external_id", "pk"))
    assert found[paid_by.pk]["payments"] == 2
    assert found[paid_by.pk]["examples"] == [min(ids["OP-1"], ids["OP-2"])]
    assert found[later.pk]["examples"] == [ids["OP-5"]]


def test_an_organisation_whose_check_fails_does_not_stop_the_others(
    make: Any, monkeypatch: Any, caplog: Any
) -> None:
    broken, fine = make.tenant(code="a-broken"), make.tenant(code="b-fine")
    real = checks.find

    def find(tenant: Any) -> list[checks.Finding]:
        if tenant == broken:
            raise DatabaseError("canceling statement due to statement timeout")
        return real(tenant)

    monkeypatch.setattr(actions, "find", find)
    summaries = actions.reconcile_all()
    assert [s.tenant for s in summaries] == [fine.code]
    assert "the reconciliation of a-broken failed" in caplog.text


def credited(tenant: Any, order: str, amount: str, until: date | None = None) -> None:
    """A bank statement up to `until` crediting `amount` for payment order `order` of 6 July
    2025."""
    statement = BankStatement.objects.create(
        tenant=tenant,
        file_name="kl_to_1c.txt",
        sha256=f"{order:0>64}",
        imported_at=FIRST,
        ends_on=until,
    )
    StatementCredit.objects.create(
        statement=statement,
        tenant=tenant,
        line=9,
        kind="Платежное поручение",
        number=order,
        dated=date(2025, 7, 6),
        amount=Decimal(amount),
    )


def test_a_payment_order_the_bank_statement_credits_otherwise_opens_a_to_do(
    make: Any, monkeypatch: Any
) -> None:
    tenant, first, paid_by = paid(make)  # order 4711: 275.00 less 1 % fees = 272.25
    matched = registry(tenant, [("OP-7", first.number, "100.00")], "4712")
    credited(tenant, "4711", "270.00")
    credited(tenant, "4712", "99.00")
    registry(tenant, [("OP-8", first.number, "10.00")], "4713")  # no statement yet: awaited
    monkeypatch.setattr(checks, "STATEMENT_BATCH", 1)  # the orders looked up in batches
    (found,) = checks.find(tenant)
    assert (found.kind, found.subject, found.links) == (
        ToDo.Kind.STATEMENT,
        "4711 / 2025-07-06 / -",
        {"registry": paid_by.pk},
    )
    assert found.details == {
        "order": "4711",
        "dated": "2025-07-06",
        "credited": ["270.00"],
        "transferred": "272.25",
    }
    assert describe(found.kind, found.details) == [
        "Payment order 4711 of 2025-07-06: the bank statement credits 270.00; its registries "
        "say 272.25 was transferred."
    ]
    assert matched.pk not in [f.links.get("registry") for f in checks.find(tenant)]


def test_payment_entries_that_name_no_payment_are_found(make: Any) -> None:
    tenant, _first, _registry = paid(make)
    entry = LedgerEntry.objects.filter(tenant=tenant, kind="payment").first()
    lost = copy_of(entry)
    lost.source_id = "999999"  # a payment that was never recorded (or deleted)
    post_entries([lost])
    (found,) = checks.find(tenant)
    assert (found.kind, found.subject) == (ToDo.Kind.PAYMENTS, checks.UNKNOWN_PAYMENTS)
    assert found.details == {
        "orphans": {"payments": 1, "entries": str(entry.amount), "examples": ["999999"]}
    }
    assert describe(found.kind, found.details) == [
        f"Ledger entries name 1 payments the organisation does not have (#999999), for "
        f"{entry.amount}."
    ]


def test_a_payment_order_still_awaited_when_the_statements_are_well_past_it_opens_a_to_do(
    make: Any,
) -> None:
    tenant, _first, paid_by = paid(make)  # order 4711 of 6 July: 272.25 transferred
    credited(tenant, "5000", "1.00", until=date(2025, 7, 8))  # another order's credit
    assert checks.statements(tenant) == []  # two days on: the credit may still come
    credited(tenant, "5001", "1.00", until=date(2025, 7, 9))
    (found,) = checks.statements(tenant)
    assert (found.subject, found.links) == ("4711 / 2025-07-06 / -", {"registry": paid_by.pk})
    assert found.details["until"] == "2025-07-09"
    assert describe(found.kind, found.details) == [
        "Payment order 4711 of 2025-07-06: the bank statements up to 2025-07-09 credit nothing "
        "for it; its registries say 272.25 was transferred."
    ]
    credited(tenant, "4711", "272.25")
    assert checks.statements(tenant) == []  # the credit arrived: matched
