"""Running scenario files: paths (files or folders of `*.yaml`) → one outcome per file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kvit.scenarios.loader import load
from kvit.scenarios.nodes import ScenarioError
from kvit.scenarios.runner import ScenarioResult, run


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """One file: its result, or why it could not be read."""

    path: Path
    result: ScenarioResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok


def scenario_paths(paths: Iterable[Path | str]) -> list[Path]:
    """The files named, a folder standing for its `*.yaml` and `*.yml` files (sorted)."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        else:
            found.append(path)
    return found


def run_file(path: Path) -> FileOutcome:
    """Load and run one scenario file; a mistake in the file is its outcome's `error`."""
    try:
        scenario = load(path)
    except ScenarioError as error:
        return FileOutcome(path, error=str(error))
    return FileOutcome(path, run(scenario))


def run_files(paths: Iterable[Path | str]) -> list[FileOutcome]:
    return [run_file(path) for path in scenario_paths(paths)]


def exit_status(outcomes: Iterable[FileOutcome]) -> int:
    """0 when everything matches, 1 on any mismatch, 2 when a file could not be read."""
    found = list(outcomes)
    if any(outcome.error is not None for outcome in found):
        return 2
    return 0 if all(outcome.ok for outcome in found) else 1
