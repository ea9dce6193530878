from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistriesConfig(AppConfig):
    name = "kvit.registries"
    verbose_name = _("Payment registries")
