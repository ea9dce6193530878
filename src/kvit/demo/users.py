"""Demo users and their fixed, documented passwords.

Passwords are hashed once per password (with a fixed salt, so the data is deterministic)
and the hash is shared by every user with that password: hashing is deliberately slow.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvit.demo.residents import Resident
from kvit.demo.rows import Batch, Ids
from kvit.demo.schema import USER, USER_ACCOUNT

# Published demo passwords, printed by `kvit seed`: not secrets.
ADMIN_PASSWORD = "demo-admin"  # noqa: S105  # pragma: allowlist secret
STAFF_PASSWORD = "demo-staff"  # noqa: S105  # pragma: allowlist secret
CONSUMER_PASSWORD = "demo-consumer"  # noqa: S105  # pragma: allowlist secret
SUPERUSER = "admin"
SUPERUSER_EMAIL = "admin@example.org"  # tells the demo superuser from a real "admin"
USERNAME_PREFIXES = ("uk-", "energo-")

STAFF_ROLES: tuple[tuple[str, str], ...] = (
    ("chairman", "back office, full rights in the organisation"),
    ("accountant", "back office: accounts, tariffs, charges and payments"),
    ("engineer", "back office: buildings, premises, meters and readings"),
)
CONSUMERS_EVERY = 100  # one consumer user per this many accounts


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str
    can: str


@dataclass(frozen=True, slots=True)
class Hashes:
    """Password hashes computed once by the caller (hashing needs the Django settings)."""

    admin: str
    staff: str
    consumer: str


def add_superuser(batch: Batch, ids: Ids, hashes: Hashes, joined: str) -> Login:
    batch.add(
        USER,
        (ids.take(USER), hashes.admin, None, True, SUPERUSER, "Платформа", "Администратор",
         SUPERUSER_EMAIL, True, True, joined, None, ""),
    )  # fmt: skip
    return Login(SUPERUSER, ADMIN_PASSWORD, "superuser: every organisation, all of the back office")


def add_staff(
    batch: Batch, ids: Ids, hashes: Hashes, joined: str, tenant: int, prefix: str, people: str
) -> list[Login]:
    logins = []
    for number, (role, can) in enumerate(STAFF_ROLES):
        username = f"{prefix}-{role}"
        first, last = _STAFF_NAMES[(len(prefix) + number) % len(_STAFF_NAMES)]
        batch.add(
            USER,
            (ids.take(USER), hashes.staff, None, False, username, first, last,
             f"{username}@example.org", True, True, joined, tenant, role),
        )  # fmt: skip
        logins.append(Login(username, STAFF_PASSWORD, f"{people}: {can}"))
    return logins


_STAFF_NAMES = (
    ("Ольга", "Сергеева"),
    ("Андрей", "Волков"),
    ("Марина", "Крылова"),
    ("Игорь", "Лебедев"),
    ("Татьяна", "Орлова"),
    ("Денис", "Фомин"),
)


class Consumers:
    """Every CONSUMERS_EVERY-th account's payer gets a cabinet login that also sees one or two
    accounts noted just before (a parent's flat, a dacha)."""

    def __init__(self, hashes: Hashes, joined: str, tenant: int, prefix: str) -> None:
        self.hash, self.joined, self.tenant, self.prefix = hashes.consumer, joined, tenant, prefix
        self.noted = 0
        self.recent: list[int] = []
        self.logins: list[Login] = []

    def note(self, batch: Batch, ids: Ids, account: int, payer: Resident | None) -> None:
        self.recent = [*self.recent[-2:], account]
        self.noted += 1
        if payer is None or self.noted % CONSUMERS_EVERY != 3 % CONSUMERS_EVERY:
            return
        user_id = ids.take(USER)
        username = f"{self.prefix}-consumer-{len(self.logins) + 1}"
        batch.add(
            USER,
            (user_id, self.hash, None, False, username, payer.first_name, payer.last_name,
             f"{username}@example.org", False, True, self.joined, self.tenant, "consumer"),
        )  # fmt: skip
        linked = self.recent[-2:] if len(self.logins) % 2 else self.recent
        for account_id in linked:
            batch.add(USER_ACCOUNT, (ids.take(USER_ACCOUNT), user_id, account_id))
        self.logins.append(
            Login(username, CONSUMER_PASSWORD, f"personal cabinet: {len(linked)} accounts")
        )


def login_lines(logins: list[Login], *, consumers_shown: int) -> list[str]:
    """One line per login; only the first few consumers of each organisation by name."""
    lines, consumers = [], dict.fromkeys(USERNAME_PREFIXES, 0)
    for login in logins:
        prefix = next((p for p in USERNAME_PREFIXES if login.username.startswith(p)), "")
        if prefix and "-consumer-" in login.username:
            consumers[prefix] += 1
            if consumers[prefix] > consumers_shown:
                continue
        lines.append(f"{login.username} / {login.password}: {login.can}")
    for prefix, count in consumers.items():
        if count > consumers_shown:
            first, last = f"{prefix}consumer-{consumers_shown + 1}", f"{prefix}consumer-{count}"
            names = first if first == last else f"{first} … {last}"
            lines.append(f"{names} / {CONSUMER_PASSWORD}: the same, for other accounts")
    return lines
