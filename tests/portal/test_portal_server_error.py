"""A page that fails shows an error id that the log names beside the traceback (R26)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from kvit.portal import views


def broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("the template engine broke")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "text"),
    [("/", "Something went wrong on our side"), ("/ru/", "У нас что-то пошло не так")],
)
def test_a_failing_page_answers_500_with_an_error_id_in_the_log(
    monkeypatch: Any, caplog: Any, path: str, text: str
) -> None:
    monkeypatch.setattr(views, "render", broken)
    # The middleware activates the page's language; the tests after this one keep theirs.
    with translation.override(translation.get_language()):
        response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    page = response.content.decode()
    assert text in page
    (found,) = re.findall(r"<code>([0-9a-f]{32})</code>", page)
    logged = [r for r in caplog.records if r.name == "kvit.errors"]
    assert [r.getMessage() for r in logged] == [f"error {found} on GET {path}"]
    assert "RuntimeError: the template engine broke" in caplog.text
