"""The API's OpenAPI schema and docs page: served, documented, and built from packaged
files only (no CDN)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client: Client) -> Any:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_documents_the_protocol_and_the_key_retention(schema: Any) -> None:
    assert schema["info"]["title"] == "Kvit API"
    assert "X-Kvit-Signature" in schema["info"]["description"]
    assert "24 hours" in schema["info"]["description"]
    create = schema["paths"]["/api/online/{tenant}/{aggregator}/transactions"]["post"]
    (key,) = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and "24 hours" in key["description"]
    assert set(create["responses"]) >= {"200", "400", "401", "404", "409", "422"}
    assert schema["components"]["securitySchemes"]["AggregatorSignature"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Kvit-Signature",
    }


def test_the_schema_takes_money_as_strings(schema: Any) -> None:
    body = schema["components"]["schemas"]["TransactionIn"]["properties"]
    assert body["amount"]["type"] == "string"
    assert schema["components"]["schemas"]["TransactionIn"]["additionalProperties"] is False


def test_the_docs_page_loads_nothing_from_outside(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "a CDN or other outside URL"
    assets = re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", page)
    assert "ninja/swagger-ui-bundle.js" in assets
    assert all(finders.find(asset) for asset in assets), assets


def test_the_api_answers_outside_the_language_prefixes(client: Client) -> None:
    assert client.get("/en/api/openapi.json").status_code == 404
