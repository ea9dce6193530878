"""Inline rows are validated as a set: no overlapping periods, ownership shares adding up to 1,
consistent tariff tiers; each message names the rows, the field and the rule."""

from __future__ import annotations

from typing import Any

import admin_factories as factories
import pytest
from admin_factories import add_rows, admin_url, form_data

from kvit.accounts.models import Account
from kvit.people.models import Ownership, Registration
from kvit.premises.models import Premise
from kvit.tariffs.models import Tariff

pytestmark = pytest.mark.django_db


def inline_errors(response: Any) -> list[str]:
    assert response.status_code == 200, "the form was accepted"
    found = []
    for inline in response.context["inline_admin_formsets"]:
        found += [str(e) for e in inline.formset.non_form_errors()]
        found += [
            str(e) for form in inline.formset.forms for e in form.errors.get("effective_from", [])
        ]
    return found


def test_overlapping_new_rows_are_refused(world_a: factories.World, staff_client: Any) -> None:
    client = staff_client("operator")
    url = admin_url(Account, "change", world_a.account.pk)
    person = factories.saved(
        type(world_a.person)(tenant=world_a.tenant, last_name="Sidorov", first_name="Sidor")
    )
    row = {"person": person.pk, "kind": "temporary"}
    data = add_rows(
        form_data(client.get(url)),
        "registrations",
        {**row, "effective_from": "2024-03-01", "effective_to": "2024-06-01"},
        {**row, "effective_from": "2024-05-01"},
    )
    errors = inline_errors(client.post(url, data))
    assert any(
        "Row 2 and row 3 overlap" in e
        and "“effective from” – “effective to”" in e
        and "same person" in e
        for e in errors
    ), errors
    assert "Overlaps row 3." in errors
    assert not Registration.objects.filter(person=person).exists()


def test_a_new_row_overlapping_a_saved_one_is_refused(
    world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client("operator")
    url = admin_url(Account, "change", world_a.account.pk)
    data = add_rows(
        form_data(client.get(url)),
        "services",
        {
            "service": world_a.service.pk,
            "provider": world_a.provider.pk,
            "effective_from": "2025-01-01",
        },
    )
    errors = inline_errors(client.post(url, data))
    assert any("Row 1 and row 2 overlap" in e and "same service" in e for e in errors), errors


def test_rows_that_follow_each_other_are_accepted(
    world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client("operator")
    url = admin_url(Account, "change", world_a.account.pk)
    data = form_data(client.get(url))
    data["registrations-0-effective_to"] = "2025-01-01"
    add_rows(
        data,
        "registrations",
        {"person": world_a.person.pk, "kind": "permanent", "effective_from": "2025-01-01"},
    )
    assert client.post(url, data).status_code == 302
    assert Registration.objects.filter(account=world_a.account).count() == 2


def test_ownership_shares_must_add_up_to_one(world_a: factories.World, staff_client: Any) -> None:
    client = staff_client("chairman")
    url = admin_url(Premise, "change", world_a.premise.pk)
    data = form_data(client.get(url))
    data["ownerships-0-share_numerator"] = "1"
    data["ownerships-0-share_denominator"] = "2"
    errors = inline_errors(client.post(url, data))
    assert any(
        "Ownership shares add up to 1/2" in e and "add up to 1 on every date" in e for e in errors
    ), errors
    assert Ownership.objects.get(pk=world_a.ownership.pk).share_denominator == 1

    # Two halves from the same date do add up.
    partner = factories.saved(
        type(world_a.person)(tenant=world_a.tenant, last_name="Partner", first_name="P")
    )
    add_rows(
        data,
        "ownerships",
        {
            "owner": partner.pk,
            "share_numerator": 1,
            "share_denominator": 2,
            "effective_from": "2024-01-01",
        },
    )
    assert client.post(url, data).status_code == 302
    assert Ownership.objects.filter(premise=world_a.premise).count() == 2


def test_tariff_tiers_need_one_open_tier_and_distinct_bounds(
    world_a: factories.World, staff_client: Any
) -> None:
    client = staff_client("accountant")
    url = admin_url(Tariff, "change", world_a.tariff.pk)
    data = add_rows(
        form_data(client.get(url)),
        "tiers",
        {"value": "50"},
        {"upper_bound": "100", "value": "30"},
        {"upper_bound": "100", "value": "35"},
    )
    errors = inline_errors(client.post(url, data))
    assert any(
        "Exactly one tier must leave “up to (per month)” empty" in e and "row 1, row 2" in e
        for e in errors
    ), errors
    assert any("Row 3, row 4 have the same “up to (per month)” 100" in e for e in errors), errors


@pytest.mark.parametrize("boundary", ["2025-06-01", "2024-06-01"], ids=["later", "earlier"])
def test_moving_the_boundary_between_two_rows_saves(
    boundary: str, world_a: factories.World, staff_client: Any
) -> None:
    """The database refuses even a passing overlap, so the shrinking row is saved first."""
    first = world_a.registration
    first.effective_to = factories.date(2025, 1, 1)
    first.save()
    factories.saved(
        Registration(
            account=world_a.account, person=world_a.person, effective_from=first.effective_to
        )
    )
    client = staff_client("operator")
    url = admin_url(Account, "change", world_a.account.pk)
    data = form_data(client.get(url))
    data["registrations-0-effective_to"] = boundary
    data["registrations-1-effective_from"] = boundary
    assert client.post(url, data).status_code == 302
    spans = Registration.objects.filter(account=world_a.account).order_by("effective_from")
    assert [(str(r.effective_from), str(r.effective_to)) for r in spans] == [
        ("2024-01-01", boundary),
        (boundary, "None"),
    ]
