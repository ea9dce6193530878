"""Data problems found while computing: returned as values, never raised mid-batch.

An `Issue` has a stable `code` (tests, reports and translations key on it), the account
and meter it concerns, and the values that explain it. `message()` renders it in Russian
or English; the rest of the batch is computed regardless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

Value = Decimal | int | str | date | None


class Severity(StrEnum):
    ERROR = "error"  # the line could not be computed; the account or service is skipped
    WARNING = "warning"  # computed, but someone should look (e.g. an implausible reading)


@dataclass(frozen=True, slots=True)
class Issue:
    code: str
    severity: Severity
    account: str = ""  # account number
    meter: str = ""  # meter serial number
    service: str = ""  # service code
    values: Mapping[str, Value] = field(default_factory=dict)

    def message(self, language: str = "en") -> str:
        texts = MESSAGES.get(self.code, {})
        template = texts.get(language) or texts.get("en") or self.code
        words = _WORDS.get(language, _WORDS["en"])
        where = ", ".join(
            part
            for part in (
                self.account and f"{words['account']} {self.account}",
                self.meter and f"{words['meter']} {self.meter}",
                self.service and f"{words['service']} {self.service}",
            )
            if part
        )
        text = template.format(**{k: _show(v) for k, v in self.values.items()})
        return f"{where}: {text}" if where else text


def _show(value: Value) -> str:
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return "" if value is None else str(value)


_WORDS = {
    "en": {"account": "account", "meter": "meter", "service": "service"},
    "ru": {"account": "лицевой счёт", "meter": "счётчик", "service": "услуга"},
}

# code -> language -> template with {named} values; each engine module registers its own.
MESSAGES: dict[str, dict[str, str]] = {}


def register_messages(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Called once by each module that issues codes, at import, with "en" and "ru" texts."""
    for code, texts in messages.items():
        if code in MESSAGES:
            raise ValueError(f"issue code {code!r} is registered twice")
        if set(texts) != {"en", "ru"}:
            raise ValueError(f"issue code {code!r} needs exactly an 'en' and a 'ru' text")
        MESSAGES[code] = dict(texts)
