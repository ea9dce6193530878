"""The packages catalogue: Russian for the strings of django-unfold and django-simple-history.

Unfold ships no translations and simple-history's Russian is partial, so their strings are
translated by hand in src/kvit/locale_packages/ru/LC_MESSAGES/django.po (with its compiled
django.mo); LOCALE_PATHS lists it after Kvit's own catalogue.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from simple_history.models import DeletedObject
from test_i18n_catalogue import (  # the sibling module; pytest puts tests/i18n on sys.path
    RU_PLURAL_FORMS,
    po_entries,
    russian_default,  # noqa: F401 (the fixture, used by name)
)

import kvit
from kvit.premises.models import Building

KVIT = Path(kvit.__file__).parent
PACKAGES = KVIT / "locale_packages" / "ru" / "LC_MESSAGES"


def test_the_packages_catalogue_comes_after_kvits_own() -> None:
    # the first of LOCALE_PATHS wins, so Kvit's own wording overrides the packages' one
    paths = [Path(p) for p in settings.LOCALE_PATHS]
    assert paths.index(KVIT / "locale") < paths.index(KVIT / "locale_packages")


def test_the_packages_catalogue_has_no_fuzzy_or_untranslated_entries() -> None:
    entries = po_entries(PACKAGES / "django.po")
    header = next(e for e in entries if e["msgid"] == "")
    messages = [e for e in entries if e["msgid"] != ""]
    assert len(messages) > 100  # the parser found the catalogue, not an empty file
    assert [e["msgid"] for e in entries if "fuzzy" in e.get("flags", ())] == []
    assert [e["msgid"] for e in messages if any(not s for s in e["msgstr"].split("\0"))] == []
    assert [
        e["msgid"] for e in messages if "msgid_plural" in e and e["msgstr"].count("\0") != 2
    ] == []
    assert "Language: ru\n" in header["msgstr"]
    assert f"Plural-Forms: {RU_PLURAL_FORMS}" in header["msgstr"]


def test_the_packages_catalogue_keeps_the_placeholders() -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
    wrong = {
        e["msgid"]: e["msgstr"]
        for e in po_entries(PACKAGES / "django.po")
        for msgstr in e["msgstr"].split("\0")
        if sorted(placeholder.findall(e["msgid"])) != sorted(placeholder.findall(msgstr))
    }
    assert wrong == {}


def test_the_committed_mo_file_is_compiled_from_the_po_file() -> None:
    with (PACKAGES / "django.mo").open("rb") as mo:
        catalog: dict[Any, str] = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    compiled: dict[str, str] = {}
    # gettext keys a plural entry's forms as (msgid, n); join them as po_entries does
    for key in sorted(catalog, key=lambda k: k if isinstance(k, tuple) else (k, 0)):
        if isinstance(key, tuple):
            text = compiled.get(key[0])
            compiled[key[0]] = catalog[key] if text is None else f"{text}\0{catalog[key]}"
        elif key:
            compiled[key] = catalog[key]
    source = {
        # gettext keys an entry with a context as "context\x04msgid"
        (f"{e['msgctxt']}\x04" if "msgctxt" in e else "") + e["msgid"]: e["msgstr"]
        for e in po_entries(PACKAGES / "django.po")
        if e["msgid"]
    }
    missing = sorted(set(source) - set(compiled))
    stale = sorted(k for k in source.keys() & compiled.keys() if source[k] != compiled[k])
    extra = sorted(set(compiled) - set(source))
    assert (missing, stale, extra) == ([], [], []), "run `kvit compilemessages` in src/kvit"


# --- the pages and models --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("russian_default")
def test_the_admin_changelist_shows_unfolds_strings_in_russian(admin_client: Client) -> None:
    russian = admin_client.get("/admin/accounts/account/").content.decode()
    english = admin_client.get("/en/admin/accounts/account/").content.decode()
    assert [
        t for t in ["Фильтры", "Применить фильтры", "Выберите действие"] if t not in russian
    ] == []
    assert [t for t in ["Apply Filters", "Select action", "Type to search"] if t in russian] == []
    assert [t for t in ["Filters", "Apply Filters", "Type to search"] if t not in english] == []
    assert "Фильтры" not in english


@pytest.mark.django_db
@pytest.mark.usefixtures("russian_default")
def test_the_history_page_shows_simple_historys_strings_in_russian(
    admin_client: Client, building: Any
) -> None:
    building.address = "Lenina st. 100"
    building.full_clean()
    building.save()  # a second historical record, so the list has a change to show
    url = f"/admin/premises/building/{building.pk}/history/"
    russian = admin_client.get(url).content.decode()
    english = admin_client.get(f"/en{url}").content.decode()
    assert [
        t for t in ["Кем изменено", "Изменения", "Создано", "Изменено"] if t not in russian
    ] == []
    assert [t for t in ["Changed by", "Changes", "Created"] if t in russian] == []
    assert [t for t in ["Changed by", "Change reason", "Created"] if t not in english] == []


def test_simple_historys_model_strings_are_russian() -> None:
    history_type = Building.history.model._meta.get_field("history_type")
    with translation.override("ru"):
        labels = [str(label) for _, label in history_type.choices]
        deleted = str(DeletedObject(Building, 1))
    assert labels == ["Создано", "Изменено", "Удалено"]
    assert deleted == "Удалённый объект: дом (pk=1)"


def test_the_historical_models_verbose_name_is_russian() -> None:
    with translation.override("ru"):
        name = str(Building.history.model._meta.verbose_name)
        plural = str(Building.history.model._meta.verbose_name_plural)
    assert (name, plural) == ("история: дом", "история: дома")
