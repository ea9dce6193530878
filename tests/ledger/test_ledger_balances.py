"""The cached balances equal the sums of the entries; a damaged cache is found and rebuilt;
concurrent postings on the same accounts keep it right (R15, R27)."""

from __future__ import annotations

import random
import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Sum
from ledger_books import FEB, JAN, Books

from kvit.ledger.actions import open_period, post_entries, rebuild_balances
from kvit.ledger.models import AccountBalance, LedgerEntry
from kvit.ledger.queries import Mismatch, balance, balance_mismatches, balances_by_provider_service

D = Decimal


def sums_of_entries() -> dict[tuple[int, int, int | None], Decimal]:
    rows = (
        LedgerEntry.objects.values_list("account_id", "provider_id", "service_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(a, p, s): total for a, p, s, total in rows}


def cached() -> dict[tuple[int, int, int | None], Decimal]:
    return {
        (b.account_id, b.provider_id, b.service_id): b.amount for b in AccountBalance.objects.all()
    }


def random_entries(books: Books, accounts: list[Any], rng: random.Random, n: int) -> list[Any]:
    choices = [
        (books.water, books.water_service),
        (books.heat, books.heat_service),
        (books.water, None),
    ]
    entries = []
    for _ in range(n):
        provider, service = rng.choice(choices)
        kind = "charge" if service else "payment"
        cents = rng.randint(1, 100_000) * (1 if service else -1)
        entries.append(
            books.entry(
                account=rng.choice(accounts),
                provider=provider,
                service=service,
                period=rng.choice([JAN, FEB]),
                kind=kind,
                amount=D(cents) / 100,
            )
        )
    return entries


@pytest.mark.django_db
def test_after_random_postings_the_cache_is_the_sum_of_the_entries(make: Any, books: Books) -> None:
    rng = random.Random(20240131)
    open_period(books.tenant, FEB)
    accounts = [
        books.account,
        *(make.account(make.premise(make.building(books.tenant))) for _ in range(3)),
    ]
    for _ in range(20):
        post_entries(random_entries(books, accounts, rng, rng.randint(1, 15)))
    assert cached() == sums_of_entries()
    assert balance_mismatches() == []
    for account in accounts:
        by_key = balances_by_provider_service(account)
        assert sum(by_key.values(), D(0)) == balance(account)


@pytest.mark.django_db
def test_a_damaged_cache_is_reported_and_rebuilt(make: Any, books: Books) -> None:
    books.post(amount=D("100.00"))
    books.post(provider=books.heat, service=books.heat_service, amount=D("40.00"))
    books.post(kind="payment", service=None, amount=D("-30.00"))
    other = make.entry(make.account(make.premise(make.building(make.tenant()))))
    before = cached()
    water = AccountBalance.objects.get(account=books.account, service=books.water_service)
    AccountBalance.objects.filter(pk=water.pk).update(amount=D("1.00"))  # tampered
    AccountBalance.objects.filter(service=books.heat_service).delete()  # lost
    AccountBalance.objects.create(  # invented
        account=books.account, provider=books.heat, service=None, amount=D("5.00")
    )
    expected = [
        Mismatch(books.account.pk, books.water.pk, books.water_service.pk, D("1.00"), D("100.00")),
        Mismatch(books.account.pk, books.heat.pk, None, D("5.00"), D("0.00")),
        Mismatch(books.account.pk, books.heat.pk, books.heat_service.pk, None, D("40.00")),
    ]
    found = balance_mismatches(books.tenant)  # the payment's row is fine
    assert sorted(found, key=repr) == sorted(expected, key=repr)
    assert balance_mismatches(other.tenant) == []
    assert rebuild_balances(books.tenant) == found
    assert cached() == before == sums_of_entries()
    assert balance_mismatches() == []
    assert rebuild_balances() == []  # nothing to fix: nothing done


@pytest.mark.django_db
def test_a_rebuild_of_one_tenant_leaves_the_others_alone(make: Any, books: Books) -> None:
    books.post()
    other = make.entry(make.account(make.premise(make.building(make.tenant()))))
    AccountBalance.objects.update(amount=D("0.00"))
    (mismatch,) = rebuild_balances(books.tenant)
    assert mismatch.account_id == books.account.pk
    assert AccountBalance.objects.get(account=other.account).amount == D("0.00")
    rebuild_balances()
    assert cached() == sums_of_entries()


# --- concurrency (PostgreSQL: SQLite lets one writer at a time anyway) -------------------------

WORKERS, POSTINGS = 6, 15


@pytest.mark.postgres
@pytest.mark.usefixtures("purge_append_only")
def test_concurrent_postings_on_the_same_accounts_keep_the_cache_right(make: Any) -> None:
    """Workers start together (a barrier) and post to the same two accounts' balance rows,
    in opposite orders; no update is lost, and no deadlock escapes."""
    tenant = make.tenant()
    accounts = [make.account(make.premise(make.building(tenant))) for _ in range(2)]
    provider = make.provider(tenant)
    service = make.service(tenant, provider=provider)
    open_period(tenant, JAN)
    barrier = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            order = accounts if n % 2 else accounts[::-1]
            barrier.wait(timeout=30)
            for i in range(POSTINGS):
                post_entries(
                    [
                        LedgerEntry(
                            tenant=tenant,
                            account=account,
                            provider=provider,
                            service=service,
                            period=JAN,
                            posted_on=date(2024, 1, 31),
                            kind="charge",
                            amount=D(f"{n}.{i:02d}"),
                        )
                        for account in order
                    ]
                )
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    expected = sum((D(f"{n}.{i:02d}") for n in range(WORKERS) for i in range(POSTINGS)), D(0))
    for account in accounts:
        assert balance(account) == expected
        assert AccountBalance.objects.get(account=account).amount == expected
    assert balance_mismatches() == []
    assert connection.vendor == "postgresql"
