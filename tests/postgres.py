"""A PostgreSQL server for the deployment tests: the one ``SURVEY_TEST_POSTGRES_URL`` names (CI starts one,
``.ci/run``), else a private cluster started for the session from the machine's PostgreSQL binaries (``initdb``
and ``pg_ctl``, as the ``postgres`` user when run as root), on a free port, in a temporary folder, stopped at the
end. Each test gets a database of its own. Without either, the tests skip, unless ``SURVEY_REQUIRE_POSTGRES`` is
set (CI sets it: they must run there)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

URL_ENV = "SURVEY_TEST_POSTGRES_URL"
REQUIRE_ENV = "SURVEY_REQUIRE_POSTGRES"


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres(command: list[str]) -> list[str]:
    """A command run as the postgres user when this process is root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class Cluster:
    """A throwaway PostgreSQL cluster: trust authentication, listening on 127.0.0.1 only."""

    def __init__(self, root: Path):
        initdb, self.pg_ctl = _binary("initdb"), _binary("pg_ctl")
        if initdb is None or self.pg_ctl is None:
            raise FileNotFoundError("no PostgreSQL binaries (initdb, pg_ctl): install PostgreSQL (Debian: postgresql)")
        self.data = root / "pgdata"
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        subprocess.run(_as_postgres([initdb, "-D", str(self.data), "-U", "survey", "--auth=trust", "-E", "UTF8"]),
                       check=True, capture_output=True, timeout=120)
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data), "-l", str(root / "server.log"), "-w", "-o",
                                     f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1", "start"]),
                       check=True, capture_output=True, timeout=120)
        self.url = f"postgresql+psycopg2://survey@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data), "-m", "fast", "stop"]), capture_output=True,
                       timeout=120)


def new_database(server_url: str) -> str:
    """A fresh database on the server; its URL."""
    import psycopg2

    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = psycopg2.connect(_libpq(server_url))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")  # a name made here, not an input
    connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def query(url: str, sql: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(_libpq(url)) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def wait_until(condition, timeout: float, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    return None


if __name__ == "__main__":
    # `python3 -m tests.postgres start DIR` starts a cluster in DIR and prints its URL; `stop DIR` stops it (CI).
    import sys

    action, folder = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(Cluster(folder).url)
    else:
        pg_ctl = _binary("pg_ctl")
        subprocess.run(_as_postgres([pg_ctl, "-D", str(folder / "pgdata"), "-m", "fast", "stop"]), capture_output=True,
                       timeout=120)
