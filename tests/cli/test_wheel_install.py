"""A normal install works: the wheel built from the checkout carries the policy packs, and,
installed into a fresh virtual environment outside the checkout, lists them, audits a copied
bundle to the golden report, keeps its --no-store face cache in the user cache directory, and
runs the CI examples of docs/ci/ as they are written.

The environment gets the auditor's dependencies at the versions of the environment running the
tests (a constraints file), so pip takes them from its cache and resolves nothing new; every
step is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DEMO, FIXTURES, ROOT

pytestmark = pytest.mark.slow

#: What the build reads: the package, the packs and the build files (nothing else is copied,
#: so the build cannot lean on the checkout).
SOURCES = ("auditor", "seeds", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
GOLDEN_PACKS = ("amazon-rekognition-police-2020", "microsoft-face-police-2020")


def _run(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: int
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert "Traceback (most recent call last)" not in done.stderr, done.stderr
    return done


class Installed:
    """The fresh environment with the wheel installed, and a clean process environment."""

    def __init__(self, root: Path, venv: Path, wheel: Path) -> None:
        self.root = root
        self.venv = venv
        self.wheel = wheel
        self.cache = root / "user-cache"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AUDITOR_", "PYTHON", "VIRTUAL_ENV"))
        }
        env.update(
            PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            XDG_CACHE_HOME=str(self.cache),
            HOME=str(root / "home"),
            NO_COLOR="1",
            COLUMNS="200",
        )
        self.env = env

    def auditor(self, *args: object, cwd: Path | None = None, **extra: str) -> Any:
        return _run(
            [str(self.venv / "bin" / "auditor"), *map(str, args)],
            cwd or self.root,
            {**self.env, **extra},
            600,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel-install")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    env = {**os.environ}
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(root / "dist"), str(src)],
        root, env, 300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("auditor-*.whl")
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], root, env, 120)
    assert made.returncode == 0, made.stderr
    # this venv's versions, one per name: the first on sys.path is the one imported (a
    # distribution that another test put on sys.path must not pin a second version)
    versions: dict[str, str] = {}
    for d in distributions():
        name = (d.metadata["Name"] or "").lower().replace("_", "-")
        if name and name != "auditor":
            versions.setdefault(name, d.version)
    pins = sorted(f"{name}=={version}" for name, version in versions.items())
    constraints = root / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    pip = _run(
        # not -q: when the resolver fails, its "The conflict is caused by" lines are the message
        [str(venv / "bin" / "python"), "-m", "pip", "install",
         "--constraint", str(constraints), str(wheel)],
        root, {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, 900,
    )  # fmt: skip
    if pip.returncode != 0:
        # the pins are a speed-up (nothing new to resolve), not part of what is tested: when
        # they cannot all hold together, the wheel's own requirements are resolved from the
        # registry, as `pip install auditor-*.whl` does for a user
        first = pip.stdout[-4000:] + pip.stderr[-4000:]
        pip = _run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", str(wheel)],
            root, {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, 900,
        )  # fmt: skip
        assert pip.returncode == 0, first + pip.stdout[-4000:] + pip.stderr[-4000:]
    return Installed(root, venv, wheel)


def test_the_wheel_carries_every_pack(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = {n for n in wheel.namelist() if n.startswith("auditor/seeds/")}
        shipped = {f"auditor/seeds/{p.name}": p.read_bytes() for p in (ROOT / "seeds").glob("*")}
        assert names == set(shipped)
        for name, data in shipped.items():
            assert wheel.read(name) == data, name


def test_the_install_runs_from_the_venv_not_the_checkout(installed: Installed) -> None:
    where = _run(
        [str(installed.venv / "bin" / "python"), "-c", "import auditor; print(auditor.__file__)"],
        installed.root,
        installed.env,
        60,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout


def test_policy_list_shows_the_shipped_packs(installed: Installed) -> None:
    listed = installed.auditor("policy", "list")
    assert listed.returncode == 0, listed.stderr
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert ids == sorted(p.stem for p in (ROOT / "seeds").glob("*.toml"))
    shown = installed.auditor("policy", "show", GOLDEN_PACKS[0])
    assert shown.returncode == 0 and GOLDEN_PACKS[0] in shown.stdout


def test_an_empty_pack_set_is_an_error(installed: Installed) -> None:
    empty = installed.root / "no-packs"
    empty.mkdir(exist_ok=True)
    listed = installed.auditor("policy", "list", AUDITOR_SEEDS=str(empty))
    assert listed.returncode == 2
    assert f"AUDITOR_SEEDS={empty}: no policy packs found" in listed.stderr
    audit = installed.auditor("audit", DEMO, "--no-store", AUDITOR_SEEDS=str(empty))
    assert audit.returncode == 2 and "no policy packs found" in audit.stderr


def test_an_audit_of_a_copied_bundle_gives_the_golden_report(installed: Installed) -> None:
    from tests.report.report_helpers import canonical, normalise

    bundle = installed.root / "bundle"
    shutil.copytree(DEMO, bundle, dirs_exist_ok=True)
    reports = []
    for n in (1, 2):
        out = installed.root / f"report-{n}.json"
        args: list[object] = ["audit", "bundle", "--no-store", "-f", "json", "-o", out]
        for pack in GOLDEN_PACKS:
            args += ["--policy", pack]
        done = installed.auditor(*args)
        assert done.returncode == 1, done.stderr
        reports.append(json.loads(out.read_text()))
    golden = json.loads((FIXTURES / "golden" / "json" / "demo.json").read_text())
    # the golden JSON holds placeholders for the machine's parts (`report_helpers.normalise`)
    live = normalise("json", json.dumps(canonical(reports[0])))
    assert json.loads(live) == canonical(golden)
    # --no-store kept the faces in the user cache directory: the second audit computed none
    assert (installed.cache / "auditor" / "faces.db").is_file()
    assert reports[0]["run"]["frames_computed"] > 0
    assert reports[1]["run"]["frames_computed"] == 0
    assert reports[1]["run"]["frames_from_cache"] == reports[0]["run"]["frames_computed"]


def _ci_workdir(installed: Installed, name: str) -> Path:
    work = installed.root / f"ci-{name}"
    shutil.copytree(DEMO, work / "audit-bundle")
    return work


def _github_steps() -> dict[str, str]:
    doc = yaml.safe_load((ROOT / "docs" / "ci" / "github-actions.yml").read_text())
    job = doc["jobs"]["audit"]
    return {s["name"]: s["run"] for s in job["steps"] if "run" in s} | {
        "AUDITOR_PACKAGE": job["env"]["AUDITOR_PACKAGE"]
    }


def test_github_actions_example_runs_as_written(installed: Installed) -> None:
    steps = _github_steps()
    work = _ci_workdir(installed, "github")
    env = {"AUDITOR_PACKAGE": str(installed.wheel)}
    bash = ["bash", "-e", "-c"]  # GitHub's `run` shell is `bash -e {0}`
    install = _run([*bash, steps["Install auditor"]], work, {**installed.env, **env}, 600)
    assert install.returncode == 0, install.stderr
    assert "amazon-rekognition-police-2020" in install.stdout
    verdicts = []
    for _ in ("without a baseline", "with one"):
        output = work / "github-output"
        output.write_text("")
        script = steps["Audit"]
        done = _run(
            [*bash, script], work, {**installed.env, **env, "GITHUB_OUTPUT": str(output)}, 600
        )
        assert done.returncode == 0, done.stderr
        verdicts.append(output.read_text().strip())
        for name in ("report.sarif", "report.xml", "report.html", "report.json", "report.txt"):
            assert (work / "reports" / name).is_file(), name
        made = installed.auditor(
            "baseline", "create", "reports/report.json", "-o", "auditor-baseline.json",
            "--reason", "accepted in the test", "--who", "test", "--expires", "2099-12-31",
            cwd=work,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    # the demo has high findings: exit 1; once all are accepted in the committed baseline, 0
    assert verdicts == ["status=1", "status=0"]


def test_gitlab_ci_example_runs_as_written(installed: Installed) -> None:
    doc = yaml.safe_load((ROOT / "docs" / "ci" / "gitlab-ci.yml").read_text())
    job = doc["face-audit"]
    work = _ci_workdir(installed, "gitlab")
    script = "\n".join(job["script"])
    env = {**installed.env, **job["variables"], "AUDITOR_PACKAGE": str(installed.wheel)}
    env["AUDITOR_CACHE_DIR"] = env["AUDITOR_CACHE_DIR"].replace("$CI_PROJECT_DIR", str(work))
    done = _run(["bash", "-e", "-c", script], work, env, 900)
    assert done.returncode == 1, done.stderr  # the audit's own exit code: findings
    assert (work / job["artifacts"]["reports"]["junit"]).is_file()
    assert (work / ".cache" / "auditor" / "faces.db").is_file()  # kept by `cache:`
