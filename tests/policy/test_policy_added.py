"""The capabilities the added packs need, on the real loader, engine, catalogue and CLI:
a rule bound to named organisations, retention counted from another field, the emotion
recognition and biometric categorisation kinds in every report format, and the dates at the
edges of the added packs' periods."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.catalogue.operations import classify
from auditor.cli import app
from auditor.core.models import Event, OperationKind, Principal
from auditor.policy import evaluate, resolve
from auditor.policy.loader import check_pack, load_pack
from auditor.policy.sigma import export_sigma, read_principals

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "fixtures" / "packs"
SIGMA = Path(sys.executable).parent / "sigma"
SHOP = Principal("shop", "ShopCo Retail", "private_entity", matched=True)


def event(
    when: datetime,
    principal: Principal = SHOP,
    service: str = "rekognition",
    operation: str = "IndexFaces",
    kind: OperationKind = OperationKind.ENROLMENT,
    **attrs: str,
) -> Event:
    return Event(
        source="jsonl",
        file="logs/x.jsonl",
        time=when,
        service=service,
        operation=operation,
        kind=kind,
        principal=principal,
        line=1,
        event_id="e1",
        attributes=tuple(sorted(attrs.items())),
    )


PACK = """[pack]
id = "org-test"
title = "t"
version = "1.0.0"
[pack.effective]
from = 2020-01-01
[[rules]]
id = "R1"
severity = "high"
title = "t"
message = "m"
organisations = {orgs}
operations = ["identification_1toN"]
"""


def _pack(tmp_path: Path, orgs: str) -> Path:
    path = tmp_path / "org-test.toml"
    path.write_text(PACK.format(orgs=orgs))
    return path


@pytest.mark.parametrize(
    ("organisation", "hit"),
    [
        ("Rite Aid", True),
        ("rite-aid", True),
        ("Rite Aid Hdqtrs. Corp.", True),
        ("King County Sheriff's Office", True),
        ("Seattle Police Department", False),
        ("Spirit of Rite Aid", False),
    ],
)
def test_rule_binds_named_organisations_and_prefixes(
    tmp_path: Path, organisation: str, hit: bool
) -> None:
    pack = load_pack(_pack(tmp_path, '["Rite Aid", "Rite Aid Hdqtrs*", "King County*"]'))
    who = Principal("p", organisation, "private_entity", matched=True)
    e = event(
        datetime(2024, 5, 1, tzinfo=UTC),
        who,
        operation="SearchFacesByImage",
        kind=OperationKind.IDENTIFICATION_1TON,
    )
    assert bool(evaluate([e], [pack]).findings) is hit


def test_organisations_must_be_strings(tmp_path: Path) -> None:
    check = check_pack(_pack(tmp_path, "[3]"))
    assert check.pack is None
    assert any("organisations" in str(e) for e in check.errors)


def _tx(**attrs: str) -> list[str]:
    e = event(
        datetime(2026, 2, 1, 10, tzinfo=UTC),
        region="US-TX",
        notice_ref="n",
        consent_ref="c",
        gallery_source="customer_enrolled",
        **attrs,
    )
    result = evaluate([e], resolve(["us-tx-cubi-503-001"]))
    out = [f.rule for f in result.findings]
    return out + [f"undecided:{','.join(u.missing)}" for u in result.undecided]


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        ("2027-06-01", []),  # exactly one year after the purpose
        ("2027-06-01T00:00:01Z", ["TX-CUBI-003"]),  # one second more
        ("2026-12-01", []),
    ],
)
def test_retention_runs_from_the_purpose_end(until: str, expected: list[str]) -> None:
    assert _tx(purpose_expires="2026-06-01", retention_until=until) == expected


def test_retention_without_the_purpose_end() -> None:
    # within a year of the capture: met whenever the purpose expired (never before the capture)
    assert _tx(retention_until="2027-02-01") == []
    assert _tx(retention_until="2027-12-01") == ["undecided:purpose_expires"]
    assert _tx(retention_until="2027-12-01", purpose_expires="soon") == [
        "undecided:purpose_expires"
    ]


def test_organisation_rules_bind_those_acting_for_the_organisation(tmp_path: Path) -> None:
    pack = load_pack(_pack(tmp_path, '["King County*"]'))
    vendor = Principal("v", "Vendor Inc", "private_entity", matched=True)
    when = datetime(2024, 5, 1, tzinfo=UTC)
    search = ("rekognition", "SearchFacesByImage", OperationKind.IDENTIFICATION_1TON)
    for_county = event(when, vendor, *search, on_behalf_of="King County Sheriff's Office")
    for_city = event(when, vendor, *search, on_behalf_of="Seattle Police Department")
    assert len(evaluate([for_county, for_city], [pack]).findings) == 1


def test_catalogue_knows_the_new_kinds() -> None:
    assert classify("analyzer", "EmotionRecognition") is OperationKind.EMOTION_RECOGNITION
    assert classify("face_analyzer", "infer-emotion") is OperationKind.EMOTION_RECOGNITION
    assert classify("analyser", "BiometricCategorization") is (
        OperationKind.BIOMETRIC_CATEGORISATION
    )
    assert classify("Clearview AI", "Search") is OperationKind.IDENTIFICATION_1TON


@pytest.mark.parametrize(
    ("delay", "found"), [(timedelta(hours=48), False), (timedelta(hours=48, seconds=1), True)]
)
def test_post_remote_identification_authorisation_within_48h(delay: timedelta, found: bool) -> None:
    when = datetime(2028, 1, 10, 10, tzinfo=UTC)
    lea = Principal("le", "Landespolizei", "law_enforcement_authority", matched=True)
    e = event(
        when,
        lea,
        operation="SearchFacesByImage",
        kind=OperationKind.IDENTIFICATION_1TON,
        country="DE",
        modality="post",
        remote="true",
        case_ref="K-1",
        authorisation_time=(when + delay).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    rules = {f.rule for f in evaluate([e], resolve(["eu-ai-act-deployers"])).findings}
    assert ("EU-AIA-26-10-001" in rules) is found


@pytest.mark.parametrize(
    ("pack", "when", "rule", "attrs"),
    [
        # local times: the packs' dates are days of the jurisdiction's calendar
        ("us-ny-education-law-2-e", "2023-09-26T23:59:59-04:00", "NY-2E-001", {"region": "US-NY"}),
        ("us-ny-education-law-2-e", "2023-09-27T00:00:00-04:00", "NY-2E-002", {"region": "US-NY"}),
        ("us-ny-education-law-2-e", "2023-09-27T03:59:59Z", "NY-2E-001", {"region": "US-NY"}),
        ("us-il-aclu-v-clearview-2022", "2027-05-10T23:59:59-05:00", "CV-002", {"region": "US-IL"}),
        ("us-il-aclu-v-clearview-2022", "2027-05-11T00:00:00-05:00", None, {"region": "US-IL"}),
        ("us-il-aclu-v-clearview-2022", "2027-05-11T04:59:59Z", "CV-002", {"region": "US-IL"}),
    ],
)
def test_period_edges(pack: str, when: str, rule: str | None, attrs: dict[str, str]) -> None:
    school = Principal("s", "Lincoln School District", "school", matched=True)
    police = Principal("p", "Test Police", "police", matched=True)
    who, service = (
        (school, "rekognition")
        if pack.startswith("us-ny")
        else ((police, "clearview") if "clearview" in pack else (SHOP, "rekognition"))
    )
    e = event(
        datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC),
        who,
        service,
        "Search",
        OperationKind.IDENTIFICATION_1TON,
        account_type="agency",
        **attrs,
    )
    found = {f.rule for f in evaluate([e], resolve([pack])).findings}
    assert found == ({rule} if rule else set())


def test_emotion_finding_in_every_report_format(tmp_path: Path) -> None:
    root = tmp_path / "b"
    (root / "logs").mkdir(parents=True)
    src = PACKS / "eu-ai-act-deployers"
    shutil.copy(src / "principals.toml", root / "principals.toml")
    shutil.copy(src / "EU-AIA-5-1-F-001" / "violating.jsonl", root / "logs" / "a.jsonl")
    shutil.copy(src / "EU-AIA-5-1-G-001" / "violating.jsonl", root / "logs" / "b.jsonl")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(root),
            "--no-frames",
            "--no-store",
            "--policy",
            "eu-ai-act-deployers",
            "--output-dir",
            str(out),
            *(
                x
                for f in ("json", "sarif", "junit", "csv", "html", "table")
                for x in ("--format", f)
            ),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    report = json.loads((out / "report.json").read_text())
    kinds = {f["events"][0]["kind"] for f in report["findings"]}
    assert kinds == {"emotion_recognition", "biometric_categorisation"}
    for name in ("report.sarif", "report.xml", "report.csv", "report.html", "report.txt"):
        matches = list(out.glob(name.replace("report.", "report*.")))
        assert matches and "EU-AIA-5-1-F-001" in matches[0].read_text(), name


def test_sigma_inlines_only_the_named_organisations(tmp_path: Path) -> None:
    path = (
        _pack(tmp_path, '["King County*"]')
        .read_text()
        .replace(
            'operations = ["identification_1toN"]',
            'principals = ["police"]\noperations = ["identification_1toN"]',
        )
    )
    pack_file = tmp_path / "org-test.toml"
    pack_file.write_text(path)
    principals = tmp_path / "principals.toml"
    principals.write_text(
        '[[principal]]\narn = "arn:aws:iam::111122223333:role/kcso-*"\n'
        'organisation = "King County Sheriff\'s Office"\ncategory = "police"\n\n'
        '[[principal]]\narn = "arn:aws:iam::111122223333:role/vendor-kc-*"\n'
        'organisation = "Vendor Inc"\ncategory = "private_entity"\n'
        'on_behalf_of = "King County Sheriff\'s Office"\n\n'
        '[[principal]]\narn = "arn:aws:iam::111122223333:role/spd-*"\n'
        'organisation = "Seattle Police Department"\ncategory = "police"\n'
    )
    rules, notes = export_sigma(
        load_pack(pack_file), read_principals(principals, "principals.toml")
    )
    assert not notes and len(rules) == 1
    text = rules[0].text
    assert "role/kcso-" in text and "role/vendor-kc-" in text and "role/spd-" not in text
    out = tmp_path / "sigma"
    out.mkdir()
    (out / rules[0].filename).write_text(text)
    check = subprocess.run(
        [str(SIGMA), "check", "--fail-on-issues", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("pack_id", "rule_id"),
    [
        ("us-tx-cubi-503-001", "TX-CUBI-003"),
        ("us-il-aclu-v-clearview-2022", "CV-002"),
        ("us-me-ld-1585-2021", "ME-001"),
        ("us-wa-king-county-19296", "KC-19296-001"),
        ("us-ftc-rite-aid-2023", "RA-001"),
    ],
)
def test_added_pack_through_the_cli(tmp_path: Path, pack_id: str, rule_id: str) -> None:
    """The violating fixture fails the gate with the rule's finding; the compliant one does not
    give that rule a finding (other rules of the pack may still speak about its events)."""
    results = {}
    for kind in ("violating", "compliant"):
        root = tmp_path / kind / "b"
        (root / "logs").mkdir(parents=True)
        shutil.copy(PACKS / pack_id / "principals.toml", root / "principals.toml")
        shutil.copy(PACKS / pack_id / rule_id / f"{kind}.jsonl", root / "logs" / "x.jsonl")
        out = root.parent / "r.json"
        result = CliRunner().invoke(
            app,
            [
                "audit",
                str(root),
                "--no-frames",
                "--no-store",
                "--policy",
                pack_id,
                "--format",
                "json",
                "--output",
                str(out),
            ],
            catch_exceptions=False,
        )
        report = json.loads(out.read_text())
        results[kind] = (result.exit_code, [f["rule"] for f in report["findings"]])
        assert [p["id"] for p in report["packs"]] == [pack_id]
    assert results["violating"][0] == 1 and rule_id in results["violating"][1]
    assert rule_id not in results["compliant"][1]
