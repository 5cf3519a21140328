"""The engine on hand-built events: several packs, periods, deadlines, evidence, reviewers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auditor.core.models import Event, OperationKind, Principal
from auditor.policy import evaluate, resolve
from auditor.policy.pack import Duration

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
POLICE = Principal("pd-1", "Test Police", "police", matched=True)
LEA = Principal("le-1", "Landespolizei", "law_enforcement_authority", matched=True)


def event(
    when: datetime,
    principal: Principal = POLICE,
    service: str = "rekognition",
    operation: str = "SearchFacesByImage",
    kind: OperationKind = OperationKind.IDENTIFICATION_1TON,
    event_id: str = "e1",
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
        event_id=event_id,
        attributes=tuple(sorted(attrs.items())),
    )


def rules_hit(events: list[Event], *packs: str) -> set[tuple[str, str]]:
    return {(f.pack, f.rule) for f in evaluate(events, resolve(list(packs))).findings}


def test_one_event_breaks_several_packs() -> None:
    e = event(datetime(2021, 5, 1, tzinfo=UTC), country="US", region="US-CA", camera="body_worn")
    hit = rules_hit([e], "all")
    assert ("amazon-rekognition-police-2020", "AMZ-REK-001") in hit
    assert ("us-ca-penal-code-832-19", "CA-83219-001") in hit
    result = evaluate([e], resolve(["all"]))
    assert len({f.id for f in result.findings}) == len(result.findings)


def test_expired_pack_gives_nothing_after_its_end() -> None:
    attrs = {"country": "US", "region": "US-CA", "camera": "body_worn"}
    # 2022-12-31 23:59 and 2023-01-01 00:00 in California (PST, UTC-8)
    last_day = event(datetime(2023, 1, 1, 7, 59, tzinfo=UTC), **attrs)
    after = event(datetime(2023, 1, 1, 8, tzinfo=UTC), **attrs)
    later = event(datetime(2025, 6, 1, tzinfo=UTC), **attrs)
    pack = "us-ca-penal-code-832-19"
    assert rules_hit([last_day], pack) == {(pack, "CA-83219-001")}
    result = evaluate([after, later], resolve([pack]))
    assert not result.findings and not result.undecided


@pytest.mark.parametrize(
    ("delay", "urgency", "found"),
    [
        (timedelta(hours=24), "true", False),
        (timedelta(hours=24, seconds=1), "true", True),
        (timedelta(hours=-3), "true", False),
        (timedelta(hours=-3), "false", False),
        (timedelta(0), "", False),
        (timedelta(hours=2), "false", True),  # after the use without urgency: too late
        (timedelta(hours=2), "", True),
        (timedelta(hours=2), "Yes", False),
    ],
)
def test_authorisation_within_pt24h_only_in_urgency(
    delay: timedelta, urgency: str, found: bool
) -> None:
    stamp = (T0 + delay).strftime("%Y-%m-%dT%H:%M:%SZ")
    e = event(
        T0,
        LEA,
        country="DE",
        modality="real_time",
        space="publicly_accessible",
        purpose="missing_person",
        authorisation_time=stamp,
        notification_ref="n",
        national_law_ref="act-1",
        urgency=urgency,
    )
    assert (("eu-ai-act-art5", "EU-AIA-5-3-001") in rules_hit([e], "eu-ai-act-art5")) is found


def test_authorisation_record_is_linked_by_case_and_must_come_in_time() -> None:
    use = event(
        T0,
        LEA,
        country="DE",
        modality="real_time",
        space="publicly_accessible",
        purpose="imminent_threat",
        case_ref="K-1",
        notification_ref="n",
        urgency="true",
    )
    court = Principal("court", "District Court", "other", matched=True)
    late = event(
        T0 + timedelta(hours=30),
        court,
        "authority",
        "AuthorisationRequest",
        OperationKind.AUTHORISATION,
        "a1",
        case_ref="K-1",
    )
    in_time = event(
        T0 + timedelta(hours=20),
        court,
        "authority",
        "AuthorisationRequest",
        OperationKind.AUTHORISATION,
        "a2",
        case_ref="K-1",
    )
    other_case = event(
        T0,
        court,
        "authority",
        "AuthorisationGranted",
        OperationKind.AUTHORISATION,
        "a3",
        case_ref="K-2",
    )
    rule = ("eu-ai-act-art5", "EU-AIA-5-3-001")
    assert rule in rules_hit([use, late, other_case], "eu-ai-act-art5")
    assert rule not in rules_hit([use, in_time], "eu-ai-act-art5")


def test_refusal_after_use_is_no_breach_before_it_is() -> None:
    court = Principal("court", "District Court", "other", matched=True)
    refusal = event(
        T0,
        court,
        "authority",
        "AuthorisationRefused",
        OperationKind.AUTHORISATION,
        "r1",
        case_ref="K-5",
    )
    base = {
        "country": "DE",
        "modality": "real_time",
        "space": "publicly_accessible",
        "purpose": "imminent_threat",
        "case_ref": "K-5",
        "notification_ref": "n",
        "authorisation_time": "2025-03-01T09:00:00Z",
    }
    before = event(T0 - timedelta(minutes=5), LEA, event_id="u1", **base)
    after = event(T0 + timedelta(minutes=5), LEA, event_id="u2", **base)
    result = evaluate([refusal, before, after], resolve(["eu-ai-act-art5"]))
    hits = [f for f in result.findings if f.rule == "EU-AIA-5-3-002"]
    assert [f.events[0].event_id for f in hits] == ["u2"]
    assert hits[0].events[1].event_id == "r1"


def test_two_distinct_reviewers() -> None:
    when = datetime(2028, 1, 10, tzinfo=UTC)
    reviewer = Principal("rev", "Test Police", "police", matched=True)
    same_twice = event(
        when, LEA, event_id="m1", country="DE", reviewers="Insp A, insp-a", remote="true"
    )
    review = event(
        when + timedelta(hours=1),
        reviewer,
        "review",
        "HumanReview",
        OperationKind.HUMAN_REVIEW,
        "h1",
        reviewed_event="m2",
        reviewer="insp-b",
    )
    second = event(when, LEA, event_id="m2", country="DE", reviewers="insp-a", remote="true")
    result = evaluate([same_twice, review, second], resolve(["eu-ai-act-art5"]))
    hits = [f for f in result.findings if f.rule == "EU-AIA-14-5-001"]
    assert [f.events[0].event_id for f in hits] == ["m1"]
    assert hits[0].confidence == "S"  # rule and start date rest on secondary sources


def test_exception_needs_its_evidence() -> None:
    base = {"country": "US", "region": "US-WA", "modality": "real_time"}
    without = event(datetime(2022, 2, 1, tzinfo=UTC), event_id="a", **base)
    empty = event(datetime(2022, 2, 1, tzinfo=UTC), event_id="b", warrant_ref="", **base)
    with_warrant = event(datetime(2022, 2, 1, tzinfo=UTC), event_id="c", warrant_ref="W-1", **base)
    result = evaluate([without, empty, with_warrant], resolve(["us-wa-rcw-43-386"]))
    hit = {f.events[0].event_id for f in result.findings if f.rule == "WA-386-001"}
    assert hit == {"a", "b"}
    assert ("us-wa-rcw-43-386", "WA-386-001", "warrant", with_warrant) in result.excused


def test_missing_fields_are_undecided_never_passed() -> None:
    e = event(datetime(2022, 2, 1, tzinfo=UTC), region="US-WA")  # no modality
    result = evaluate([e], resolve(["us-wa-rcw-43-386"]))
    undecided = {(u.rule, u.missing) for u in result.undecided}
    assert ("WA-386-001", ("modality",)) in undecided
    assert not [f for f in result.findings if f.rule == "WA-386-001"]


def test_territory_outside_is_not_undecided() -> None:
    e = event(datetime(2022, 2, 1, tzinfo=UTC), region="US-OR")
    result = evaluate([e], resolve(["us-wa-rcw-43-386"]))
    assert not result.findings and not result.undecided


def test_evaluation_is_deterministic_and_order_free() -> None:
    events = [
        event(
            datetime(2021, 5, d, tzinfo=UTC), event_id=f"e{d}", region="US-CA", camera="body_worn"
        )
        for d in range(1, 6)
    ]
    packs = resolve(["all"])
    one = evaluate(events, packs)
    two = evaluate(list(reversed(events)), packs)
    assert [f.id for f in one.findings] == [f.id for f in two.findings]
    assert [(u.rule, u.event.event_id) for u in one.undecided] == [
        (u.rule, u.event.event_id) for u in two.undecided
    ]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("PT24H", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 2, tzinfo=UTC)),
        ("P3Y", datetime(2020, 2, 29, tzinfo=UTC), datetime(2023, 2, 28, tzinfo=UTC)),
        ("P1M", datetime(2025, 1, 31, tzinfo=UTC), datetime(2025, 2, 28, tzinfo=UTC)),
        ("P1DT12H", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, 12, tzinfo=UTC)),
    ],
)
def test_durations(text: str, start: datetime, end: datetime) -> None:
    assert Duration.parse(text).after(start) == end


@pytest.mark.parametrize("text", ["24h", "P", "PT", "P1H", "PT1D", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)
