from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    """btree_gist lets a PostgreSQL exclusion constraint mix `=` on keys with `&&` on dates.
    The operation does nothing on other databases."""

    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [BtreeGistExtension()]
