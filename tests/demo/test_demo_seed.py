"""`kvit seed` as a command: valid data, determinism, refusals and repeat runs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kvit.demo import check
from kvit.demo.schema import TABLES
from kvit.tenants.models import Tenant


def digest() -> str:
    """A digest of every row the demo writes, in id order."""
    sha = hashlib.sha256()
    for table in TABLES:
        columns = [f.attname for f in table.model._meta.concrete_fields]
        for row in table.model._default_manager.order_by("pk").values_list(*columns):
            sha.update(repr(row).encode())
    return sha.hexdigest()


def seed(*args: str, **options: object) -> str:
    out = StringIO()
    call_command("seed", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


@pytest.mark.usefixtures("seeded")
def test_a_sample_passes_full_clean_and_the_invariants() -> None:
    assert check.sample_errors(size=150, seed=1) == []
    connection.check_constraints()  # SQLite: foreign keys; PostgreSQL: a no-op here


@pytest.mark.usefixtures("seeded")
def test_the_same_seed_gives_the_same_rows() -> None:
    first = digest()
    seed("--reset", accounts=500)
    assert digest() == first
    seed("--reset", accounts=500, seed=7)
    assert digest() != first


@pytest.mark.usefixtures("seeded")
def test_a_seeded_database_is_refused_unless_asked() -> None:
    with pytest.raises(CommandError, match="--reset"):
        seed(accounts=500)
    assert "nothing seeded" in seed("--if-empty", accounts=500)
    assert Tenant.objects.count() == 2


@pytest.mark.usefixtures("seeded")
def test_a_repeated_demo_still_prints_the_logins() -> None:
    first = seed("--reset", accounts=500)
    again = seed("--if-empty", accounts=500)
    logins = [line for line in again.splitlines() if " / demo-" in line]
    assert "  admin / demo-admin: superuser" in logins
    for username in ("uk-chairman", "energo-engineer", "uk-consumer-1", "energo-consumer-2"):
        assert any(line.startswith(f"  {username} / ") for line in logins), username
        assert f"  {username} / " in first


@pytest.mark.django_db
def test_other_organisations_are_left_alone() -> None:
    Tenant.objects.create(code="real", name="ТСЖ «Настоящее»", kind="hoa")
    assert "nothing seeded" in seed("--if-empty", accounts=500)
    with pytest.raises(CommandError, match="already has organisations"):
        seed(accounts=500)
    seed("--reset", accounts=500)
    seed("--reset", accounts=500)  # replaces the demo, keeps the real one
    assert sorted(Tenant.objects.values_list("code", flat=True)) == [
        "demo-energo", "demo-uk", "real",
    ]  # fmt: skip


@pytest.mark.django_db
def test_ids_continue_after_the_seed() -> None:
    seed(accounts=500)
    tenant = Tenant.objects.create(code="next", name="Следующая", kind="hoa")
    assert tenant.pk == 3


@pytest.mark.django_db
@pytest.mark.parametrize("accounts", [0, -1, 499, 1_000_001, "abc", "1e6", ""])
def test_nonsense_sizes_are_refused(accounts: object) -> None:
    with pytest.raises(CommandError, match="number of accounts"):
        seed(accounts=accounts)
    assert not Tenant.objects.exists()


@pytest.mark.django_db
def test_a_bad_reference_date_is_refused() -> None:
    with pytest.raises(CommandError, match="reference date"):
        seed(accounts=500, reference_date="2025-02-30")


@pytest.mark.parametrize("argument", ["0", "-5", "many", "2000000"])
def test_the_command_line_prints_usage_without_a_traceback(argument: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kvit.config.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kvit.cli", "seed", f"--accounts={argument}"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "usage:" in done.stderr and "number of accounts" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.django_db
def test_postgres_bulk_path_rebuilds_indexes_and_checks_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY, detached indexes and bulk key checks are PostgreSQL's path")
    from kvit.demo.management.commands import seed as command

    monkeypatch.setattr(command, "DETACH_FROM", 0)
    seed(accounts=500)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'x' AND conname IN "
            "('people_registration_no_overlap', 'accounts_service_no_overlap')"
        )
        assert cursor.fetchone()[0] == 2
    assert check.sample_errors(size=100) == []
