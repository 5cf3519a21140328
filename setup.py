"""Build hook: the policy packs go into the wheel as package data.

The packs live in the repository's top-level seeds/ folder (their one source of truth: the docs,
the tests and `auditor policy lint seeds/*.toml` name them there). A wheel must carry them, or an
installed auditor has no packs, so `build_py` copies seeds/*.toml into the built package as
`auditor/seeds/`, where `auditor.policy.seeds_dir` finds them with `importlib.resources`. An
editable install skips the copy: it runs from the checkout and reads seeds/ itself. Everything
else about the build is in pyproject.toml; MANIFEST.in puts seeds/ into the sdist, so a wheel
built from the sdist (`python -m build`) has the packs too.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SEEDS = Path(__file__).resolve().parent / "seeds"


class BuildPyWithSeeds(build_py):
    """`build_py`, then seeds/*.toml into `<build_lib>/auditor/seeds/`."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        packs = sorted(SEEDS.glob("*.toml"))
        if not packs:
            raise SystemExit(f"no policy packs in {SEEDS}: a wheel without packs cannot audit")
        target = Path(self.build_lib) / "auditor" / "seeds"
        self.mkpath(str(target))
        for pack in packs:
            self.copy_file(str(pack), str(target / pack.name))


setup(cmdclass={"build_py": BuildPyWithSeeds})
