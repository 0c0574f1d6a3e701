"""The rooms' one-way imports (``[tool.importlinter]`` in pyproject.toml): the contracts hold, and they
would catch an import that goes up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ROOMS = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
    "root_packages"]


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` of this venv, with ``root``'s pyproject.toml, on the packages under ``root``."""
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*command, "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_imports_only_go_down():
    result = _lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_going_up_breaks_the_contracts(tmp_path):
    """A copy of the packages (their .py files only) with two imports the contracts forbid."""
    def not_python(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or Path(folder, n).is_dir())]

    for room in ROOMS:
        shutil.copytree(PROJECT_ROOT / room, tmp_path / room, ignore=not_python)
    shutil.copyfile(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "home" / "upward.py").write_text("import pipelines.runner\n", encoding="utf-8")
    (tmp_path / "pipelines" / "jobs.py").write_text("import pipelines.cli\n", encoding="utf-8")

    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "home is not allowed to import pipelines" in result.stdout
    assert "home.upward -> pipelines.runner" in result.stdout
    assert "pipelines.jobs -> pipelines.cli" in result.stdout
    assert "0 kept, 2 broken" in result.stdout
