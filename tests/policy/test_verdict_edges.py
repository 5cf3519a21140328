"""Verdicts at the edges: local effective dates at every shipped boundary, authorisation
lateness, principals with a place (a CloudTrail police search), unknown actors never green."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.core.models import Event, OperationKind, Principal, Severity
from auditor.policy import Pack, evaluate, resolve, seed_files
from auditor.policy.pack import Rule, Window
from auditor.policy.periods import in_window, inside_window
from auditor.policy.zones import zone

ROOT = Path(__file__).resolve().parents[2]
DEMO_TRAIL = (
    ROOT / "fixtures/demo/logs/cloudtrail/111122223333_CloudTrail_us-east-1_rekognition.json"
)


def _event(when: datetime, **attrs: str) -> Event:
    return Event(
        source="jsonl",
        file="t.jsonl",
        time=when,
        service="rekognition",
        operation="SearchFacesByImage",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=Principal("p", "Test Police", "police", matched=True),
        line=1,
        attributes=tuple(sorted(attrs.items())),
    )


def _local(day: datetime, name: str, minutes: int) -> datetime:
    """`minutes` after local midnight of `day` in zone `name`, as UTC."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone(name))
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def _boundaries() -> list[tuple[str, str, str, str]]:
    """(pack, where, which bound, date) of every shipped date that starts or ends a period."""
    out = []
    for path in seed_files():
        pack = resolve([path.stem])[0]
        windows: list[tuple[str, Window]] = [("pack", pack.window)]
        for rule in pack.rules:
            windows.append((f"rule {rule.id}", rule.window))
            windows += [(f"exception {rule.id}/{e.id}", e.window) for e in rule.exceptions]
        for where, w in windows:
            for bound, day in (("from", w.start), ("until", w.until)):
                if day is not None:
                    out.append((pack.id, where, bound, day.date().isoformat()))
    return out


BOUNDS = _boundaries()


def _window(pack: Pack, where: str) -> tuple[Window, Rule | None]:
    if where == "pack":
        return pack.window, None
    kind, _, name = where.partition(" ")
    rule_id, _, exc_id = name.partition("/")
    rule = next(r for r in pack.rules if r.id == rule_id)
    if kind == "rule":
        return rule.window, rule
    return next(e for e in rule.exceptions if e.id == exc_id).window, rule


@pytest.mark.parametrize(
    ("pack_id", "where", "bound", "day"), BOUNDS, ids=[":".join(b) for b in BOUNDS]
)
def test_every_shipped_boundary_turns_at_local_midnight(
    pack_id: str, where: str, bound: str, day: str
) -> None:
    """The minute before local midnight and local midnight itself fall on either side, in the
    zone the engine reads that period in (the period's own, else the pack's)."""
    pack = resolve([pack_id])[0]
    window, rule = _window(pack, where)
    name = window.timezone or pack.timezone
    assert name != "UTC", f"{pack_id} has no timezone"
    start = datetime.fromisoformat(day)
    before, at = _local(start, name, -1), _local(start, name, 0)
    open_pack = replace(pack, effective_from=datetime(1900, 1, 1, tzinfo=UTC), effective_until=None)

    def inside(when: datetime) -> bool:
        if where == "pack":
            return in_window(pack, OPEN_RULE, _event(when), pack.timezone)
        if rule is not None and window is rule.window:
            return in_window(open_pack, rule, _event(when), pack.timezone)
        return inside_window(window, when, pack.timezone)

    if bound == "from":
        assert not inside(before) and inside(at), (before, at)
    else:
        assert inside(before) and not inside(at), (before, at)


OPEN_RULE = Rule(
    "probe",
    "prohibit",
    Severity.LOW,
    "",
    "",
    ("any",),
    ("any",),
    (OperationKind.IDENTIFICATION_1TON,),
)


