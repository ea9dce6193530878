"""Valid Russian requisites for demo organisations and people: INN, KPP, BIC, accounts.

Each is built from a deterministic serial number, and the check digits are computed the way
the validators in kvit.providers.validators check them, so every one passes full_clean().
"""

from __future__ import annotations

from stdnum.ru import inn as stdnum_inn

from kvit.providers.validators import account_key_ok

REGION_CODE = "69"  # Tver region: tax offices 69xx, BICs 0428xxxxx
TAX_OFFICES = ("01", "02", "04", "08", "13", "15")


def company_inn(serial: int) -> str:
    """10 digits: region, tax office, 5-digit serial, check digit."""
    office = TAX_OFFICES[serial % len(TAX_OFFICES)]
    body = f"{REGION_CODE}{office}{serial % 100_000:05d}"
    return body + stdnum_inn.calc_company_check_digit(body)


def personal_inn(serial: int) -> str:
    """12 digits: region, tax office, 6-digit serial, two check digits."""
    office = TAX_OFFICES[serial % len(TAX_OFFICES)]
    body = f"{REGION_CODE}{office}{serial % 1_000_000:06d}"
    return body + stdnum_inn.calc_personal_check_digits(body)


def kpp(inn: str, *, reason: str = "01") -> str:
    """Tax office of the INN, reason code, serial 001."""
    return f"{inn[:4]}{reason}001"


def bic(bank: str, branch: int) -> str:
    """04 + OKATO region (28, Tver) + bank + 3-digit branch (≥ 050, as real branches are)."""
    return f"0428{bank}{50 + branch % 900:03d}"


def _with_key(bic: str, account: str, *, correspondent: bool = False) -> str:
    """The account with its control digit (the 9th) set so that the BIC check passes."""
    for key in "0123456789":
        candidate = account[:8] + key + account[9:]
        if account_key_ok(bic, candidate, correspondent=correspondent):
            return candidate
    raise AssertionError("some key digit always matches")  # pragma: no cover


def correspondent_account(bic: str) -> str:
    """30101 810 K 00000000 + the BIC's last three digits."""
    return _with_key(bic, f"301018100{'0' * 8}{bic[-3:]}", correspondent=True)


def settlement_account(bic: str, serial: int, *, balance: str = "40702") -> str:
    """Balance account (40702: commercial organisation), RUB (810), key, 11-digit serial."""
    return _with_key(bic, f"{balance}8100{serial % 10**11:011d}")


def phone(serial: int) -> str:
    digits = f"{(serial * 7_919 + 1_234_567) % 10**7:07d}"
    code = 900 + serial % 100
    return f"+7 {code} {digits[:3]}-{digits[3:5]}-{digits[5:]}"
