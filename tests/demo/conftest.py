"""Fixtures for the demo-data tests: a 500-account seed inside the test's transaction."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

SMALLEST = 500


@pytest.fixture
def seeded(db: None) -> str:
    """Seed the smallest demo; rolled back with the test. Returns the command's output."""
    out = StringIO()
    call_command("seed", accounts=SMALLEST, stdout=out, stderr=StringIO())
    return out.getvalue()
