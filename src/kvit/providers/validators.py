"""Russian requisites: INN and KPP, BIC, settlement and correspondent accounts.

INN check digits come from python-stdnum. A bank account's control key (Bank of Russia
rules) is checked against the BIC: weights 7, 1, 3 over the 23 digits "BIC tail + account".
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as stdnum_inn

KPP_RE = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
BIC_RE = re.compile(r"[0-9]{9}")
ACCOUNT_RE = re.compile(r"[0-9]{20}")
_WEIGHTS = ((7, 1, 3) * 8)[:23]


def validate_inn(value: str) -> None:
    try:
        stdnum_inn.validate(value)
    except StdnumError:
        raise ValidationError(
            _(
                "INN “%(value)s” is invalid: 10 digits for an organisation or 12 for a person, "
                "with correct check digits."
            ),
            code="inn",
            params={"value": value},
        ) from None


def validate_kpp(value: str) -> None:
    if not KPP_RE.fullmatch(value):
        raise ValidationError(
            _(
                "KPP “%(value)s” is invalid: 9 characters, four digits, two digits or capital "
                "letters, three digits."
            ),
            code="kpp",
            params={"value": value},
        )


def validate_bic(value: str) -> None:
    if not BIC_RE.fullmatch(value):
        raise ValidationError(
            _("BIC “%(value)s” is invalid: exactly 9 digits."), code="bic", params={"value": value}
        )


def validate_account_digits(value: str) -> None:
    if not ACCOUNT_RE.fullmatch(value):
        raise ValidationError(
            _("Account “%(value)s” is invalid: exactly 20 digits."),
            code="account_digits",
            params={"value": value},
        )


def account_key_ok(bic: str, account: str, *, correspondent: bool = False) -> bool:
    """True when the account's control digit matches the BIC (Bank of Russia rules)."""
    prefix = "0" + bic[4:6] if correspondent else bic[-3:]
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 10 == 0
