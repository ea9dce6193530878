"""The Russian catalogue: complete, compiled, and covering every Kvit model.

Source strings are English; Russian comes from src/kvit/locale/ru/LC_MESSAGES/django.po and
its compiled django.mo (committed: a fresh machine has no gettext to compile it).
"""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client, override_settings
from django.urls import clear_url_caches
from django.utils import translation
from django.utils.functional import Promise

import kvit

RU = Path(kvit.__file__).parent / "locale" / "ru" / "LC_MESSAGES"
RU_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)


def po_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file: msgid, msgstr (plural forms joined by NUL) and flags.

    Obsolete entries (#~) are skipped; the header is the entry with msgid "".
    """
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {}
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or line.startswith("#~"):
            continue
        starts = line.startswith(("#", "msgid ", "msgctxt "))
        if starts and "msgstr" in entry:  # a new entry begins
            entries.append(entry)
            entry, key = {}, ""
        if line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            key = "msgstr" if key.startswith("msgstr") else key
            text = ast.literal_eval(value)
            entry[key] = f"{entry[key]}\0{text}" if key in entry else text
    if "msgstr" in entry:
        entries.append(entry)
    return entries


def kvit_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("kvit.") and not model.__name__.startswith("Historical")
    ]


def in_both(text: Any) -> tuple[str, str]:
    with translation.override("en"):
        english = str(text)
    with translation.override("ru"):
        russian = str(text)
    return english, russian


# --- the catalogue ---------------------------------------------------------------------------


def test_the_russian_catalogue_has_no_fuzzy_or_untranslated_entries() -> None:
    entries = po_entries(RU / "django.po")
    header = next(e for e in entries if e["msgid"] == "")
    messages = [e for e in entries if e["msgid"] != ""]
    assert len(messages) > 300  # the parser found the catalogue, not an empty file
    assert [e["msgid"] for e in entries if "fuzzy" in e.get("flags", ())] == []
    assert [e["msgid"] for e in messages if any(not s for s in e["msgstr"].split("\0"))] == []
    assert "Language: ru\n" in header["msgstr"]
    assert f"Plural-Forms: {RU_PLURAL_FORMS}" in header["msgstr"]


def test_the_russian_catalogue_keeps_the_placeholders() -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
    wrong = {
        e["msgid"]: e["msgstr"]
        for e in po_entries(RU / "django.po")
        if sorted(placeholder.findall(e["msgid"])) != sorted(placeholder.findall(e["msgstr"]))
    }
    assert wrong == {}


def test_the_committed_mo_file_is_compiled_from_the_po_file() -> None:
    with (RU / "django.mo").open("rb") as mo:
        compiled: dict[Any, str] = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    source = {
        # gettext keys an entry with a context as "context\x04msgid"
        (f"{e['msgctxt']}\x04" if "msgctxt" in e else "") + e["msgid"]: e["msgstr"]
        for e in po_entries(RU / "django.po")
        if e["msgid"]
    }
    compiled = {k: v for k, v in compiled.items() if k != ""}
    missing = sorted(set(source) - set(compiled))
    stale = sorted(k for k in source.keys() & compiled.keys() if source[k] != compiled[k])
    assert (missing, stale) == ([], []), "run `kvit compilemessages` in src/kvit"


# --- the models ------------------------------------------------------------------------------


def test_every_kvit_model_has_russian_names() -> None:
    untranslated = []
    for model in kvit_models():
        opts = model._meta
        for text in (opts.verbose_name, opts.verbose_name_plural, opts.app_config.verbose_name):
            english, russian = in_both(text)
            if english == russian:
                untranslated.append(f"{opts.label}: {english}")
    assert len(kvit_models()) > 20
    assert untranslated == []


def test_every_field_label_choice_and_help_text_of_kvit_models_is_translated() -> None:
    untranslated = []
    for model in kvit_models():
        for field in model._meta.get_fields(include_hidden=False):
            if not isinstance(field, models.Field) or field.auto_created:
                continue
            texts: list[Any] = [field.verbose_name, field.help_text]
            # Labels given as lazy translations; literal ones ("1", "2", parameter codes) stay.
            texts += [label for _, label in field.choices or () if isinstance(label, Promise)]
            for text in texts:
                if not text:
                    continue
                english, russian = in_both(text)
                if english == russian:
                    untranslated.append(f"{model._meta.label}.{field.name}: {english}")
    assert untranslated == []


# --- the pages -------------------------------------------------------------------------------


@pytest.fixture
def russian_default() -> Iterator[None]:
    """The production default: Russian at "/", English under "/en/" (tests run in English).

    The URL resolver caches its reverse map per language, prefixes included, so it is
    cleared on the way in and out; otherwise "/en/…" would leak into the next tests.
    """
    clear_url_caches()
    with override_settings(LANGUAGE_CODE="ru"):
        yield
    clear_url_caches()


@pytest.mark.django_db
@pytest.mark.usefixtures("russian_default")
def test_the_landing_page_is_russian_at_the_root_and_english_under_en(client: Client) -> None:
    russian = client.get("/").content.decode()
    english = client.get("/en/").content.decode()
    assert '<html lang="ru">' in russian
    assert "Расчёты за жилищно-коммунальные услуги с точностью до копейки" in russian
    assert "Billing for housing" not in russian
    assert '<html lang="en">' in english
    assert "Billing for housing and utility services, correct to the kopeck" in english
    assert "Расчёты" not in english


@pytest.mark.django_db
@pytest.mark.usefixtures("russian_default")
@pytest.mark.parametrize(
    ("url", "russian", "english"),
    [
        ("/admin/accounts/account/", ["Лицевые счета", "Номер лицевого счёта"], ["Personal"]),
        ("/admin/metering/reading/", ["Показания", "Прибор учёта"], ["Readings", "Meter"]),
        (
            "/admin/tariffs/tariff/add/",
            ["Тариф", "Действует с", "Действует до", "Ступени тарифа", "Тарифные зоны"],
            ["Tariff", "Effective from", "Effective to", "Tariff tier"],
        ),
    ],
)
def test_admin_pages_show_kvit_models_in_russian(
    admin_client: Client,
    make: Any,
    account: Any,
    meter: Any,
    url: str,
    russian: list[str],
    english: list[str],
) -> None:
    make.reading(meter)  # the lists show their columns only when they have rows
    page = admin_client.get(url).content.decode()
    assert [text for text in russian if text not in page] == []
    assert [text for text in english if text in page] == []