def test_boundary_list_covers_the_issue_dates() -> None:
    """Virginia's 2022-07-01 switch and Colorado's 2022-08-10 start are among the boundaries."""
    assert ("us-va-frt-2021", "rule VA-2021-001", "until", "2022-07-01") in BOUNDS
    assert ("us-co-sb22-113", "pack", "from", "2022-08-10") in BOUNDS
    assert ("us-tx-cubi-503-001", "rule TX-CUBI-002", "from", "2026-01-01") in BOUNDS


def test_multi_zone_pack_says_which_zone_it_used_or_cannot_decide() -> None:
    """EU Art. 5 applies from 2025-02-02: 23:30 UTC on 02-01 is 02-02 in Berlin (inside) and
    still 02-01 in Lisbon (outside)."""
    when = datetime(2025, 2, 1, 23, 30, tzinfo=UTC)
    attrs = {"modality": "real_time", "space": "publicly_accessible", "purpose": "shopping"}
    pack = resolve(["eu-ai-act-art5"])
    lisbon = evaluate([_event(when, country="PT", **attrs)], pack)
    berlin = evaluate([_event(when, country="DE", **attrs)], pack)
    assert not [f for f in lisbon.findings if f.rule == "EU-AIA-5-1-H-001"]
    assert [f for f in berlin.findings if f.rule == "EU-AIA-5-1-H-001"]
    # an event carrying its own zone is read in it, whatever its country says
    own = evaluate([_event(when, country="DE", timezone="Europe/Lisbon", **attrs)], pack)
    assert not [f for f in own.findings if f.rule == "EU-AIA-5-1-H-001"]


def test_late_authorisation_says_how_late() -> None:
    use = _event(
        datetime(2025, 3, 1, 9, tzinfo=UTC),
        country="DE",
        modality="real_time",
        space="publicly_accessible",
        purpose="imminent_threat",
        urgency="true",
        authorisation_ref="AR-1",
        notification_ref="n",
        national_law_ref="act-1",
    )
    use = replace(
        use, principal=Principal("le", "Landespolizei", "law_enforcement_authority", matched=True)
    )
    late = replace(
        _event(datetime(2025, 3, 2, 15, tzinfo=UTC), authorisation_ref="AR-1"),
        service="authority",
        operation="AuthorisationRequest",
        kind=OperationKind.AUTHORISATION,
        event_id="a1",
    )
    result = evaluate([use, late], resolve(["eu-ai-act-art5"]))
    hit = [f for f in result.findings if f.rule == "EU-AIA-5-3-001"]
    assert hit and "the request (record a1) came 30 h after the use, 6 h past the PT24H" in (
        hit[0].message
    )
    assert hit[0].events[1].event_id == "a1"
    assert not [u for u in result.undecided if u.rule == "EU-AIA-5-3-001"]


def _cloudtrail_bundle(tmp_path: Path, principals: str | None) -> Path:
    """One real CloudTrail record of the demo (a Metro PD search, 2022-08-01) in a bundle."""
    trail = json.loads(DEMO_TRAIL.read_text())
    record = next(r for r in trail["Records"] if "metro-pd" in r["userIdentity"].get("arn", ""))
    record["eventTime"] = "2022-08-01T14:00:00Z"
    root = tmp_path / "bundle"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "trail.json").write_text(json.dumps({"Records": [record]}))
    if principals is not None:
        (root / "principals.toml").write_text(principals)
    return root


def _audit(root: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = root.parent / "report.json"
    args = ["audit", str(root), "--no-frames", "--no-store", "-f", "json", "-o", str(out)]
    result = CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)
    return result.exit_code, json.loads(out.read_text()), result.stderr


METRO = """
[[principal]]
arn = "arn:aws:iam::111122223333:role/metro-pd-*"
organisation = "Metro City Police Department"
category = "police"
"""


