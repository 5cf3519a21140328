"""The migration scripts ship in the package: a wheel built from the source tree, installed on
its own, upgrades a store made by release 0.1.0."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import legacy_v010 as legacy
from sqlalchemy import create_engine

from auditor.store import migrate

ROOT = Path(__file__).resolve().parents[2]

OPEN_STORE = """
import sys
import auditor.store
from auditor.store import Store
assert auditor.store.__file__.startswith(sys.argv[2]), auditor.store.__file__
Store(sys.argv[1]).close()
"""


def test_installed_wheel_upgrades_an_old_store(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "auditor", src / "auditor", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("auditor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"auditor/store/migrations/{p.relative_to(migrate.MIGRATIONS).as_posix()}"
        for p in migrate.MIGRATIONS.rglob("*.py")
    }
    assert shipped and shipped <= names

    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)  # a wheel is installed by unpacking it
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy.create(url)
    done = subprocess.run(
        [sys.executable, "-c", OPEN_STORE, url, str(site)],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD
    engine.dispose()
