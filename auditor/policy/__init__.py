"""Policy packs and the engine that applies them.

`resolve` turns what the user typed after `--policy` (a pack id in seeds/, `all`, or a file) into
loaded packs. The shipped packs are the top-level seeds/ folder of the repository; a wheel
carries them as the package data `auditor/seeds/` (the build copies them in, see setup.py), read
through `importlib.resources`. A source checkout or an editable install reads seeds/ itself, and
`AUDITOR_SEEDS` names another folder of packs instead of both.
"""

from __future__ import annotations

import difflib
import os
from importlib import resources
from pathlib import Path

from auditor.core.errors import ConfigError, Location
from auditor.policy.engine import Evaluation, Evaluator, Undecided, evaluate, undecided_key
from auditor.policy.loader import PackCheck, check_pack, load_pack
from auditor.policy.pack import Pack, Rule

__all__ = [
    "Evaluation",
    "Evaluator",
    "Pack",
    "PackCheck",
    "Rule",
    "Undecided",
    "check_pack",
    "evaluate",
    "load_pack",
    "resolve",
    "SEEDS_ENV",
    "seeds_dir",
    "seed_files",
    "undecided_key",
]


#: The environment variable that replaces the shipped packs with a folder of one's own.
SEEDS_ENV = "AUDITOR_SEEDS"


def seeds_dir() -> Path:
    """Where the shipped packs live: `$AUDITOR_SEEDS`, else the package data of an installed
    wheel (`auditor/seeds/`), else the seeds/ folder of the source checkout the package runs
    from (an editable install)."""
    env = os.environ.get(SEEDS_ENV)
    if env:
        return Path(env)
    shipped = resources.files("auditor").joinpath("seeds")
    # A wheel is installed as files, so the packs are a real folder; a zip import is not.
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent.parent / "seeds"


def seed_files() -> list[Path]:
    """Every shipped pack file, sorted by name. ConfigError (exit 2) when there is none: an
    install without packs would otherwise list nothing and judge nothing."""
    folder = seeds_dir()
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if files:
        return files
    where = f"{SEEDS_ENV}={folder}" if os.environ.get(SEEDS_ENV) else str(folder)
    why = "no such folder" if not folder.is_dir() else "no *.toml pack files in it"
    raise ConfigError(f"no policy packs found ({why})", Location(where))


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(seeds_dir().resolve().parent).as_posix()
    except ValueError:
        return str(path)


def resolve(specs: list[str]) -> list[Pack]:
    """Packs for `--policy` values; none given means every pack in seeds/."""
    if not specs or "all" in specs:
        files = seed_files()
        extra = [s for s in specs if s != "all"]
        shipped = [load_pack(f, _display(f)) for f in files]
        if extra:
            shipped += [p for p in resolve(extra) if p.id not in {q.id for q in shipped}]
        return shipped
    packs: list[Pack] = []
    for spec in specs:
        path = Path(spec)
        if path.suffix == ".toml" or path.exists():
            if not path.is_file():
                raise ConfigError("policy file not found", Location(spec))
            pack = load_pack(path, spec)
        else:
            candidate = seeds_dir() / f"{spec}.toml"
            if not candidate.is_file():
                ids = [f.stem for f in seed_files()]
                near = difflib.get_close_matches(spec.lower(), ids, n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ConfigError(f"unknown policy pack {spec!r}{hint} (known: {', '.join(ids)})")
            pack = load_pack(candidate, _display(candidate))
        if any(p.id == pack.id for p in packs):
            raise ConfigError(f"policy pack {pack.id!r} given twice", Location(spec))
        packs.append(pack)
    return packs
