"""Providers: the legal entities money is owed to, with their bank details (spec 1.1)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kvit.db.history import History
from kvit.providers import validators


class Provider(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    name = models.CharField(
        _("name"),
        max_length=160,
        help_text=_("As printed on payment documents (≤ 160 characters)."),
    )
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    inn = models.CharField(_("INN"), max_length=12, validators=[validators.validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validators.validate_kpp])
    settlement_account = models.CharField(
        _("settlement account"), max_length=20, validators=[validators.validate_account_digits]
    )
    bic = models.CharField(_("BIC"), max_length=9, validators=[validators.validate_bic])
    corr_account = models.CharField(
        _("correspondent account"),
        max_length=20,
        blank=True,
        validators=[validators.validate_account_digits],
    )
    bank_name = models.CharField(_("bank name"), max_length=45)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "inn", "kpp"], name="providers_inn_kpp_unique"
            )
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def clean(self) -> None:
        errors = {}
        digits_ok = validators.BIC_RE.fullmatch(self.bic or "")
        account_ok = validators.ACCOUNT_RE.fullmatch(self.settlement_account or "")
        if (
            digits_ok
            and account_ok
            and not validators.account_key_ok(self.bic, self.settlement_account)
        ):
            errors["settlement_account"] = ValidationError(
                _("The settlement account's control digit does not match BIC %(bic)s."),
                code="account_key",
                params={"bic": self.bic},
            )
        corr_ok = validators.ACCOUNT_RE.fullmatch(self.corr_account or "")
        if (
            digits_ok
            and corr_ok
            and not validators.account_key_ok(self.bic, self.corr_account, correspondent=True)
        ):
            errors["corr_account"] = ValidationError(
                _("The correspondent account's control digit does not match BIC %(bic)s."),
                code="corr_account_key",
                params={"bic": self.bic},
            )
        if errors:
            raise ValidationError(errors)
