"""The points `auditor verify` checks apart from the re-run: each compares one kind of material
(input hashes, packs, config files, published records, the archive's manifest) with what the
report says and returns one `Point`.

Apart from `verify` because none of them runs an audit: they read files and compare hashes, so
each can be tested on a hand-made report, and the re-run logic stays short.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from auditor.config.bundlefs import BundleFS, PathEscape, sha256_of
from auditor.core.errors import ConfigError
from auditor.evidence_pack.compare import Point
from auditor.policy import Pack

_INPUT_KINDS = ("log", "frame", "probe", "config")


def check_inputs(report: dict[str, Any], fs: BundleFS) -> Point:
    """Every input file's SHA-256 against the bundle as it is now (a folder or object storage,
    read through the same `BundleFS` rules as the audit: nothing outside the bundle, no links)."""
    bad: list[str] = []
    checked = 0
    for item in report.get("inputs", []):
        if item.get("kind") not in _INPUT_KINDS:
            continue
        checked += 1
        rel = item["path"]
        problem = _input_problem(fs, rel, item["sha256"])
        if problem is not None:
            bad.append(f"{rel}: {problem}")
    if bad:
        return Point(
            "inputs", False, f"{len(bad)} of {checked} input(s) differ from the report", tuple(bad)
        )
    return Point("inputs", True, f"{checked} input(s): every SHA-256 matches")


def _input_problem(fs: BundleFS, rel: str, want: str) -> str | None:
    """Why input `rel` does not match the report's SHA-256 `want`, or None when it does."""
    try:
        got = sha256_of(fs, rel)
    except FileNotFoundError:
        return "not in the bundle"
    except PathEscape as exc:
        return f"refused: {exc}"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if got != want:
        return f"SHA-256 differs (report {want[:12]}…, bundle {got[:12]}…)"
    return None


def pack_point(report: dict[str, Any], packs: list[Pack]) -> Point:
    """The packs used for the re-run against those the report names (id, version, sha256)."""
    have = {p.id: p for p in packs}
    bad = []
    for want in report.get("packs", []):
        got = have.get(want["id"])
        if got is None:
            bad.append(f"{want['id']}: not available here")
        elif got.sha256 != want["sha256"]:
            bad.append(
                f"{want['id']}: report used version {want['version']} (sha256 "
                f"{want['sha256'][:12]}…), here version {got.version} (sha256 "
                f"{got.sha256[:12]}…)"
            )
    if bad:
        return Point(
            "packs",
            False,
            f"{len(bad)} pack(s) differ from those the report used; "
            "pass the exact files with --policy",
            tuple(bad),
        )
    return Point(
        "packs", True, f"{len(report.get('packs', []))} pack(s): same versions and SHA-256"
    )


def shipped_pack(pid: str, display: str | None = None) -> Pack | None:
    """The pack of id `pid` in seeds/, or None. `pid` has passed `shape.pack_id_ok`, so the name
    cannot leave seeds/ (and is never taken as a path of its own)."""
    from auditor.policy import seeds_dir
    from auditor.policy.loader import load_pack

    candidate = seeds_dir() / f"{pid}.toml"
    if not candidate.is_file():
        return None
    return load_pack(candidate, display or f"seeds/{pid}.toml")


def resolve_packs(report: dict[str, Any], files: list[Path]) -> list[Pack]:
    """The report's packs: from `files` (--policy, or the archive's) when given, else by id from
    seeds/. Each is loaded under the display path the report recorded, so `packs[].path`
    compares equal.
    """
    from auditor.policy.loader import load_pack

    by_path = {p["id"]: p.get("path") for p in report.get("packs", [])}
    if files:
        loaded = [load_pack(f, str(f)) for f in files]
        ids = [p.id for p in loaded]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ConfigError(f"policy pack {twice[0]!r} given twice")
        return [
            load_pack(Path(f), by_path.get(p.id) or str(f))
            for f, p in zip(files, loaded, strict=True)
        ]
    packs = []
    for want in report.get("packs", []):
        pack = shipped_pack(want["id"], by_path.get(want["id"]))
        if pack is None:
            raise ConfigError(f"unknown policy pack {want['id']!r}: pass its file with --policy")
        packs.append(pack)
    return packs


def shipped_point(packs: list[Pack]) -> Point:
    """Packs taken from an archive against the shipped pack of the same id.

    The archive's report names its packs' hashes itself, so a doctored pack that reuses a shipped
    id and version (one that exempts police, say) would agree with it; the shipped pack of that
    id and version is the reference instead. Packs of other ids are the archive's own (a note);
    another version of a shipped id is named (a note: this release ships another one).
    """
    bad: list[str] = []
    notes: list[str] = []
    for pack in packs:
        shipped = shipped_pack(pack.id)
        if shipped is None:
            notes.append(f"{pack.id} {pack.version}: not a shipped pack (the archive's own)")
        elif shipped.version != pack.version:
            notes.append(f"{pack.id}: version {pack.version}, this release ships {shipped.version}")
        elif shipped.sha256 != pack.sha256:
            bad.append(
                f"{pack.id} {pack.version}: differs from the shipped pack of that id and version "
                f"(archive sha256 {pack.sha256[:12]}…, shipped {shipped.sha256[:12]}…)"
            )
    if bad:
        return Point(
            "shipped packs",
            False,
            f"{len(bad)} pack(s) of the archive differ from the shipped pack",
            tuple(bad + notes),
        )
    if notes:
        return Point(
            "shipped packs",
            True,
            "some packs of the archive cannot be compared with a shipped pack",
            tuple(notes),
            note=True,
        )
    return Point("shipped packs", True, f"{len(packs)} pack(s): the shipped packs, byte for byte")


def config_point(report: dict[str, Any], config: dict[str, bytes]) -> Point:
    bad = []
    for item in report.get("inputs", []):
        if item.get("kind") != "config":
            continue
        data = config.get(item["path"])
        if data is None:
            bad.append(f"{item['path']}: not in the archive")
        elif hashlib.sha256(data).hexdigest() != item["sha256"]:
            bad.append(f"{item['path']}: SHA-256 differs from the report")
    if bad:
        return Point("config", False, "config files differ from the report", tuple(bad))
    return Point("config", True, f"{len(config)} config file(s) match the report")


def manifest_point(problems: list[str]) -> Point:
    """The archive's entries against its MANIFEST.sha256."""
    if problems:
        return Point(
            "manifest",
            False,
            f"{len(problems)} entr(y/ies) do not match MANIFEST.sha256",
            tuple(problems),
        )
    return Point("manifest", True, "every archive entry matches MANIFEST.sha256")


def records_point(report: dict[str, Any], records: list[Any]) -> Point:
    """Every event of every finding has its record in the archive."""
    missing = unpublished(report, records)
    if missing:
        return Point(
            "records",
            False,
            f"{len(missing)} event(s) of findings have no published record",
            tuple(missing[:12]),
        )
    return Point(
        "records", True, f"{len(records)} published record(s) cover every finding's events"
    )


def unpublished(report: dict[str, Any], records: list[Any]) -> list[str]:
    have = {(r.file, r.line, r.record) for r in records}
    out = []
    for f in report.get("findings", []):
        for ev in f.get("events", []):
            key = (ev.get("file"), ev.get("line"), ev.get("record"))
            if key not in have:
                out.append(
                    f"{f['id']}: {ev.get('file')} line {ev.get('line')} record {ev.get('record')}"
                )
    return out
