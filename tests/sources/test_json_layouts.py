"""JSON in any layout: every JSON source reads pretty-printed, concatenated, array and commented
files as records, detected by content, through the real `read_file`."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from auditor.config.bundle import SourceSettings
from auditor.sources import sniff
from auditor.sources.jsonany import CommentFilter, first_record, layout, strip_comments
from tests.logsamples import SAMPLES, issues, read_sample

#: One JSON-lines sample per JSON source (every record on its own line).
LINE_SAMPLES = {
    "azure_monitor": "azure-monitor/requestresponse.jsonl",
    "gcp_audit": "gcp-audit/vision-sink.jsonl",
    "kinesis_rekognition": "rekognition-video/frame-records.jsonl",
    "doubletake": "double-take/mqtt-matches.jsonl",
    "frigate": "frigate/tracked_object_update.jsonl",
    "httplog": "json-access/access.jsonl",
}


def _good_records(rel: str) -> list[Any]:
    out = []
    for line in (SAMPLES / rel).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _summary(result: Any) -> tuple[Any, ...]:
    return (
        result.source,
        result.records,
        sorted((e.service, e.operation, e.kind.value, e.outcome) for e in result.events),
    )


def _layouts(recs: list[Any]) -> dict[str, str]:
    pretty = "\n".join(json.dumps(r, indent=2) for r in recs) + "\n"
    commented = "// exported records\n" + "".join(
        f"/* record {i} */\n{json.dumps(r, indent=4)} // end of {i}\n" for i, r in enumerate(recs)
    )
    return {
        "concatenated": pretty,
        "array": json.dumps(recs, indent=2) + "\n",
        "commented": commented,
        "one-line-array": json.dumps(recs) + "\n",
    }


@pytest.mark.parametrize("name", sorted(LINE_SAMPLES))
@pytest.mark.parametrize("shape", ["concatenated", "array", "commented", "one-line-array"])
def test_every_json_source_reads_every_layout(tmp_path: Path, name: str, shape: str) -> None:
    """The JSON records of each source's JSON-lines sample, rewritten in another layout, are
    detected as the same source and give the same records, events and errors."""
    recs = _good_records(LINE_SAMPLES[name])
    lines = _clean_lines(tmp_path, recs)
    (tmp_path / f"{shape}.json").write_text(_layouts(recs)[shape])
    result = read_sample(f"{shape}.json", root=tmp_path)
    assert _summary(result) == _summary(lines) and lines.source == name
    # the samples' records of a wrong shape are errors in every layout, one each
    assert len(result.issues) == len(lines.issues)


def _clean_lines(tmp_path: Path, recs: list[Any]) -> Any:
    (tmp_path / "lines.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return read_sample("lines.jsonl", root=tmp_path)


def test_cloudtrail_records_as_jq_prints_them() -> None:
    result = read_sample("json-layouts/jq-records.json")
    assert result.source == "cloudtrail" and result.records == 3 and result.issues == []
    search, compare = result.events
    assert (search.operation, search.line, search.frames) == (
        "SearchFacesByImage",
        1,  # each of several documents is located by the line it starts on
        ("frames/cam-02/f0004.jpg",),
    )
    assert (compare.operation, compare.line, compare.error_code) == (
        "CompareFaces",
        69,  # the third document starts on line 69
        "AccessDeniedException",
    )


def test_cloudtrail_lookup_events_output() -> None:
    result = read_sample("json-layouts/lookup-events.json")
    assert result.source == "cloudtrail" and result.records == 2 and result.issues == []
    assert [(e.operation, e.record, e.principal.account) for e in result.events] == [
        ("IndexFaces", 0, "444455556666"),
        ("DescribeCollection", 1, "444455556666"),
    ]


def test_pipeline_records_as_an_array_and_with_comments() -> None:
    array = read_sample("json-layouts/pipeline-array.json")
    assert array.source == "jsonl" and array.records == 3 and array.issues == []
    assert [(e.record, e.operation) for e in array.events] == [
        (0, "compare_faces"),
        (1, "face_locations"),
        (2, "find"),
    ]
    commented = read_sample("json-layouts/commented.json")
    assert commented.source == "jsonl" and commented.records == 2 and commented.issues == []
    (search,) = commented.events
    assert search.frames == ("frames/cam-01/f0001.jpg",)
    assert search.attr("note") == "a URL such as https://example.org/a//b stays text"


def test_frigate_messages_through_jq() -> None:
    result = read_sample("json-layouts/frigate-jq.json")
    assert result.source == "frigate" and result.records == 3 and result.issues == []
    assert [(e.line, e.attr("match_count")) for e in result.events] == [(1, "1"), (18, "0")]


def test_an_unknown_pretty_document_is_one_error_naming_its_keys(tmp_path: Path) -> None:
    """It used to be one "malformed JSON" error per line."""
    result = read_sample("json-layouts/unknown-shape.json")
    assert issues(result) == [
        (
            1,
            None,
            "missing field(s): time, principal, service, operation "
            "(top-level keys: job, started, host, steps)",
        )
    ]
    (swept,) = result.events
    assert (swept.source, swept.operation, swept.error_code) == (
        "sweep",
        "SearchFacesByImage",
        "AccessDeniedException",
    )
    # the same for a big document of another shape, whatever its number of lines
    doc = {"config": {f"key{i}": list(range(5)) for i in range(200)}, "version": 3}
    (tmp_path / "settings.json").write_text(json.dumps(doc, indent=2))
    result = read_sample("settings.json", root=tmp_path)
    assert len(result.issues) == 1 and "top-level keys: config, version" in result.issues[0].message


def test_comment_filter_keeps_lines_and_strings() -> None:
    text = (
        b'{"url": "https://a.example/x//y", // trailing\n'
        b"/* a block\n"
        b'   over lines */ "k": "/* not a comment */", /* inline */ "n": 1}\n'
    )
    out = strip_comments(text)
    assert out.count(b"\n") == text.count(b"\n")
    assert json.loads(out) == {"url": "https://a.example/x//y", "k": "/* not a comment */", "n": 1}
    filt = CommentFilter()
    assert filt.feed(b"/* open\n") == b"\n" and filt.in_block
    assert filt.feed(b"still */ 1\n").strip() == b"1" and not filt.in_block


def test_layout_and_first_record_in_each_layout() -> None:
    assert layout(b'{"a": 1}\n{"a": 2}\n') == "lines"
    assert layout(b"// c\n" + b'{"a": 1}\n') == "lines"
    assert layout(b'{\n  "a": 1\n}\n') == "documents"
    assert first_record(b'[\n {"a": 1},\n {"a": 2}\n]') == {"a": 1}
    assert first_record(b'{"records": [\n {"b": 1}\n]}') == {"b": 1}
    assert first_record(b'/* x */\n{\n "c": 1 // d\n}\n{"c": 2}') == {"c": 1}
    head = (SAMPLES / "json-layouts/frigate-jq.json").read_bytes()
    assert sniff("x.json", head) == "frigate"


def test_broken_and_truncated_documents_are_located(tmp_path: Path) -> None:
    recs = _good_records(LINE_SAMPLES["frigate"])
    text = "\n".join(json.dumps(r, indent=2) for r in recs[:2])
    (tmp_path / "cut.json").write_text(text[:-20])
    result = read_sample("cut.json", root=tmp_path)
    assert result.source == "frigate" and result.records == 1
    assert [m for _, _, m in issues(result)] == [
        "the JSON document ends inside a value (truncated?)"
    ]
    assert result.issues[0].line == len(json.dumps(recs[0], indent=2).splitlines()) + 1
    broken = text.replace('"camera"', "camera", 2)
    (tmp_path / "bad.json").write_text(broken)
    result = read_sample("bad.json", root=tmp_path)
    (issue,) = result.issues
    assert issue.message.startswith("malformed JSON: ") and issue.line is not None


@pytest.mark.slow
def test_a_large_array_streams_in_bounded_memory(tmp_path: Path) -> None:
    """A 9 MB indented array (gzipped) is read record by record: memory holds one record
    and the read buffers (about 5 MB, measured the same for 10,000 records as for 40,000)."""
    rec = {
        "time": "2026-03-16T10:15:00Z",
        "principal": "svc",
        "service": "s3",
        "operation": "GetObject",
        "pad": "x" * 200,
    }
    body = ",\n".join(json.dumps(rec, indent=2) for _ in range(30_000))
    data = ("[\n" + body + "\n]\n").encode()
    assert len(data) > 9 << 20
    (tmp_path / "big.json.gz").write_bytes(gzip.compress(data, 1))
    tracemalloc.start()
    result = read_sample("big.json.gz", SourceSettings(), root=tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.records == 30_000 and result.issues == []
    assert (
        peak < 8 << 20
    )  # the read buffers (about 5 MB), whatever the size, f"peak {peak:,} bytes"
