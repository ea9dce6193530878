"""`kvit scenario run FILE...`: compute scenario files and compare them with their
expectations (docs/scenarios.md).

kvit scenario run tests/scenarios/examples/            # every *.yaml of a folder
kvit scenario run example-01.yaml example-02.yaml --lines  # every line with its explanation
kvit scenario run example-01.yaml --output json          # all computed values as JSON
kvit scenario run example-01.yaml --language ru          # messages and sentences in Russian

Exit status: 0 when everything matches, 1 on any mismatch, 2 when a file has a mistake
(the message names the file, line and column).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kvit.scenarios.files import exit_status, run_files
from kvit.scenarios.report import LANGUAGES, as_json, text


def _default_language() -> str:
    code = str(getattr(settings, "LANGUAGE_CODE", "en"))[:2]
    return code if code in LANGUAGES else "en"


class Command(BaseCommand):
    help = (
        "Scenario files: 'run FILE...' computes each file's periods, penalties, allocations, "
        "QR codes and statements and prints a diff against its expectations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        run = actions.add_parser(
            "run",
            help="compute scenario files and compare them with their expectations",
            description="Compute scenario files and compare them with their expectations.",
        )
        run.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders")
        run.add_argument(
            "--output",
            choices=("text", "json"),
            default="text",
            help="text: a readable diff (default); json: every computed line with its explanation",
        )
        run.add_argument(
            "--lines",
            action="store_true",
            help="also print every computed line with its explanation, and the issues",
        )
        run.add_argument(
            "--language",
            choices=LANGUAGES,
            default=None,
            help="language of messages and explanations (default: the site's language)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = run_files(options["files"])
        if not outcomes:
            raise CommandError("no scenario files found")
        if options["output"] == "json":
            self.stdout.write(as_json(outcomes), ending="")
        else:
            language = options["language"] or _default_language()
            detail = 2 if options["lines"] else options["verbosity"]
            self.stdout.write(text(outcomes, language, detail), ending="")
        status = exit_status(outcomes)
        if status:
            raise CommandError(
                "scenario mismatches" if status == 1 else "scenario files with mistakes",
                returncode=status,
            )
