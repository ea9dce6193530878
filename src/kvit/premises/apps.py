from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PremisesConfig(AppConfig):
    name = "kvit.premises"
    verbose_name = _("Buildings and premises")
