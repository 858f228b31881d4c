"""Installed from a wheel, outside the checkout, the server starts, migrates a database, answers the
APIs and serves the UI: nothing it reads may be found relative to the source tree.

The wheel is built from this checkout and installed, without its dependencies, into a fresh
virtual environment, which borrows the dependencies from the test environment's site-packages
(a path entry, so the checkout's editable install is not seen): the test needs no index, and the
modelog it runs is the wheel's alone."""

import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli import free_port, http, stop, wait_ready

ROOT = Path(__file__).resolve().parents[2]


def sh(*cmd: str | Path, cwd: Path) -> str:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd,
                         timeout=300, env={k: v for k, v in os.environ.items()
                                           if k != "PYTHONPATH"})
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel of this checkout; its `bin` folder."""
    work = tmp_path_factory.mktemp("install")
    # Built from a copy: setuptools leaves a build/ folder behind, whose stale files a later
    # build of the checkout itself would ship.
    source = shutil.copytree(ROOT, work / "source", ignore=shutil.ignore_patterns(
        ".*", "build", "dist", "*.egg-info", "__pycache__", "data", "bench", "docs"))
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
       "--wheel-dir", work / "dist", source, cwd=work)
    [wheel] = (work / "dist").glob("modelog-*.whl")
    venv = work / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    purelib = Path(sh(venv / "bin" / "python", "-c",
                      "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                      cwd=work).strip())
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    sh(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet",
       "--no-deps", "--no-index", wheel, cwd=work)
    return venv / "bin"


def test_the_wheel_holds_the_server_and_everything_it_reads(installed: Path) -> None:
    where = sh(installed / "python", "-c",
               "import registry, modelog_migrations; from registry.eventstore.database import "
               "migration_files; print(registry.__file__); print(len(migration_files()))",
               cwd=installed)
    module, migrations = where.split()
    assert Path(module).is_relative_to(installed.parent) and not Path(module).is_relative_to(ROOT)
    assert int(migrations) == len(list((ROOT / "migrations").glob("[0-9]*.sql")))


def test_the_installed_server_serves_the_apis_and_the_ui(installed: Path, db_url: str,
                                                         tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [installed / "modelog", "serve", "--port", str(port), "--data-dir", tmp_path / "data",
         "--database-url", db_url], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(base, proc)
        status, body = http("POST", f"{base}/api/2.0/mlflow/registered-models/create",
                            {"name": "installed"})
        assert status == 200 and body["registered_model"]["name"] == "installed"
        with urllib.request.urlopen(f"{base}/ui/models", timeout=5) as r:
            page = r.read().decode()
        assert r.status == 200 and "installed" in page
        with urllib.request.urlopen(f"{base}/ui/static/app.css", timeout=5) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
    finally:
        code, err = stop(proc)
    assert code == 0, err
