"""The older DuckDB clients analysts open the warehouse with, run as the separate programs they are.

`make clients` installs them into ``.venv-clients`` (``tests/old_clients.txt``): the DuckDB shell
(``duckdb-cli`` 1.5) and Python's ``duckdb`` 1.4, beside but apart from the project's own duckdb 2.
Tests skip without them on a developer's machine, and fail without them where
``SURVEY_REQUIRE_OLD_CLIENTS`` is set (``.ci/run`` sets it), so CI always runs them.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CLIENTS_DIR = Path(__file__).resolve().parents[1] / ".venv-clients"
REQUIRE_ENV = "SURVEY_REQUIRE_OLD_CLIENTS"

# Run by the side environment's Python: the rows of each query (argv[2], a JSON list) on the file argv[1]
# opened read-only, as JSON.
_PYTHON_QUERIES = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps([[list(row) for row in con.execute(query).fetchall()] for query in json.loads(sys.argv[2])]))
"""


@dataclass(frozen=True)
class OldClients:
    shell: Path
    python: Path

    def versions(self) -> tuple[str, str]:
        """The shell's version and the side Python's duckdb version."""
        shell = subprocess.run([str(self.shell), "--version"], capture_output=True, text=True, timeout=60, check=True)
        python = subprocess.run([str(self.python), "-c", "import duckdb; print(duckdb.__version__)"],
                                capture_output=True, text=True, timeout=60, check=True)
        return shell.stdout.split()[0], python.stdout.strip()

    def run_shell(self, database: Path, query: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.shell), "-readonly", str(database), "-json", "-c", query],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def run_python(self, database: Path, queries: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.python), "-c", _PYTHON_QUERIES, str(database), json.dumps(queries)],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def shell_rows(self, database: Path, query: str) -> list[list]:
        """The query's rows as the shell prints them (JSON), each as a list in column order."""
        done = self.run_shell(database, query)
        assert done.returncode == 0 and not done.stderr, f"the DuckDB shell failed on {query!r}: {done.stderr}"
        return [list(row.values()) for row in json.loads(done.stdout or "[]")]

    def python_rows(self, database: Path, queries: list[str]) -> list[list[list]]:
        """Each query's rows as the older Python duckdb returns them."""
        done = self.run_python(database, queries)
        assert done.returncode == 0, f"Python's older duckdb failed: {done.stderr}"
        return json.loads(done.stdout)


def find_old_clients() -> OldClients:
    """The clients of ``.venv-clients``; skips the test if they are missing, unless they are required."""
    clients = OldClients(CLIENTS_DIR / "bin" / "duckdb", CLIENTS_DIR / "bin" / "python")
    if clients.shell.exists() and clients.python.exists():
        return clients
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set but the older DuckDB clients are not in {CLIENTS_DIR}: run `make clients`")
    pytest.skip(f"the older DuckDB clients are not installed in {CLIENTS_DIR} (`make clients`; CI requires them)")