def test_cloudtrail_police_search_takes_its_place_from_principals(tmp_path: Path) -> None:
    """Without a place, every state and city pack is "cannot decide"; with region and locality
    on the principal the Virginia pack judges the search and the report says where the place
    came from."""
    _, bare, _ = _audit(_cloudtrail_bundle(tmp_path / "a", METRO))
    assert bare["summary"]["cannot_decide"] == 10  # 10 entries across 8 state and city packs
    assert len({u["pack"] for u in bare["undecided"]}) == 8
    assert all(set(u["missing"]) & {"country", "region", "locality"} for u in bare["undecided"])
    placed = METRO + 'country = "US"\nregion = "US-VA"\nlocality = "Richmond"\n'
    placed += 'timezone = "America/New_York"\n'
    code, report, _ = _audit(_cloudtrail_bundle(tmp_path / "b", placed))
    assert code == 1
    va = [f for f in report["findings"] if f["pack"] == "us-va-frt-2021"]
    assert [f["rule"] for f in va] == ["VA-2022-001"]
    attrs = va[0]["events"][0]["attributes"]
    assert attrs["region"] == "US-VA"
    assert attrs["place_from"] == (
        "country, region, locality, timezone from principals.toml principal[0]"
    )
    assert "(place: country, region, locality, timezone from principals.toml" in va[0]["message"]
    # what stays undecided lacks a field no place can give (Virginia's real-time rule: modality)
    left = [(u["pack"], u["rule"], u["missing"]) for u in report["undecided"]]
    assert left == [("us-va-frt-2021", "VA-2022-002", ["modality"])]


def test_no_principals_toml_is_a_notice_and_unknown_actors_are_undecided(tmp_path: Path) -> None:
    root = _cloudtrail_bundle(tmp_path, None)
    code, report, err = _audit(root, "--policy", "amazon-rekognition-police-2020")
    message = "no principals.toml: 1 face operation(s) by unattributed principals"
    assert message in err
    assert message in [n["message"] for n in report["notices"]]
    assert code == 0  # nothing found: but not a clean pass
    [entry] = report["undecided"]
    assert entry["rule"] == "AMZ-REK-001" and entry["missing"] == ["principal"]
    assert entry["reason"].startswith("unknown principal arn:aws:")
    code, _, _ = _audit(root, "--policy", "amazon-rekognition-police-2020", "--fail-on-undecided")
    assert code == 1


def test_a_passing_gate_with_undecided_entries_is_amber(tmp_path: Path) -> None:
    root = _cloudtrail_bundle(tmp_path, None)
    html, table = tmp_path / "r.html", tmp_path / "r.txt"
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(root),
            "--no-frames",
            "--no-store",
            "--policy",
            "amazon-rekognition-police-2020",
            "-f",
            "html",
            "-o",
            str(html),
            "-f",
            "table",
            "-o",
            str(table),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    page = html.read_text()
    assert 'class="verdict caution"' in page and "not a clean pass" in page
    assert '<div class="verdict pass">' not in page
    gate = next(line for line in table.read_text().splitlines() if line.startswith("Gate:"))
    assert "not a clean pass: 1 cannot-decide entr(ies), 1 unknown principal(s)" in gate


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("violating-request-only", "only a request (record "),
        ("violating-late-grant", "the grant (record "),
        ("violating-refused", "the authorisation was refused (record "),
    ],
)
def test_authorisation_fixtures_say_what_was_wrong(name: str, words: str) -> None:
    """The request-only, late-grant and refusal fixtures, read as the audit reads them."""
    from tests.policy.test_policy_fixtures import read_events

    events = read_events("eu-ai-act-art5", f"EU-AIA-5-3-001/{name}.jsonl")
    result = evaluate(events, resolve(["eu-ai-act-art5"]))
    [hit] = [f for f in result.findings if f.rule == "EU-AIA-5-3-001"]
    assert words in hit.message
    if name == "violating-late-grant":
        assert "came 60 h after the use: a grant is needed before the use" in hit.message


def _shop(when: datetime, **attrs: str) -> Event:
    return replace(
        _event(when, **attrs),
        operation="IndexFaces",
        kind=OperationKind.ENROLMENT,
        principal=Principal("s", "ShopCo Retail", "private_entity", matched=True),
    )


