"""Pure row generation: a plan in, batches of rows out; no database access.

The reference data (tenants, providers, services, tariffs, norms, staff) comes first, then
the management company's accounts and then the energy company's, in chunks of about
`plan.chunk` accounts. Each chunk has its own random generator seeded from the plan's seed,
the tenant and the chunk's number, so the same plan always gives the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from kvit.demo.energy import Energy
from kvit.demo.housing import Housing
from kvit.demo.rows import Batch, Ids
from kvit.demo.users import Hashes, Login, add_superuser
from kvit.demo.window import Window, iso

DEFAULT_SEED = 2025
DEFAULT_REFERENCE = date(2025, 7, 1)
DEFAULT_CHUNK = 10_000
HOUSING_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Plan:
    accounts: int
    seed: int = DEFAULT_SEED
    reference: date = DEFAULT_REFERENCE
    chunk: int = DEFAULT_CHUNK

    @property
    def housing_accounts(self) -> int:
        return round(self.accounts * HOUSING_SHARE)


class Demo:
    def __init__(self, plan: Plan, ids: Ids, hashes: Hashes) -> None:
        self.plan, self.ids, self.hashes = plan, ids, hashes
        self.window = Window.before(plan.reference)
        self._logins: list[Login] = []
        self._tenants: list[Housing | Energy] = []

    def batches(self) -> Iterator[Batch]:
        plan, ids = self.plan, self.ids
        joined = f"{iso(self.window.end)} 06:00:00"
        reference = Batch()
        self._logins = [add_superuser(reference, ids, self.hashes, joined)]
        housing = Housing(reference, ids, self.window, self.hashes, joined)
        energy = Energy(reference, ids, self.window, self.hashes, joined)
        self._tenants = [housing, energy]
        yield reference
        totals = (plan.housing_accounts, plan.accounts - plan.housing_accounts)
        for number, (tenant, total) in enumerate(zip(self._tenants, totals, strict=True)):
            made = chunk = 0
            while made < total:
                rng = random.Random(plan.seed * 1_000_003 + number * 100_003 + chunk)
                batch = Batch()
                tenant.fill(batch, ids, rng, min(plan.chunk, total - made))
                made += batch.accounts
                chunk += 1
                yield batch

    def logins(self) -> list[Login]:
        """Every demo login; complete once `batches()` is exhausted."""
        logins = list(self._logins)
        for tenant in self._tenants:
            logins += tenant.logins + tenant.consumers.logins
        return logins
