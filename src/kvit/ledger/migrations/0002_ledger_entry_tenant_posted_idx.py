# The turnover statement reads the entries posted since a date (kvit.reports.turnover).
# Built concurrently on PostgreSQL: the ledger is large and must stay writable meanwhile.

from django.db import migrations, models

import kvit.db.operations


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("ledger", "0001_initial"),
    ]

    operations = [
        kvit.db.operations.AddIndexConcurrently(
            model_name="ledgerentry",
            index=models.Index(fields=["tenant", "posted_on"], name="ledger_entry_tenant_posted_idx"),
        ),
    ]
