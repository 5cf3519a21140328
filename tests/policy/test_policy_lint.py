"""Lint: every shipped pack is clean; a broken pack gets every problem reported with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.core.errors import ConfigError
from auditor.policy import check_pack, load_pack, seed_files

SEEDS = seed_files()


def test_there_are_the_packs_the_library_promises() -> None:
    assert len(SEEDS) >= 14


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_pack_lints_clean(path: Path) -> None:
    check = check_pack(path, path.name)
    assert not check.errors, [str(e) for e in check.errors]
    pack = check.pack
    assert pack is not None
    assert pack.id == path.stem
    assert pack.sources and all(s.confidence in ("P", "S", "U") for s in pack.sources)
    assert pack.last_verified
    assert dict(pack.instrument).keys() >= {"kind", "binding", "issuer", "citation"}
    for rule in pack.rules:
        assert rule.cite, f"{rule.id} cites no source"


def test_lint_cli_accepts_every_seed_pack() -> None:
    result = CliRunner().invoke(app, ["policy", "lint", *map(str, SEEDS)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == len(SEEDS)


BROKEN = """\
[pack]
id = "broken"
title = "Broken"
version = "1.0.0"
status = "maybe"
colour = "red"

[pack.effective]
from = "2020-01-01"

[[pack.sources]]
id = "s1"
title = "A source"

[[rules]]
id = "R-1"
kind = "prohibit"
severity = "urgent"
title = "T {nope}"
message = "M"
principals = ["police", "wizards"]
operations = ["identification_1toN", "mind_reading"]
modality = "telepathic"
cite = ["s1", "s9"]

[[rules.exceptions]]
id = "x"

[[rules]]
id = "R-2"
kind = "require"
severity = "low"
title = "T"
message = "M"
operations = ["footage_request"]

[rules.context]
planet = ["Mars"]

[[rules.duties]]
type = "authorisation"
deadline = "24 hours"
min_reviewers = 2

[[rules]]
id = "R-1"
severity = "low"
title = "T"
message = "M"
operations = ["enrolment"]
"""


def test_lint_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    result = CliRunner().invoke(app, ["policy", "lint", str(path)])
    assert result.exit_code == 2
    out = result.output
    expect = {
        5: "status must be one of",
        6: "unknown key 'colour'",
        9: "must be a TOML date",
        11: "a source needs confidence",
        18: "unknown severity",
        19: "unknown placeholder {nope}",
        21: "unknown principal category 'wizards'",
        22: "unknown operation kind 'mind_reading'",
        23: "modality must be one of",
        24: "cites unknown source 's9'",
        26: "an exception must name",
        38: "unknown key 'planet'",
        42: "is not an ISO-8601",
        43: "'min_reviewers' does not apply to a authorisation duty",
        46: "duplicate rule id",
    }
    for line, text in expect.items():
        assert any(f"broken.toml:{line}" in row and text in row for row in out.splitlines()), (
            line,
            text,
            out,
        )
    assert "problem(s)" in out


def test_load_pack_raises_the_first_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as info:
        load_pack(path, "broken.toml")
    assert str(info.value).startswith("broken.toml:5")


def test_syntax_error_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[pack]\nid = "x"\ntitle = \n')
    check = check_pack(path, "bad.toml")
    assert check.pack is None and len(check.errors) == 1
    assert "bad.toml:3" in str(check.errors[0])


def test_expired_pack_needs_an_end(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        '[pack]\nid = "p"\ntitle = "P"\nversion = "1"\nstatus = "expired"\n'
        '[pack.effective]\nfrom = 2020-01-01\n\n[[rules]]\nid = "R"\n'
        'severity = "low"\ntitle = "T"\nmessage = "M"\noperations = ["enrolment"]\n'
    )
    errors = [str(e) for e in check_pack(path, "p.toml").errors]
    assert any("p.toml:6" in e and "needs effective.until" in e for e in errors)


def test_lines_inside_multiline_strings_are_not_keys(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        '[pack]\nid = "p"\ntitle = "P"\nversion = "1"\nsummary = """one\n'
        'severity = "high"\n[[rules]]\n"""\n[pack.effective]\nfrom = 2020-01-01\n\n'
        '[[rules]]\nid = "R"\nseverity = "huge"\ntitle = "T"\nmessage = "M"\n'
        'operations = ["enrolment"]\ncite = []\n'
    )
    errors = [str(e) for e in check_pack(path, "p.toml").errors]
    assert errors == [e for e in errors if e.startswith("p.toml:14")] and errors


def test_a_pack_without_a_start_still_gets_every_problem(tmp_path: Path) -> None:
    """The keys read when the pack is built (summary, caveats, verified_by, the effective
    note) are checked even when no pack can be built, so one lint lists every problem."""
    path = tmp_path / "p.toml"
    path.write_text(
        '[pack]\nid = "p"\ntitle = "P"\nversion = "1"\nsummary = 4\ncaveats = 3\n'
        'verified_by = []\n[pack.effective]\nnote = 5\n\n[[rules]]\nid = "R"\n'
        'severity = "low"\ntitle = "T"\nmessage = "M"\noperations = ["enrolment"]\n'
    )
    errors = [str(e) for e in check_pack(path, "p.toml").errors]
    for line, key in ((5, "summary"), (6, "caveats"), (7, "verified_by"), (9, "note")):
        assert any(f"p.toml:{line}" in e and key in e for e in errors), (line, errors)
    assert any("p.toml:8" in e and "from = YYYY-MM-DD" in e for e in errors), errors
