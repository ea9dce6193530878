"""What is applied after every service's base charge (spec 2.14–2.16), in this order:

1. temporary absence (`absence.py`): recalculation lines that lower a norm charge;
2. quality reductions (`quality.py`): a share of the period's charge, after (1);
3. benefits (`benefits.py`): a share of a base charge, on the volume after (1).

Each works on the jobs `rating.rate` billed and the lines they produced (`Run.job_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence

from kvit.core.absence import absence
from kvit.core.benefits import benefits
from kvit.core.context import Job, Run
from kvit.core.quality import quality


def adjust(run: Run, jobs: Sequence[Job]) -> None:
    absence(run, jobs)
    quality(run, jobs)
    benefits(run, jobs)
