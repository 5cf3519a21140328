"""Generic JSON lines (default shape and field mappings) and plain-text logs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from auditor.config.bundle import JsonlMapping, SourceSettings, TextPattern
from auditor.sources import SOURCES, ReadJob, open_bundle, read_file


def read(root: Path, rel: str, settings: SourceSettings | None = None):  # type: ignore[no-untyped-def]
    return read_file(ReadJob(str(root), rel, "auto", settings or SourceSettings()))


def line(**kw: object) -> str:
    base: dict[str, object] = {
        "time": "2023-05-02T08:00:00+02:00",
        "principal": "pd-analyst",
        "service": "rekognition",
        "operation": "SearchFacesByImage",
    }
    base.update(kw)
    return json.dumps(base) + "\n"


def test_default_shape(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text(
        line(
            frame="frames/a.jpg",
            purpose="missing_person",
            case_ref="C-1",
            event_id="x1",
            country="US",
        )
        + line(operation="DetectLabels")
        + line(
            service="face_recognition",
            operation="compare_faces",
            frames=["frames/b.jpg", "frames/c.jpg"],
            outcome="failed",
        )
    )
    result = read(tmp_path, "p.jsonl")
    assert result.source == "jsonl" and result.issues == [] and result.records == 3
    first, second = result.events
    assert first.time.isoformat() == "2023-05-02T06:00:00+00:00"
    assert first.frames == ("frames/a.jpg",)
    assert (first.attr("purpose"), first.attr("case_ref"), first.attr("country")) == (
        "missing_person",
        "C-1",
        "US",
    )
    assert first.event_id == "x1" and first.line == 1
    assert second.kind.value == "verification_1to1"
    assert second.frames == ("frames/b.jpg", "frames/c.jpg") and second.outcome == "failed"


def test_missing_fields_bad_time_and_escaping_frame(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text(
        json.dumps({"time": "2023-01-01T00:00:00Z", "service": "rekognition"})
        + "\n"
        + line(time="not a time")
        + line(frame="../outside.jpg")
        + line(frame="/etc/passwd")
    )
    result = read(tmp_path, "p.jsonl")
    msgs = [(i.line, i.message) for i in result.issues]
    assert msgs[0] == (1, "missing field(s): principal, operation")
    assert msgs[1] == (2, "bad time 'not a time'")
    assert msgs[2][0] == 3 and "climbs out" in msgs[2][1]
    assert msgs[3][0] == 4 and "absolute" in msgs[3][1]
    assert result.records == 2 and all(e.frames == () for e in result.events)


def test_field_mapping_from_audit_toml(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "audit.toml").write_text(
        '[[jsonl]]\nglob = "logs/vendor/*"\n[jsonl.fields]\ntime = "ts"\nprincipal = "actor.name"\n'
        'service = "api.vendor"\noperation = "api.call"\nframe = "media.path"\npurpose = "why"\n'
    )
    bundle = open_bundle(tmp_path)
    (tmp_path / "logs/vendor").mkdir()
    (tmp_path / "logs/vendor/v.jsonl").write_text(
        json.dumps(
            {
                "ts": "2024-01-01T00:00:00Z",
                "actor": {"name": "pd-analyst"},
                "api": {"vendor": "azure-face", "call": "Identify"},
                "media": {"path": "frames/z.jpg"},
                "why": "missing person",
            }
        )
        + "\n"
    )
    (event,) = read(tmp_path, "logs/vendor/v.jsonl", bundle.settings).events
    assert (event.service, event.kind.value, event.principal.id) == (
        "azure_face",
        "identification_1toN",
        "pd-analyst",
    )
    assert event.frames == ("frames/z.jpg",) and event.attr("purpose") == "missing person"


def test_gzip_jsonl(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl.gz").write_bytes(gzip.compress((line() * 3).encode()))
    assert read(tmp_path, "p.jsonl.gz").records == 3


TEXT = TextPattern(
    glob="*",
    pattern=r"^(?P<time>\S+) user=(?P<principal>\S+) svc=(?P<service>\S+) "
    r"op=(?P<operation>\S+)(?: frame=(?P<frame>\S+))?(?: cam=(?P<camera>\S+))?",
)


def test_text_log(tmp_path: Path) -> None:
    (tmp_path / "g.log").write_bytes(
        b"2023-06-01T11:59:58Z INFO started\n"
        b"2023-06-01T12:00:00Z user=pd-analyst svc=rekognition op=CompareFaces "
        b"frame=frames/a.jpg cam=body-7\n"
        b"2023-06-01T12:00:01Z user=pd-analyst svc=rekognition op=DetectLabels\n"
        b"\xff\xfe broken bytes\n"
        b"oops user=pd svc=rekognition op=SearchFaces\n"
        b"2023-06-01T12:00:09Z ERROR vendor face search failed for a watchlist\n"
    )
    result = read(tmp_path, "g.log", SourceSettings(text_patterns=(TEXT,)))
    assert result.records == 2
    event, swept = result.events
    # line 5 has no time, so it is not read: the sweep still reports the search it names
    assert (swept.source, swept.line, swept.operation) == ("sweep", 5, "SearchFaces")
    assert (
        event.line == 2 and event.attr("camera") == "body-7" and event.frames == ("frames/a.jpg",)
    )
    assert [(i.line, i.message.split(" ")[0]) for i in result.issues] == [(4, "not"), (5, "bad")]
    assert [n.line for n in result.notices] == [5, 6]


def test_text_log_without_pattern_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "g.log").write_text("anything\n")
    (issue,) = read(tmp_path, "g.log").issues
    assert "no [[text]] pattern" in issue.message


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_registered_source_reads_an_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / "empty.log").write_text("")
    settings = SourceSettings(text_patterns=(TEXT,), overrides=(("*", name),))
    result = read(tmp_path, "empty.log", settings)
    assert (result.source, result.records, result.issues) == (name, 0, [])


def test_source_override_for_an_unusual_extension(tmp_path: Path) -> None:
    (tmp_path / "trail.dat").write_text(line())
    result = read(tmp_path, "trail.dat", SourceSettings(overrides=(("*.dat", "jsonl"),)))
    assert result.records == 1 and result.issues == []


def test_mapping_lookup_uses_first_matching_glob() -> None:
    settings = SourceSettings(
        jsonl_mappings=(
            JsonlMapping("logs/a/*", (("time", "t"),)),
            JsonlMapping("*", (("time", "u"),)),
        )
    )
    assert settings.mapping_for("logs/a/x.jsonl").fields == (("time", "t"),)  # type: ignore[union-attr]
    assert settings.mapping_for("logs/b/x.jsonl").fields == (("time", "u"),)  # type: ignore[union-attr]
