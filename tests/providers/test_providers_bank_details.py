"""A provider's requisites: INN, KPP, BIC and accounts with their control keys (spec 1.1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kvit.providers import validators
from kvit.providers.models import Provider

# Real published requisites: (BIC, correspondent account) of Sberbank (Moscow and
# St Petersburg), T-Bank, VTB and Alfa-Bank.
REAL_BANKS = [
    ("044525225", "30101810400000000225"),
    ("044030653", "30101810500000000653"),
    ("044525974", "30101810145250000974"),
    ("044525187", "30101810700000000187"),
    ("044525593", "30101810200000000593"),
]
SBERBANK_INN = "7707083893"  # a real organisation INN


def change_digit(text: str, index: int) -> str:
    return text[:index] + str((int(text[index]) + 1) % 10) + text[index + 1 :]


class TestValidators:
    @pytest.mark.parametrize("inn", [SBERBANK_INN, "500100732259"])
    def test_valid_inn(self, inn: str) -> None:
        validators.validate_inn(inn)

    @pytest.mark.parametrize(
        "inn", [change_digit(SBERBANK_INN, 9), "770708389", "77070838931", "770708389X", ""]
    )
    def test_invalid_inn(self, inn: str) -> None:
        with pytest.raises(ValidationError, match=r"INN .* is invalid"):
            validators.validate_inn(inn)

    @pytest.mark.parametrize("kpp", ["773601001", "7736AB001"])
    def test_valid_kpp(self, kpp: str) -> None:
        validators.validate_kpp(kpp)

    @pytest.mark.parametrize("kpp", ["77360100", "7736010011", "7736ab001", "A73601001", ""])
    def test_invalid_kpp(self, kpp: str) -> None:
        with pytest.raises(ValidationError, match=r"KPP .* is invalid"):
            validators.validate_kpp(kpp)

    @pytest.mark.parametrize("bic", ["04452522", "0445252251", "04452522A"])
    def test_bic_is_nine_digits(self, bic: str) -> None:
        with pytest.raises(ValidationError, match=r"BIC .* is invalid: exactly 9 digits"):
            validators.validate_bic(bic)

    @pytest.mark.parametrize(
        "account", ["4070281000000000001", "407028100000000000012", "4070281000000000000A"]
    )
    def test_account_is_twenty_digits(self, account: str) -> None:
        with pytest.raises(ValidationError, match="exactly 20 digits"):
            validators.validate_account_digits(account)

    @pytest.mark.parametrize(("bic", "corr"), REAL_BANKS)
    def test_real_correspondent_accounts_pass(self, bic: str, corr: str) -> None:
        assert validators.account_key_ok(bic, corr, correspondent=True)

    @pytest.mark.parametrize(("bic", "corr"), REAL_BANKS)
    def test_any_changed_digit_fails_the_key(self, bic: str, corr: str) -> None:
        for index in range(20):
            assert not validators.account_key_ok(bic, change_digit(corr, index), correspondent=True)

    @pytest.mark.parametrize(("bic", "corr"), REAL_BANKS)
    def test_a_correspondent_account_is_not_a_settlement_account(self, bic: str, corr: str) -> None:
        # the keys use different parts of the BIC; these banks' BIC tails differ
        assert not validators.account_key_ok(bic, corr)

    def test_exactly_one_control_digit_fits(self) -> None:
        for bic, _ in REAL_BANKS:
            fits = [
                k for k in range(10) if validators.account_key_ok(bic, f"40702810{k}00000012345")
            ]
            assert len(fits) == 1


@pytest.mark.django_db
class TestProvider:
    def test_the_factory_makes_a_valid_provider(self, make: Any, tenant: Any) -> None:
        provider = make.provider(tenant)
        assert validators.account_key_ok(provider.bic, provider.settlement_account)
        assert Provider.objects.get(pk=provider.pk).tenant == tenant

    @pytest.mark.parametrize(
        ("field", "value", "words"),
        [
            ("inn", change_digit(SBERBANK_INN, 9), "INN"),
            ("inn", "12345", "INN"),
            ("kpp", "77360100", "KPP"),
            ("bic", "04452522", "BIC"),
            ("bic", "04452522x", "BIC"),
            ("settlement_account", "4070281000000000001", "exactly 20 digits"),
            ("corr_account", "3010181040000000022", "exactly 20 digits"),
        ],
    )
    def test_malformed_details_are_refused_on_their_field(
        self, make: Any, tenant: Any, clean_errors: Any, field: str, value: str, words: str
    ) -> None:
        provider = make.provider(tenant)
        setattr(provider, field, value)
        errors = clean_errors(provider)
        assert list(errors) == [field]
        assert words in errors[field][0]
        assert value in errors[field][0]

    def test_a_settlement_account_that_does_not_fit_the_bic(
        self, make: Any, tenant: Any, clean_errors: Any
    ) -> None:
        provider = make.provider(tenant)
        provider.settlement_account = change_digit(provider.settlement_account, 8)
        assert clean_errors(provider) == {
            "settlement_account": [
                f"The settlement account's control digit does not match BIC {provider.bic}."
            ]
        }

    def test_a_correspondent_account_that_does_not_fit_the_bic(
        self, make: Any, tenant: Any, clean_errors: Any
    ) -> None:
        provider = make.provider(tenant)
        provider.corr_account = change_digit(provider.corr_account, 19)
        assert clean_errors(provider) == {
            "corr_account": [
                f"The correspondent account's control digit does not match BIC {provider.bic}."
            ]
        }

    def test_changing_the_bank_breaks_both_keys(
        self, make: Any, tenant: Any, clean_errors: Any
    ) -> None:
        provider = make.provider(tenant)
        provider.bic = "044030653"  # another region: both parts of the BIC in the keys differ
        assert set(clean_errors(provider)) == {"settlement_account", "corr_account"}

    def test_the_correspondent_account_may_be_empty(
        self, make: Any, tenant: Any, clean_errors: Any
    ) -> None:
        provider = make.provider(tenant, corr_account="", kpp="")
        assert clean_errors(provider) == {}

    def test_inn_and_kpp_are_unique_per_tenant(
        self, make: Any, tenant: Any, other_tenant: Any, clean_errors: Any
    ) -> None:
        first = make.provider(tenant)
        make.provider(other_tenant, inn=first.inn, kpp=first.kpp)  # another tenant: fine
        twin = make.provider(tenant, inn=first.inn, kpp="770201001")  # another branch: fine
        twin.kpp = first.kpp
        assert "__all__" in clean_errors(twin)
        with pytest.raises(IntegrityError), transaction.atomic():
            twin.save()


# "²" and Arabic-Indic digits pass str.isdigit(); int("²") raises.
NON_ASCII_DIGITS = [
    ("bic", "04452522²"),
    ("bic", "٠٤٤٥٢٥٢٢٥"),
    ("settlement_account", "4070281000000000001²"),
    ("corr_account", "3010181040000000022²"),
    ("kpp", "٧٧٣٦01٠٠١"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), NON_ASCII_DIGITS)
def test_non_ascii_digits_do_not_crash_validation(
    make: Any, tenant: Any, clean_errors: Any, field: str, value: str
) -> None:
    provider = make.provider(tenant)
    setattr(provider, field, value)
    clean_errors(provider)  # a ValueError from int("²") would escape here


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), NON_ASCII_DIGITS)
def test_non_ascii_digits_are_refused(
    make: Any, tenant: Any, clean_errors: Any, field: str, value: str
) -> None:
    provider = make.provider(tenant)
    setattr(provider, field, value)
    assert field in clean_errors(provider)
