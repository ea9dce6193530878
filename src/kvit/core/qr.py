"""The payment QR code payload (GOST R 56042-2014, spec 5.2; example 23).

`encode` turns requisites (`Key=Value` pairs) into the text a QR code carries:

    ST0001 + encoding flag + "|" + "Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|…"

The five required keys come first in the order of the standard, then only the non-empty
optional keys in the order spec 5.2 lists them [DECISION]. Keys are emitted exactly as
listed (some banks compare them case-sensitively); a value must not contain the separator.
`payment_requisites` fills them for a housing payment: `Sum` in kopecks, `PaymPeriod` as
`MMYYYY` [DECISION], `TechCode` 02 (housing and utilities).

`decode` reads a payload back. It matches keys case-insensitively, because real housing
documents use `persAcc`, `paymPeriod` and the like, and `parse_period` accepts `MMYYYY`,
`MMYY` and `MM.YYYY`.

The standard's compactness advice (about 300 bytes) is not enforced [UNCERTAIN]: the length
of a payload is the caller's to report (`len(payload)`, `len(payload.encode(...))`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from kvit.core.money import to_decimal
from kvit.core.periods import Period

FORMAT = "ST0001"
SEPARATOR = "|"
ENCODINGS: dict[str, str] = {"windows-1251": "1", "utf-8": "2", "koi8-r": "3"}
"""Python codec name → the encoding flag of the header."""

REQUIRED = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
OPTIONAL = (
    # additional requisites
    "Sum",
    "Purpose",
    "PayeeINN",
    "PayerINN",
    "DrawerStatus",
    "KPP",
    "CBC",
    "OKTMO",
    "PaytReason",
    "TaxPeriod",
    "DocNo",
    "DocDate",
    "TaxPaytKind",
    # other requisites
    "LastName",
    "FirstName",
    "MiddleName",
    "PayerAddress",
    "PersonalAccount",
    "DocIdx",
    "PensAcc",
    "Contract",
    "PersAcc",
    "Flat",
    "Phone",
    "PayerIdType",
    "PayerIdNum",
    "ChildFio",
    "BirthDate",
    "PaymTerm",
    "PaymPeriod",
    "Category",
    "ServiceName",
    "CounterId",
    "CounterVal",
    "QuittId",
    "QuittDate",
    "InstNum",
    "ClassNum",
    "SpecFio",
    "AddAmount",
    "RuleId",
    "ExecId",
    "RegType",
    "UIN",
    "TechCode",
)
KEYS = REQUIRED + OPTIONAL
_CANONICAL = {key.lower(): key for key in KEYS}
HOUSING_TECH_CODE = "02"

_DIGITS = re.compile(r"[0-9]+")
_PERIODS = (
    re.compile(r"(?P<month>[0-9]{2})(?P<year>[0-9]{4})"),  # MMYYYY, what we emit
    re.compile(r"(?P<month>[0-9]{2})\.(?P<year>[0-9]{4})"),  # MM.YYYY
    re.compile(r"(?P<month>[0-9]{2})(?P<year>[0-9]{2})"),  # MMYY
)


def _text(limit: int) -> Callable[[str, str], str | None]:
    def check(key: str, value: str) -> str | None:
        if len(value) > limit:
            return f"{key} is {len(value)} characters long, more than {limit}"
        return None

    return check


def _digits(low: int, high: int) -> Callable[[str, str], str | None]:
    def check(key: str, value: str) -> str | None:
        if not _DIGITS.fullmatch(value) or not low <= len(value) <= high:
            size = f"{low}" if low == high else f"{low} to {high}"
            return f"{key} must be {size} digits, got {value!r}"
        return None

    return check


def _period(key: str, value: str) -> str | None:
    try:
        parse_period(value)
    except ValueError as error:
        return f"{key}: {error}"
    return None


_RULES: dict[str, Callable[[str, str], str | None]] = {
    "Name": _text(160),
    "PersonalAcc": _digits(20, 20),
    "BankName": _text(45),
    "BIC": _digits(9, 9),
    "CorrespAcc": _digits(1, 20),
    "Sum": _digits(1, 18),
    "Purpose": _text(210),
    "PayeeINN": _digits(1, 12),
    "KPP": _text(9),
    "PaymPeriod": _period,
    "AddAmount": _digits(1, 18),
    "TechCode": _digits(2, 2),
}


@dataclass(frozen=True, slots=True)
class Payee:
    """The provider's requisites (`providers.Provider`): who receives the payment.
    `corr_account` is "0" when the bank has none (spec 5.2)."""

    name: str
    settlement_account: str
    bank_name: str
    bic: str
    corr_account: str = "0"
    inn: str = ""
    kpp: str = ""


def kopecks(amount: Decimal) -> str:
    """An amount as whole kopecks, digits only (`Sum`, `AddAmount`): 5350.37 → "535037"."""
    value = to_decimal(amount)
    units = value.scaleb(2)
    if value < 0 or units != units.to_integral_value():
        raise ValueError(f"a QR amount must be zero or more in whole kopecks, got {value}")
    return str(int(units))


def payment_requisites(
    payee: Payee,
    *,
    amount: Decimal | None = None,
    purpose: str = "",
    payer_account: str = "",
    period: Period | None = None,
    tech_code: str = HOUSING_TECH_CODE,
) -> dict[str, str]:
    """The requisites of a housing payment: the payee, `Sum`, `Purpose`, the payer's account
    with the provider (`PersAcc`, the лицевой счёт), `PaymPeriod` (`MMYYYY`) and `TechCode`."""
    return {
        "Name": payee.name,
        "PersonalAcc": payee.settlement_account,
        "BankName": payee.bank_name,
        "BIC": payee.bic,
        "CorrespAcc": payee.corr_account,
        "Sum": "" if amount is None else kopecks(amount),
        "Purpose": purpose,
        "PayeeINN": payee.inn,
        "KPP": payee.kpp,
        "PersAcc": payer_account,
        "PaymPeriod": "" if period is None else f"{period.month:02d}{period.year:04d}",
        "TechCode": tech_code,
    }


def encode(requisites: Mapping[str, str], encoding: str = "utf-8") -> str:
    """The payload for `requisites` (keys as spelled in `KEYS`).

    Raises ValueError, naming the key, for an unknown key, a missing required key, a value
    that breaks the rules of spec 5.2 (lengths, digits, `PaymPeriod`), a value containing
    the separator, or a value the chosen encoding cannot carry.
    """
    flag = ENCODINGS.get(encoding.lower())
    if flag is None:
        raise ValueError(f"unknown QR encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    unknown = sorted(set(requisites) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown QR keys: {', '.join(unknown)}")
    pairs = []
    for key in KEYS:
        value = requisites.get(key, "")
        if not value:
            if key in REQUIRED:
                raise ValueError(f"{key} is required")
            continue
        if SEPARATOR in value:
            raise ValueError(f"{key} contains the separator {SEPARATOR!r}: {value!r}")
        rule = _RULES.get(key)
        problem = None if rule is None else rule(key, value)
        if problem is not None:
            raise ValueError(problem)
        try:
            value.encode(encoding)
        except UnicodeEncodeError:
            raise ValueError(f"{key} cannot be written in {encoding}: {value!r}") from None
        pairs.append(f"{key}={value}")
    return f"{FORMAT}{flag}{SEPARATOR}{SEPARATOR.join(pairs)}"


def decode(payload: str) -> dict[str, str]:
    """The requisites of a payload, keys in their canonical spelling (matched
    case-insensitively; keys the standard does not list are kept as written).

    The separator is the character after the 7-character header. Raises ValueError for a
    payload that is not `ST0001` with a known encoding flag, or a part without `=`.
    """
    header = payload[: len(FORMAT) + 1]
    if len(payload) < len(FORMAT) + 2 or not header.startswith(FORMAT):
        raise ValueError(f"not a GOST R 56042 payload: it must start with {FORMAT}")
    if header[-1] not in ENCODINGS.values():
        raise ValueError(f"unknown encoding flag {header[-1]!r} (1, 2 or 3)")
    separator = payload[len(header)]
    found: dict[str, str] = {}
    for part in payload[len(header) + 1 :].split(separator):
        key, equals, value = part.partition("=")
        if not equals:
            raise ValueError(f"QR part {part!r} is not Key=Value")
        found[_CANONICAL.get(key.lower(), key)] = value
    return found


def parse_period(text: str) -> Period:
    """`PaymPeriod` as written on documents: `MMYYYY` (what `encode` emits), `MM.YYYY` or
    `MMYY` (20YY)."""
    for pattern in _PERIODS:
        found = pattern.fullmatch(text)
        if found is not None:
            year = found["year"]
            try:
                return Period(
                    int(year) if len(year) == 4 else 2000 + int(year), int(found["month"])
                )
            except ValueError:
                break
    raise ValueError(f"{text!r} is not a payment period: write MMYYYY, MM.YYYY or MMYY")
