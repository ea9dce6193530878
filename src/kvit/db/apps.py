from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DbConfig(AppConfig):
    name = "kvit.db"
    label = "kvit_db"
    verbose_name = "Kvit database"

    def ready(self) -> None:
        from kvit.db import lookups  # noqa: F401 -- registers `any_of`
        from kvit.db.triggers import install_sqlite_triggers

        post_migrate.connect(install_sqlite_triggers, dispatch_uid="kvit_sqlite_triggers")
