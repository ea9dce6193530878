"""Effective-dated rows never overlap: refused by validation and by the database itself.

Every model with a NoOverlap constraint is listed in ROWS; a guard test fails when a new one
is not. On PostgreSQL the database refuses through an exclusion constraint, on SQLite
through triggers that `migrate` installs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from kvit.accounts.models import AccountService
from kvit.db.effective import NoOverlap
from kvit.db.triggers import install_sqlite_triggers
from kvit.parameters.models import Parameter
from kvit.people.models import Absence, Benefit, Ownership, Registration
from kvit.tariffs.models import Norm, Tariff

pytestmark = pytest.mark.django_db

D1, D2, D3, D4 = date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1)

# A factory of unsaved rows of one model: `row(start, end)` gives rows that share one key,
# `row(start, end, other=True)` a row whose key differs in one field.
Row = Callable[..., Any]


def parameter_rows(make: Any) -> Row:
    tenant = make.tenant()

    def row(start: date, end: date | None, other: bool = False) -> Parameter:
        name, value = ("reading_cutoff_day", "23") if other else ("due_day", "12")
        return Parameter(
            tenant=tenant, name=name, value=value, effective_from=start, effective_to=end
        )

    return row


def ownership_rows(make: Any) -> Row:
    premise = make.premise(make.building(make.tenant()))
    owner, other_owner = make.person(premise.tenant), make.person(premise.tenant)

    def row(start: date, end: date | None, other: bool = False) -> Ownership:
        return Ownership(
            premise=premise,
            owner=other_owner if other else owner,
            share_numerator=1,
            share_denominator=2,
            effective_from=start,
            effective_to=end,
        )

    return row


def registration_rows(make: Any) -> Row:
    account = make.account(make.premise(make.building(make.tenant())))
    person, other_person = make.person(account.tenant), make.person(account.tenant)

    def row(start: date, end: date | None, other: bool = False) -> Registration:
        return Registration(
            account=account,
            person=other_person if other else person,
            effective_from=start,
            effective_to=end,
        )

    return row


def benefit_rows(make: Any) -> Row:
    account = make.account(make.premise(make.building(make.tenant())))
    person = make.person(account.tenant)
    category, other_category = (make.benefit_category(account.tenant) for _ in range(2))

    def row(start: date, end: date | None, other: bool = False) -> Benefit:
        return Benefit(
            account=account,
            person=person,
            category=other_category if other else category,
            effective_from=start,
            effective_to=end,
        )

    return row


def absence_rows(make: Any) -> Row:
    account = make.account(make.premise(make.building(make.tenant())))
    person, other_person = make.registration(account).person, make.registration(account).person

    def row(start: date, end: date | None, other: bool = False) -> Absence:
        return Absence(
            account=account,
            person=other_person if other else person,
            effective_from=start,
            effective_to=end,
        )

    return row


def tariff_rows(make: Any) -> Row:
    service = make.service(make.tenant())

    def row(start: date, end: date | None, other: bool = False) -> Tariff:
        return Tariff(
            tenant=service.tenant,
            service=service,
            group="electric_stove" if other else "",
            value=Decimal("40.5"),
            effective_from=start,
            effective_to=end,
        )

    return row


def norm_rows(make: Any) -> Row:
    service = make.service(make.tenant(), method="norm_per_person")

    def row(start: date, end: date | None, other: bool = False) -> Norm:
        return Norm(
            tenant=service.tenant,
            service=service,
            kind="per_person",
            rooms=2 if other else 0,
            persons=0,
            value=Decimal("4.85"),
            effective_from=start,
            effective_to=end,
        )

    return row


def account_service_rows(make: Any) -> Row:
    account = make.account(make.premise(make.building(make.tenant())))
    service, other_service = make.service(account.tenant), make.service(account.tenant)
    provider = make.provider(account.tenant)

    def row(start: date, end: date | None, other: bool = False) -> AccountService:
        return AccountService(
            account=account,
            service=other_service if other else service,
            provider=provider,
            effective_from=start,
            effective_to=end,
        )

    return row


ROWS: dict[type[Any], Callable[[Any], Row]] = {
    Parameter: parameter_rows,
    Ownership: ownership_rows,
    Registration: registration_rows,
    Benefit: benefit_rows,
    Absence: absence_rows,
    Tariff: tariff_rows,
    Norm: norm_rows,
    AccountService: account_service_rows,
}

# (existing row, new row) date ranges that overlap
OVERLAPS = {
    "later-open": ((D1, D3), (D2, None)),
    "open-covers-later": ((D1, None), (D3, D4)),
    "contains": ((D2, D3), (D1, D4)),
    "same-dates": ((D1, D2), (D1, D2)),
    "ends-inside": ((D2, D4), (D1, D3)),
}


def no_overlap_models() -> dict[type[Any], NoOverlap]:
    return {
        model: constraint
        for model in apps.get_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, NoOverlap)
    }


@pytest.fixture(params=list(ROWS), ids=lambda model: model.__name__)
def row(request: pytest.FixtureRequest, make: Any) -> Row:
    return ROWS[request.param](make)


def saved(obj: Any) -> Any:
    obj.full_clean()
    obj.save()
    return obj


def test_every_no_overlap_model_is_tested() -> None:
    assert set(no_overlap_models()) == set(ROWS)


@pytest.mark.parametrize(("existing", "new"), OVERLAPS.values(), ids=list(OVERLAPS))
def test_validation_refuses_an_overlap_on_effective_from(
    row: Row,
    existing: tuple[date, date | None],
    new: tuple[date, date | None],
    clean_errors: Any,
) -> None:
    saved(row(*existing))
    candidate = row(*new)
    errors = clean_errors(candidate)
    assert list(errors) == ["effective_from"]
    [message] = errors["effective_from"]
    assert f"Overlaps the row effective {existing[0]} – {existing[1] or 'open-ended'}" in message
    assert "may not overlap" in message
    model = type(candidate)
    for field in no_overlap_models()[model].fields:
        assert str(model._meta.get_field(field).verbose_name) in message


@pytest.mark.parametrize(("existing", "new"), OVERLAPS.values(), ids=list(OVERLAPS))
def test_database_refuses_an_overlapping_save(
    row: Row, existing: tuple[date, date | None], new: tuple[date, date | None]
) -> None:
    first = saved(row(*existing))
    with pytest.raises(IntegrityError), transaction.atomic():
        row(*new).save()
    assert type(first).objects.filter(pk=first.pk).count() == 1
    assert type(first)._default_manager.count() == 1


def test_database_refuses_an_overlapping_bulk_create(row: Row) -> None:
    model = type(row(D1, None))
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.bulk_create([row(D1, D3), row(D2, None)])
    assert model.objects.count() == 0


def test_database_refuses_an_update_into_an_overlap(row: Row, clean_errors: Any) -> None:
    first, second = saved(row(D1, D2)), saved(row(D2, None))
    first.effective_to = D3
    assert list(clean_errors(first)) == ["effective_from"]
    with pytest.raises(IntegrityError), transaction.atomic():
        type(first).objects.filter(pk=first.pk).update(effective_to=D3)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(second).objects.filter(pk=second.pk).update(effective_from=D1)


@pytest.mark.parametrize("later_first", [False, True])
def test_adjacent_ranges_are_allowed(row: Row, later_first: bool, clean_errors: Any) -> None:
    pieces = [row(D1, D2), row(D2, D3), row(D3, None)]
    for piece in reversed(pieces) if later_first else pieces:
        assert clean_errors(piece) == {}
        piece.save()
    model = type(pieces[0])
    assert model.objects.count() == 3
    assert clean_errors(pieces[1]) == {}  # a saved row does not clash with itself


def test_the_same_dates_with_another_key_are_allowed(row: Row, clean_errors: Any) -> None:
    saved(row(D1, None))
    other = row(D1, None, other=True)
    assert clean_errors(other) == {}
    other.save()
    assert type(other).objects.count() == 2


@pytest.mark.parametrize("end", [D1, date(2023, 12, 31)], ids=["empty", "inverted"])
def test_dates_must_be_ordered(row: Row, end: date, clean_errors: Any) -> None:
    candidate = row(D1, end)
    errors = clean_errors(candidate)
    assert errors == {"__all__": ["“Effective to” must be later than “effective from”."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        candidate.save()


def test_validation_leaves_rows_of_an_unsaved_parent_to_the_formset() -> None:
    orphan = Registration(effective_from=D1)  # no account yet: nothing to compare with
    constraint = no_overlap_models()[Registration]
    constraint.validate(Registration, orphan)


def test_validation_skips_excluded_fields(make: Any) -> None:
    row = parameter_rows(make)
    saved(row(D1, None))
    constraint = no_overlap_models()[Parameter]
    constraint.validate(Parameter, row(D2, None), exclude={"effective_from"})


# --- how the database enforces it ---------------------------------------------------------


def test_sqlite_triggers_exist_for_every_no_overlap_constraint() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite triggers")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = cursor.fetchall()
    for model, constraint in no_overlap_models().items():
        for event in ("INSERT", "UPDATE"):
            assert any(
                table == model._meta.db_table
                and f"BEFORE {event}" in sql
                and constraint.name in sql
                for table, sql in triggers
            ), f"no {event} trigger for {constraint.name} on {model._meta.db_table}"


def test_sqlite_triggers_come_back_after_a_table_lost_them(make: Any) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite triggers")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [Parameter._meta.db_table],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')
    row = parameter_rows(make)
    saved(row(D1, None))
    row(D2, None).save()  # nothing stops it now
    Parameter.objects.all().delete()
    install_sqlite_triggers()
    install_sqlite_triggers()  # idempotent
    saved(row(D1, None))
    with pytest.raises(IntegrityError), transaction.atomic():
        row(D2, None).save()


def test_triggers_are_only_for_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    from kvit.db import triggers

    class NotSqlite:
        vendor = "postgresql"

        def cursor(self) -> None:
            raise AssertionError("must not touch the database")

    monkeypatch.setattr(triggers, "connections", {"default": NotSqlite()})
    install_sqlite_triggers()


@pytest.mark.postgres
def test_postgres_has_an_exclusion_constraint_for_every_no_overlap() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'x'"
        )
        exclusions = set(cursor.fetchall())
    for model, constraint in no_overlap_models().items():
        assert (model._meta.db_table, constraint.name) in exclusions
