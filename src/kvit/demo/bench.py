"""Benchmark `kvit seed` on a scratch PostgreSQL database: wall time and peak memory.

    python -m kvit.demo.bench --accounts 100000
    python -m kvit.demo.bench --accounts 1000000 --server postgres://postgres@127.0.0.1:5432

It drops and creates the scratch database, migrates it, runs `kvit seed -v2` in a child
process, prints the seed's report and one summary line, and drops the database again
unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import psycopg
from psycopg import sql

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kvit.demo.bench", description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--server", default=os.environ.get("KVIT_BENCH_SERVER", DEFAULT_SERVER))
    parser.add_argument("--database", default="kvit_bench", help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args(argv)

    _recreate(options.server, options.database)
    env = {**os.environ, "DATABASE_URL": f"{options.server.rstrip('/')}/{options.database}"}
    kvit = [sys.executable, "-m", "kvit.cli"]
    subprocess.run([*kvit, "migrate", "-v0"], env=env, check=True)  # noqa: S603
    started = time.monotonic()
    child = subprocess.Popen([*kvit, "seed", f"--accounts={options.accounts}", "-v2"], env=env)  # noqa: S603
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    print(
        f"bench: {options.accounts:,} accounts in {seconds:,.1f} s wall, "
        f"peak memory {usage.ru_maxrss / 1024:,.0f} MB, exit status {child.returncode}"
    )
    if not options.keep:
        _drop(options.server, options.database)
    return child.returncode


def _admin(server: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True)


def _recreate(server: str, database: str) -> None:
    with _admin(server) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _drop(server: str, database: str) -> None:
    with _admin(server) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))


if __name__ == "__main__":
    sys.exit(main())
