"""`kvit testbank`: play a payment aggregator against a running Kvit, over HTTP.

kvit testbank pay --account 000101 --amount 100.00 [--url http://127.0.0.1:8000]
kvit testbank check --account 000101
kvit testbank cancel --transaction tb-… --reason "refunded to the card"

By default it is the demo's test bank of the demo management company (`kvit seed` creates
the contract with the published demo secret); --tenant, --aggregator and --secret name
another contract.
"""

from __future__ import annotations

import json
import urllib.error
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kvit.online.testbank import CODE, DEFAULT_TENANT, DEMO_SECRET, Reply, TestBank, over_http


class Command(BaseCommand):
    help = "Play a payment aggregator (the test bank) against a running Kvit: pay, check, cancel."

    def add_arguments(self, parser: CommandParser) -> None:
        common = CommandParser(add_help=False)
        common.add_argument("--url", default="http://127.0.0.1:8000", help="Kvit's address")
        common.add_argument("--tenant", default=DEFAULT_TENANT, help="the organisation's code")
        common.add_argument("--aggregator", default=CODE, help="the aggregator contract's code")
        common.add_argument("--secret", default=DEMO_SECRET, help="the contract's HMAC secret")
        steps = parser.add_subparsers(dest="step", required=True)
        pay = steps.add_parser("pay", parents=[common], help="create and perform a payment")
        pay.add_argument("--account", required=True)
        pay.add_argument("--amount", required=True, help='a decimal string, e.g. "100.00"')
        pay.add_argument("--transaction", default="", help="the transaction id (default: new)")
        check = steps.add_parser("check", parents=[common], help="what an account owes")
        check.add_argument("--account", required=True)
        cancel = steps.add_parser("cancel", parents=[common], help="cancel a transaction")
        cancel.add_argument("--transaction", required=True)
        cancel.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            send = over_http(options["url"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        bank = TestBank(
            options["tenant"], options["secret"], send, aggregator=options["aggregator"]
        )
        step = options["step"]
        try:
            if step == "pay":
                self._show("check", bank.check(options["account"]))
                created, performed = bank.pay(
                    options["account"], options["amount"], options["transaction"]
                )
                self._show("create", created)
                if performed is not None:
                    self._show("perform", performed)
                    self._show("check", bank.check(options["account"]))
            elif step == "check":
                self._show("check", bank.check(options["account"]))
            else:
                self._show("cancel", bank.cancel(options["transaction"], options["reason"]))
        except urllib.error.URLError as error:
            raise CommandError(
                f"Kvit does not answer at {options['url']}: {error.reason}"
            ) from None

    def _show(self, step: str, reply: Reply) -> None:
        text = json.dumps(reply.body, ensure_ascii=False, indent=2)
        if not reply.ok:
            raise CommandError(f"{step}: HTTP {reply.status}\n{text}")
        self.stdout.write(self.style.SUCCESS(f"{step}: HTTP {reply.status}"))
        self.stdout.write(text)
