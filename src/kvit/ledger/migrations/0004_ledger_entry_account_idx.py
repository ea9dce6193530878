# recompute-and-diff reads an account's entries of a period and later (period >= P): an
# index on (account, period) skips the account's older history, which the index on
# (account, provider, service, period) could not. Built and dropped concurrently on
# PostgreSQL: the ledger is large and must stay writable meanwhile.

from django.db import migrations, models

import kvit.db.operations


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("ledger", "0003_references_per_statement"),
    ]

    operations = [
        kvit.db.operations.AddIndexConcurrently(
            model_name="ledgerentry",
            index=models.Index(fields=["account", "period"], name="ledger_entry_account_idx"),
        ),
        kvit.db.operations.RemoveIndexConcurrently(
            model_name="ledgerentry",
            name="ledger_entry_balance_idx",
        ),
    ]