def test_texas_without_a_locality_says_which_zone_it_used() -> None:
    """00:30 CST on 2026-01-01 is 23:30 MST on 2025-12-31 in El Paso: an event naming neither
    gets the finding under the pack's zone, and the message says so."""
    when = datetime(2026, 1, 1, 6, 30, tzinfo=UTC)
    attrs = {"country": "US", "region": "US-TX", "gallery_source": "scraped_internet"}
    result = evaluate([_shop(when, **attrs)], resolve(["us-tx-cubi-503-001"]))
    [hit] = [f for f in result.findings if f.rule == "TX-CUBI-002"]
    assert "dates read in America/Chicago, the pack's zone" in hit.message
    assert "in America/Denver it falls outside the period" in hit.message
    el_paso = evaluate([_shop(when, locality="El Paso", **attrs)], resolve(["us-tx-cubi-503-001"]))
    assert not [f for f in el_paso.findings if f.rule == "TX-CUBI-002"]


def test_a_guess_that_would_pass_the_event_is_cannot_decide(tmp_path: Path) -> None:
    """A period ending at local midnight: outside in the pack's zone, inside in another zone of
    the jurisdiction, and the event names no place: cannot decide (missing timezone)."""
    path = tmp_path / "p.toml"
    path.write_text(
        """[pack]
id = "two-zones"
title = "t"
version = "1.0.0"
[pack.jurisdiction]
country = ["US"]
timezone = "America/New_York"
[pack.jurisdiction.zones]
"US-CA" = "America/Los_Angeles"
[pack.effective]
from = 2020-01-01
until = 2024-01-01
[[rules]]
id = "R-1"
severity = "high"
title = "t"
message = "m"
operations = ["identification_1toN"]
"""
    )
    pack = resolve([str(path)])
    when = datetime(2024, 1, 1, 6, tzinfo=UTC)  # 01:00 in New York, 22:00 in Los Angeles
    result = evaluate([_event(when, country="US")], pack)
    assert not result.findings
    [u] = result.undecided
    assert u.missing == ("timezone",)
    assert "outside the period in America/New_York" in u.reason
    assert "inside it in America/Los_Angeles" in u.reason
    placed = evaluate([_event(when, country="US", region="US-CA")], pack)
    assert [f.rule for f in placed.findings] == ["R-1"] and not placed.undecided


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('timezone = "America/Springfield"', "unknown IANA time zone 'America/Springfield'"),
        ('region = "Virginia"', "region 'Virginia' is not an ISO 3166-2 code"),
        ('country = "USA"', "country 'USA' is not an ISO 3166-1 alpha-2 code"),
        ('locality = ""', "locality must be a non-empty string"),
    ],
)
def test_a_bad_place_in_principals_is_a_located_error(
    tmp_path: Path, line: str, message: str
) -> None:
    root = _cloudtrail_bundle(tmp_path, METRO + line + "\n")
    result = CliRunner().invoke(app, ["audit", str(root), "--no-frames", "--no-store"])
    assert result.exit_code == 2
    assert message in result.stderr and "principals.toml:" in result.stderr


def test_a_bad_pack_zone_is_a_located_lint_error(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        """[pack]
id = "bad-zone"
title = "t"
version = "1.0.0"
[pack.jurisdiction]
timezone = "Mars/Olympus"
[pack.effective]
from = 2020-01-01
[[rules]]
id = "R-1"
severity = "high"
title = "t"
message = "m"
operations = ["identification_1toN"]
effective = { from = 2021-01-01, timezone = "Nowhere/Town" }
"""
    )
    result = CliRunner().invoke(app, ["policy", "lint", str(path)])
    assert result.exit_code == 2
    out = result.stdout + result.stderr
    assert "p.toml:6" in out and "unknown IANA time zone 'Mars/Olympus'" in out
    assert "p.toml:15" in out and "unknown IANA time zone 'Nowhere/Town'" in out
