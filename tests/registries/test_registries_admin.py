"""Registries in the back-office: the upload form (R25), the registry's page with its
outcomes, the lines and readings lists, the stored file, tenant scoping."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from registry_bank import Bank, Order, Pay, make_bank, sberbank, statement

from kvit.ledger.models import LedgerEntry
from kvit.payments.models import Payment
from kvit.registries.actions import import_registry
from kvit.registries.models import BankStatement, Registry

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:registries_registry_add")
REGISTRIES = reverse("admin:registries_registry_changelist")
LINES = reverse("admin:registries_registryline_changelist")
READINGS = reverse("admin:registries_registryreading_changelist")


def client_of(bank: Bank, role: str = "accountant") -> Client:
    client = Client()
    client.force_login(bank.make.user(bank.tenant, role))
    return client


def upload(client: Client, content: bytes, name: str = "reestr.txt", **data: Any) -> Any:
    fields = {"format": "sberbank", "confirm": "on", **data}
    return client.post(UPLOAD, {**fields, "file": SimpleUploadedFile(name, content)})


def test_the_upload_form_says_what_will_happen_and_offers_the_formats(bank: Bank) -> None:
    response = client_of(bank).get(UPLOAD)
    assert response.status_code == 200
    page = response.content.decode()
    assert "If a check fails, the file is rejected whole and nothing of it is posted." in page
    assert 'enctype="multipart/form-data"' in page
    choices = dict(response.context["form"].fields["format"].choices)
    assert list(choices) == ["sberbank", "csv"]


def test_an_upload_is_imported_and_its_page_shows_the_outcomes(bank: Bank) -> None:
    client = client_of(bank)
    pays = [*bank.pays(3), Pay("OP-X", "999999"), Pay("OP-Y", "000001", paid_on="x")]
    response = upload(client, sberbank(pays))
    registry = Registry.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:registries_registry_change", args=[registry.pk])
    page = client.get(response.url).content.decode()
    assert "reestr.txt is imported: 3 of 5 lines posted." in page
    assert "In suspense" in page or "in suspense" in page
    lines_of = f"{LINES}?registry__id__exact={registry.pk}&amp;outcome__exact=invalid"
    assert lines_of in page
    listing = client.get(f"{LINES}?registry__id__exact={registry.pk}&outcome__exact=invalid")
    assert listing.status_code == 200
    assert "is not a date in the format" in listing.content.decode()
    assert Payment.objects.count() == 4
    assert client.get(REGISTRIES).status_code == 200
    assert client.get(f"{READINGS}?registry__id__exact={registry.pk}").status_code == 200


def test_the_same_upload_again_posts_nothing_and_says_so(bank: Bank) -> None:
    client = client_of(bank)
    content = sberbank(bank.pays(2))
    upload(client, content)
    response = upload(client, content, "again.txt")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "was imported before: nothing was posted again." in page
    assert Registry.objects.count() == 1
    assert Payment.objects.count() == 2


def test_a_rejected_file_shows_why(bank: Bank) -> None:
    client = client_of(bank)
    response = upload(client, sberbank(bank.pays(2), foot="=5;1;1;0"))
    page = client.get(response.url).content.decode()
    assert "is rejected: nothing of it is posted." in page
    assert "The file has 2 payment lines, the footer says 5." in page
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.zip", b"PK\x03\x04" + b"\x00" * 100, "This is not a text file"),
        ("r.txt", b"\x1f\x8b\x08\x00 gzip bomb", "This is not a text file"),
        (
            "r.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "looks like HTML",
        ),
        ("r.pdf", b"%PDF-1.4 %\xe2\xe3", "This is not a text file"),
        ("r.txt", b"GIF89a;05-03-2024;\x00", "This is not a text file"),  # a polyglot
        ("r.txt", b"", "The submitted file is empty."),
    ],
    ids=["zip", "gzip", "svg", "pdf", "polyglot", "empty"],
)
def test_what_is_not_a_registry_is_refused_with_400_and_nothing_recorded(
    bank: Bank, name: str, content: bytes, message: str
) -> None:
    response = upload(client_of(bank), content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Registry.objects.exists()
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_file_over_the_limit_is_refused_with_400(bank: Bank, settings: Any) -> None:
    settings.REGISTRY_UPLOAD_MAX_BYTES = 1024**2
    response = upload(client_of(bank), sberbank(bank.pays(1)) + b" " * 1024**2)
    assert response.status_code == 400
    assert "a file may be at most 1 MB" in response.content.decode()
    assert not Registry.objects.exists()


def test_without_the_confirmation_nothing_is_imported(bank: Bank) -> None:
    response = upload(client_of(bank), sberbank(bank.pays(1)), confirm="")
    assert response.status_code == 400
    assert not Registry.objects.exists()


def test_an_unknown_format_is_refused(bank: Bank) -> None:
    response = upload(client_of(bank), sberbank(bank.pays(1)), format="vtb")
    assert response.status_code == 400
    assert not Registry.objects.exists()


def test_the_senders_file_name_never_names_the_stored_file(bank: Bank, media: Any) -> None:
    client = client_of(bank)
    response = upload(client, sberbank(bank.pays(1)), "../../../etc/cron.d/evil.txt")
    assert response.status_code == 302
    registry = Registry.objects.get()
    assert registry.file_name == "evil.txt"
    stored = media / registry.file.name
    assert stored.is_file() and stored.resolve().is_relative_to(media.resolve())
    assert "evil" not in registry.file.name
    download = client.get(reverse("admin:registries_registry_file", args=[registry.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="evil.txt"'
    assert download["Content-Type"] == "application/octet-stream"
    assert b"".join(download.streaming_content) == sberbank(bank.pays(1))


def test_a_download_name_is_quoted_and_encoded(bank: Bank) -> None:
    registry = import_registry(
        bank.tenant, sberbank(bank.pays(1)), 'реестр "март";\r\n.txt', "sberbank"
    ).registry
    download = client_of(bank).get(reverse("admin:registries_registry_file", args=[registry.pk]))
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "\r" not in disposition and "\n" not in disposition and '"март"' not in disposition


@pytest.mark.parametrize("role", ["operator", "cashier", "auditor", "engineer"])
def test_only_who_may_post_payments_uploads(bank: Bank, role: str) -> None:
    client = client_of(bank, role)
    assert client.get(UPLOAD).status_code == 403
    assert upload(client, sberbank(bank.pays(1))).status_code == 403
    assert not Registry.objects.exists()


def test_another_organisations_registry_and_file_are_not_found(bank: Bank) -> None:
    other = make_bank(bank.make)
    theirs = import_registry(other.tenant, sberbank(other.pays(1)), "r.txt", "sberbank").registry
    client = client_of(bank, "chairman")
    change = client.get(reverse("admin:registries_registry_change", args=[theirs.pk]))
    assert change.status_code == 302 and change.url == "/admin/"
    download = client.get(reverse("admin:registries_registry_file", args=[theirs.pk]))
    assert download.status_code == 404
    assert "r.txt" not in client.get(REGISTRIES).content.decode()


def test_a_superuser_chooses_the_organisation(bank: Bank) -> None:
    client = Client()
    client.force_login(bank.make.superuser())
    response = upload(client, sberbank(bank.pays(1)), tenant=bank.tenant.pk)
    assert response.status_code == 302
    assert Registry.objects.get().tenant == bank.tenant


FORMATS = reverse("admin:registries_registryformat_add")


def format_form(**fields: Any) -> dict[str, Any]:
    return {
        "code": "vtb",
        "name": "VTB",
        "source": "vtb",
        "encoding": "windows-1251",
        "separator": ";",
        "decimal_mark": ",",
        "date_format": "%d.%m.%Y",
        "time_format": "%H:%M:%S",
        "period_format": "%m%y",
        "header_lines": "0",
        "columns": '{"paid_on": 1, "external_id": 2, "account_number": 3, "amount": 4}',
        "footer": "none",
        **fields,
    }


def test_an_accountant_adds_a_bank_format_and_imports_with_it(bank: Bank) -> None:
    client = client_of(bank)
    response = client.post(FORMATS, format_form())
    assert response.status_code == 302
    response = upload(client, "05.03.2024;V-1;000001;99,50\r\n".encode("cp1251"), format="vtb")
    registry = Registry.objects.get()
    assert (registry.status, registry.posted, registry.source) == ("imported", 1, "vtb")


def test_a_format_that_cannot_read_a_registry_is_refused_with_the_reasons(bank: Bank) -> None:
    response = client_of(bank).post(
        FORMATS, format_form(separator=",", columns='{"paid_on": 1, "amount": 1}')
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["separator"] == ["The separator cannot be the decimal mark."]
    assert "The field “operation number” needs a column." in errors["columns"]
    assert "Two fields cannot share a column." in errors["columns"]


# --- bank statements -----------------------------------------------------------------------

STATEMENTS = reverse("admin:registries_bankstatement_add")


def test_a_statement_upload_is_kept_and_checks_the_registries_it_pays(bank: Bank) -> None:
    client = client_of(bank)
    assert client.get(STATEMENTS).status_code == 200
    registry = import_registry(bank.tenant, sberbank(bank.pays(3)), "r.txt", "sberbank").registry
    other = import_registry(
        bank.tenant, sberbank(bank.pays(2, "X"), order="15"), "x.txt", "sberbank"
    ).registry
    content = statement([Order(amount="297.00"), Order("15", amount="1.00"), Order("9", amount="")])
    response = client.post(STATEMENTS, {"file": SimpleUploadedFile("st.txt", content)})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "st.txt is imported: 2 credits, 298.00." in page
    assert f"Registry {registry} matches the statement." in page
    assert (
        f"Registry {other} differs from the statement: the registries of its payment order say "
        "198.00 was transferred. Ask the bank." in page
    )
    assert "Documents not read: 1. See below." in page
    assert "Line 35: The amount “” is not a positive amount." in page
    kept = BankStatement.objects.get()
    download = reverse("admin:registries_bankstatement_file", args=[kept.pk])
    assert download in page
    stored = client.get(download)
    assert stored["Content-Disposition"] == 'attachment; filename="st.txt"'
    assert b"".join(stored.streaming_content) == content
    shown = client.get(reverse("admin:registries_registry_change", args=[other.pk]))
    assert "Differs: the bank statement credits 1.00" in shown.content.decode()
    listing = client.get(REGISTRIES, {"statement": "differs"})
    assert list(listing.context["cl"].result_list) == [other]


def test_a_statement_upload_that_is_not_a_statement_says_why(bank: Bank) -> None:
    response = client_of(bank).post(
        STATEMENTS, {"file": SimpleUploadedFile("st.txt", b"not a statement\r\n")}
    )
    assert response.status_code == 400
    assert "This is not a bank statement: it does not begin with 1CClientBankExchange." in (
        response.content.decode()
    )
    assert not BankStatement.objects.exists()


def test_an_auditor_sees_statements_but_may_not_upload_them(bank: Bank) -> None:
    client = client_of(bank, "auditor")
    assert client.get(STATEMENTS).status_code == 403
    assert client.get(reverse("admin:registries_bankstatement_changelist")).status_code == 200
