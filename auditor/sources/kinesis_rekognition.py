"""Rekognition Video stream-processor output: the JSON frame records of a face-search processor.

A face-search stream processor writes one JSON frame record per analysed frame to a Kinesis data
stream (`InputInformation.KinesisVideo`, `StreamProcessorInformation`, `FaceSearchResponse[]`
with `DetectedFace` and `MatchedFaces[]`). CloudTrail only shows the processor being created and
started; these records are the searches themselves. They arrive here as

* raw frame records, one JSON object per line (a consumer that writes what it reads);
* Lambda Kinesis events, `{"Records": [{"kinesis": {"data": <base64>}, "eventSourceARN": ...}]}`;
* `aws kinesis get-records` output, `{"Records": [{"Data": <base64>, ...}]}`.

Each `FaceSearchResponse` entry is one 1:N search of a face seen on camera against a collection.
The frame record does not name the stream processor, so the principal is an explicit
`StreamProcessorArn` when a pipeline adds one, else the output data stream's ARN (one per
processor), else the input video stream's ARN; all of them are kept as ARNs for principals.toml.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from auditor.core.errors import InputIssue
from auditor.core.models import Event, OperationKind, Principal
from auditor.core.timefmt import epoch
from auditor.sources.base import FileResult, HashingStream, ReadJob
from auditor.sources.jsondoc import RecordSource, documents, is_filler
from auditor.sources.jsondoc import dig as _dig

NAME = "kinesis_rekognition"
OPERATION = "StreamProcessorFaceSearch"
#: Face searches read from one frame record. Rekognition detects at most the 100 largest faces
#: in an image, so a record with more entries is not what the service writes; past this many,
#: the rest is one located error (a 2 KB gzip of 150,000 entries would otherwise be 150,000
#: events from one record).
MAX_SEARCHES_PER_FRAME = 100


class KinesisRekognitionSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`: line by line, or whole for a pretty-printed event.

        Unlike `RecordSource.read`, a document stays whole (`documents`, not `records`): the
        `Records` of a Lambda event or of get-records output are Kinesis records whose base64
        data is the frame record, and their `eventSourceARN` names the principal, so they are
        taken apart here (`_document`), not as records of their own."""
        for doc, line in documents(stream, result):
            self.record(job, doc, line, None, result)

    def record(
        self, job: ReadJob, rec: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """See `RecordSource.record`: one document (a wrapper hands this source its documents
        whole, so `index` says nothing of where a frame is)."""
        self._document(rec, result, line)

    def _document(self, doc: Any, result: FileResult, line: int | None) -> None:
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            for index, rec in enumerate(doc["Records"]):
                if is_filler(rec):
                    result.records += 1
                else:
                    self._wrapped(rec, result, line, index)
        elif isinstance(doc, dict):
            self._frame(doc, {}, result, line, None)
        elif isinstance(doc, list):  # an array of raw frame records
            for index, rec in enumerate(doc):
                if isinstance(rec, dict):
                    self._frame(rec, {}, result, line, index)
                else:
                    result.issues.append(
                        InputIssue(
                            result.path, "record is not a JSON object", line=line, record=index
                        )
                    )
        else:
            result.issues.append(InputIssue(result.path, "record is not a JSON object", line=line))

    def _wrapped(self, rec: Any, result: FileResult, line: int | None, index: int) -> None:
        """One Kinesis record (Lambda event or get-records): decode its base64 data."""
        if not isinstance(rec, dict):
            result.issues.append(
                InputIssue(result.path, "record is not a JSON object", line=line, record=index)
            )
            return
        nested = rec.get("kinesis")
        inner: dict[str, Any] = nested if isinstance(nested, dict) else rec
        data = inner.get("data", inner.get("Data"))
        if not isinstance(data, str):
            result.issues.append(
                InputIssue(
                    result.path, "Kinesis record without base64 data", line=line, record=index
                )
            )
            return
        try:
            frame = orjson.loads(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError) as exc:
            why = exc.msg if isinstance(exc, orjson.JSONDecodeError) else "not base64"
            result.issues.append(
                InputIssue(
                    result.path,
                    f"Kinesis data is not a JSON frame record: {why}",
                    line=line,
                    record=index,
                )
            )
            return
        if not isinstance(frame, dict):
            result.issues.append(
                InputIssue(
                    result.path, "Kinesis data is not a JSON object", line=line, record=index
                )
            )
            return
        wrapper = {
            "eventSourceARN": rec.get("eventSourceARN"),
            "eventID": rec.get("eventID"),
            "arrival": inner.get(
                "approximateArrivalTimestamp", inner.get("ApproximateArrivalTimestamp")
            ),
        }
        self._frame(frame, wrapper, result, line, index)

    def _frame(
        self,
        frame: dict[str, Any],
        wrapper: dict[str, Any],
        result: FileResult,
        line: int | None,
        index: int | None,
    ) -> None:
        """One frame record: one event per `FaceSearchResponse` entry (the record's own shape
        and time are checked once, for all of them)."""
        searches = frame.get("FaceSearchResponse")
        video = _dig(frame, "InputInformation", "KinesisVideo")
        if not isinstance(searches, list) or not isinstance(video, dict):
            missing = (
                "FaceSearchResponse"
                if not isinstance(searches, list)
                else "InputInformation.KinesisVideo"
            )
            result.issues.append(
                InputIssue(
                    result.path,
                    f"not a Rekognition Video frame record (no {missing})",
                    line=line,
                    record=index,
                )
            )
            return
        raw_time = video.get(
            "ServerTimestamp", video.get("ProducerTimestamp", wrapper.get("arrival"))
        )
        try:
            when = epoch(raw_time)  # Kinesis timestamps: epoch seconds
        except (TypeError, ValueError, OverflowError, OSError):  # OSError: platform time range
            result.issues.append(
                InputIssue(
                    result.path,
                    f"missing or bad ServerTimestamp: {raw_time!r}",
                    line=line,
                    record=index,
                )
            )
            return
        result.records += 1
        principal = _principal(frame, wrapper, video)
        status = _dig(frame, "StreamProcessorInformation", "Status")
        event_id = wrapper.get("eventID")
        for i, search in enumerate(_capped(searches, result, line, index)):
            if not isinstance(search, dict):
                result.issues.append(
                    InputIssue(
                        result.path,
                        f"FaceSearchResponse[{i}] is not an object",
                        line=line,
                        record=index,
                    )
                )
                continue
            result.events.append(
                Event(
                    source=NAME,
                    file=result.path,
                    time=when,
                    service="rekognition",
                    operation=OPERATION,
                    kind=OperationKind.IDENTIFICATION_1TON,
                    principal=principal,
                    record=index,
                    line=line,
                    event_id=f"{event_id}/{i}" if isinstance(event_id, str) else None,
                    attributes=_search_attributes(search, video, status),
                )
            )


def _search_attributes(
    search: dict[str, Any], video: dict[str, Any], status: Any
) -> tuple[tuple[str, str], ...]:
    """What one face search found (its matches, the best similarity, the matched faces' ids)
    and where in the video stream it was, as an event's attributes."""
    listed = search.get("MatchedFaces")
    matches = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    sims = [float(m["Similarity"]) for m in matches if isinstance(m.get("Similarity"), int | float)]
    faces = [f for f in (m.get("Face") for m in matches) if isinstance(f, dict)]
    attrs = {
        "match_count": str(len(matches)),
        "best_similarity": f"{max(sims):.2f}" if sims else None,
        "matched_face_ids": ",".join(str(f["FaceId"]) for f in faces if f.get("FaceId")),
        "external_image_ids": ",".join(
            str(f["ExternalImageId"]) for f in faces if f.get("ExternalImageId")
        ),
        "kinesis_video_stream": video.get("StreamArn"),
        "fragment_number": video.get("FragmentNumber"),
        "frame_offset_seconds": video.get("FrameOffsetInSeconds"),
        "stream_processor_status": status,
    }
    return tuple(sorted((k, str(v)) for k, v in attrs.items() if v is not None and v != ""))


def _capped(
    searches: list[Any], result: FileResult, line: int | None, index: int | None
) -> list[Any]:
    """At most MAX_SEARCHES_PER_FRAME searches of one frame; more is an error for the record."""
    if len(searches) <= MAX_SEARCHES_PER_FRAME:
        return searches
    result.issues.append(
        InputIssue(
            result.path,
            f"FaceSearchResponse has {len(searches):,} entries; Rekognition reports at most "
            f"{MAX_SEARCHES_PER_FRAME} faces per frame: only the first "
            f"{MAX_SEARCHES_PER_FRAME} are read",
            line=line,
            record=index,
        )
    )
    return searches[:MAX_SEARCHES_PER_FRAME]


def _principal(frame: dict[str, Any], wrapper: dict[str, Any], video: dict[str, Any]) -> Principal:
    arns = [
        a
        for a in (
            frame.get("StreamProcessorArn"),
            _dig(frame, "StreamProcessorInformation", "StreamProcessorArn"),
            wrapper.get("eventSourceARN"),
            video.get("StreamArn"),
        )
        if isinstance(a, str) and a.startswith("arn:")
    ]
    arns = list(dict.fromkeys(arns))
    if not arns:
        return Principal(id="unknown")
    parts = arns[0].split(":")
    account = parts[4] if len(parts) > 4 and parts[4] else None
    return Principal(id=arns[0], arns=tuple(arns), account=account)


SOURCE = KinesisRekognitionSource()
