"""The archive reader trusts nothing in the zip: names, manifest lines, sizes, compression.

Every archive here is a real zip built by the test from a real exported run, and each is handed
to the real `auditor verify`; the answer must be a located exit 2 (never an internal error, a
traceback or a long wait), or, for sums that differ, exit 1.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.evidence import (
    Cli,
    corrupt_member,
    exported,
    members,
    patch_member,
    replace,
    rezip,
)


@pytest.fixture
def run(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    return exported(cli, tmp_path)


def _verify(cli: Cli, archive: Path) -> Any:
    return cli("verify", archive)


def test_the_untouched_archive_is_reproduced(cli: Cli, run: dict[str, Any]) -> None:
    res = _verify(cli, run["archive"])
    assert res.exit_code == 0, res.output


def test_two_members_of_one_name_are_refused(cli: Cli, run: dict[str, Any], tmp_path: Path) -> None:
    """zipfile would read the last report.json, unzip the first: an archive says two things."""
    entries = members(run["archive"])
    doctored = dict(entries)["report.json"].replace(b'"findings"', b'"findings"', 1)
    report = json.loads(doctored)
    report["findings"] = []
    entries.append(("report.json", json.dumps(report).encode()))
    bad = rezip(tmp_path / "dup.zip", entries, redo_manifest=False)
    with zipfile.ZipFile(bad) as zf:
        assert [i.filename for i in zf.infolist()].count("report.json") == 2
    res = _verify(cli, bad)
    assert res.exit_code == 2, res.output
    assert "two members are named 'report.json'" in res.output


def test_a_member_outside_the_layout_is_refused(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    entries = [*members(run["archive"]), ("logs/p.jsonl", b"{}\n")]
    res = _verify(cli, rezip(tmp_path / "extra.zip", entries))
    assert res.exit_code == 2, res.output
    assert "'logs/p.jsonl' is not an entry of an evidence archive" in res.output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("dup", "'report.json' is listed twice"),
        ("unknown", "'notes.txt' is not an archive entry"),
        ("self", "'MANIFEST.sha256' is not an archive entry"),
        ("garbage", "not a `sha256  name` line"),
    ],
)
def test_duplicate_unknown_or_malformed_manifest_lines_are_refused(
    cli: Cli, run: dict[str, Any], tmp_path: Path, line: str, expected: str
) -> None:
    entries = members(run["archive"])
    text = dict(entries)["MANIFEST.sha256"].decode()
    first = text.splitlines()[0]
    extra = {
        "dup": next(ln for ln in text.splitlines() if ln.endswith("  report.json")),
        "unknown": first.split("  ")[0] + "  notes.txt",
        "self": first.split("  ")[0] + "  MANIFEST.sha256",
        "garbage": "not a sum",
    }[line]
    entries = replace(entries, "MANIFEST.sha256", (text + extra + "\n").encode())
    res = _verify(cli, rezip(tmp_path / "m.zip", entries, redo_manifest=False))
    assert res.exit_code == 2, res.output
    assert f"MANIFEST.sha256:{len(text.splitlines()) + 1}: " in res.output
    assert expected in res.output


def _big_member(dest: Path, entries: list[tuple[str, bytes]], sizes: list[int]) -> Path:
    """`entries` plus thumbs of `sizes` zero bytes each, streamed (cheap to write)."""
    rezip(dest, entries, redo_manifest=False)
    with zipfile.ZipFile(dest, "a", zipfile.ZIP_DEFLATED) as zf:
        for k, size in enumerate(sizes):
            name = f"thumbs/{k:064x}.jpg"
            with zf.open(zipfile.ZipInfo(name), "w", force_zip64=True) as fh:
                block = b"\0" * (1 << 20)
                for _ in range(size >> 20):
                    fh.write(block)
    return dest


def test_all_members_share_one_budget(cli: Cli, run: dict[str, Any], tmp_path: Path) -> None:
    """Three 100 MiB members (each under the entry cap) are over the total budget of 256 MiB."""
    bad = _big_member(tmp_path / "big.zip", members(run["archive"]), [100 << 20] * 3)
    start = time.monotonic()
    res = _verify(cli, bad)
    assert res.exit_code == 2, res.output
    assert "more than 268,435,456 bytes (uncompressed) of entries" in res.output
    assert time.monotonic() - start < 20


def test_a_member_over_the_entry_cap_is_refused_unread(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    bad = _big_member(tmp_path / "huge.zip", members(run["archive"]), [200 << 20])
    start = time.monotonic()
    res = _verify(cli, bad)
    assert res.exit_code == 2, res.output
    assert "is larger than 134,217,728 bytes" in res.output
    assert time.monotonic() - start < 5


def test_a_report_over_its_cap_is_refused_unparsed(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    """A 64 MiB `{},` report.json (2 GB to parse) is over the 32 MiB cap."""
    body = b'{"schema":"auditor.report/v1","x":[' + b"{}," * ((64 << 20) // 3) + b"{}]}"
    entries = replace(members(run["archive"]), "report.json", body)
    res = _verify(cli, rezip(tmp_path / "r.zip", entries))
    assert res.exit_code == 2, res.output
    assert "report.json is larger than 33,554,432 bytes" in res.output


def test_a_report_of_too_many_values_is_refused_unparsed(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    """Under the byte cap, but 10 million empty objects: counted, not parsed."""
    body = b'{"schema":"auditor.report/v1","x":[' + b"{}," * 10_000_000 + b"{}]}"
    entries = replace(members(run["archive"]), "report.json", body)
    res = _verify(cli, rezip(tmp_path / "v.zip", entries))
    assert res.exit_code == 2, res.output
    assert "report.json: more than 2,000,000 JSON values" in res.output


def test_commas_inside_strings_do_not_count_as_values(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    entries = members(run["archive"])
    report = json.loads(dict(entries)["report.json"])
    # a string the model accepts and log-only verify does not compare (an unknown key would be
    # refused by the model: the report's shape is strict)
    report["tool"]["name"] += "," * 3_000_000
    entries = replace(entries, "report.json", json.dumps(report).encode())
    res = _verify(cli, rezip(tmp_path / "c.zip", entries))
    assert res.exit_code == 0, res.output


def test_a_nested_record_line_is_refused_unparsed(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    entries = members(run["archive"])
    records = dict(entries)["records.jsonl"] + b"[" + b"{}," * 1_000_000 + b"{}]\n"
    res = _verify(cli, rezip(tmp_path / "n.zip", replace(entries, "records.jsonl", records)))
    assert res.exit_code == 2, res.output
    assert "records.jsonl:2: not a flat JSON object of a record" in res.output


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("zlib", "report.json: cannot be decompressed: Error -3 while decompressing data"),
        ("deflate64", "report.json: cannot be decompressed: That compression method is not"),
        ("encrypted", "report.json: cannot be decompressed: it is encrypted"),
        ("bzip2", "report.json: cannot be decompressed: Invalid data stream"),
    ],
)
def test_decompression_errors_are_located_exit_2(
    cli: Cli, run: dict[str, Any], tmp_path: Path, how: str, expected: str
) -> None:
    bad = tmp_path / f"{how}.zip"
    entries = members(run["archive"])
    if how == "bzip2":
        rezip(bad, entries, method=zipfile.ZIP_BZIP2)
        corrupt_member(bad, "report.json")
    elif how == "zlib":
        rezip(bad, entries)
        corrupt_member(bad, "report.json")
    elif how == "deflate64":
        rezip(bad, entries)
        patch_member(bad, "report.json", method=9)
    else:
        rezip(bad, entries)
        patch_member(bad, "report.json", flags=0x1)
    res = _verify(cli, bad)
    assert res.exit_code == 2, res.output
    assert f"auditor: error: {bad}: {expected}" in res.output
    assert "internal error" not in res.output


def test_a_truncated_zip_is_exit_2(cli: Cli, run: dict[str, Any], tmp_path: Path) -> None:
    data = run["archive"].read_bytes()
    bad = tmp_path / "cut.zip"
    bad.write_bytes(data[: len(data) - 30])  # the end of the central directory is gone
    res = cli("verify", bad, run["bundle"])
    assert res.exit_code == 2, res.output
    assert "internal error" not in res.output
