"""Route catalogue entries of self-hosted face APIs (deepface, InsightFace-REST, Double Take,
Frigate): each request as the product declares it gets its kind, detection-only and unrelated
paths are not face matching, and an access log of them gives events of those kinds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.catalogue.routes import match_route, may_be_face_request
from auditor.core.models import OperationKind as K
from tests.conftest import make_bundle

#: (method, request target, service, kind), written from the products' route declarations
#: (see the source comments in auditor/catalogue/selfhosted.py), not from the table.
REQUESTS = [
    ("POST", "/verify", "deepface", K.VERIFICATION_1TO1),
    ("POST", "/VERIFY", "deepface", K.VERIFICATION_1TO1),
    ("POST", "/search", "deepface", K.IDENTIFICATION_1TON),
    ("POST", "/find", "deepface", K.IDENTIFICATION_1TON),
    ("POST", "/register", "deepface", K.ENROLMENT),
    ("POST", "/build/index", "deepface", K.ENROLMENT),
    ("POST", "/analyze", "deepface", K.FACE_ANALYSIS),
    ("POST", "/represent", "deepface", K.OTHER),
    ("POST", "/extract", "insightface_rest", K.FACE_DETECTION),
    ("POST", "/draw_detections", "insightface_rest", K.FACE_DETECTION),
    ("POST", "/multipart/draw_detections", "insightface_rest", K.FACE_DETECTION),
    ("POST", "/api/recognize", "double_take", K.IDENTIFICATION_1TON),
    (
        "GET",
        "/api/recognize?url=http://192.0.2.20/api/front/latest.jpg&camera=front&attempts=3",
        "double_take",
        K.IDENTIFICATION_1TON,
    ),
    ("POST", "/api/recognize/upload", "double_take", K.IDENTIFICATION_1TON),
    ("PATCH", "/api/match/reprocess/1620", "double_take", K.IDENTIFICATION_1TON),
    ("POST", "/api/train/add/jane", "double_take", K.ENROLMENT),
    ("GET", "/api/train/retrain/jane", "double_take", K.ENROLMENT),
    ("DELETE", "/api/train/remove/jane", "double_take", K.OTHER),
    ("GET", "/api/train/status", "double_take", K.OTHER),
    ("GET", "/api/train?sinceId=0&page=1", "double_take", K.OTHER),
    ("PATCH", "/api/train/2211", "double_take", K.OTHER),
    ("POST", "/api/faces/recognize", "frigate", K.IDENTIFICATION_1TON),
    ("POST", "/api/faces/reprocess", "frigate", K.IDENTIFICATION_1TON),
    ("POST", "/api/faces/train/jane/classify", "frigate", K.ENROLMENT),
    ("POST", "/api/faces/jane/create", "frigate", K.ENROLMENT),
    ("POST", "/api/faces/jane/register", "frigate", K.ENROLMENT),
    ("POST", "/api/faces/jane/reclassify", "frigate", K.ENROLMENT),
    ("POST", "/api/faces/jane/delete", "frigate", K.OTHER),
    ("PUT", "/api/faces/jane/rename", "frigate", K.OTHER),
    ("GET", "/api/faces", "frigate", K.OTHER),
]


@pytest.mark.parametrize(("method", "target", "service", "kind"), REQUESTS)
def test_declared_requests_get_service_and_kind(
    method: str, target: str, service: str, kind: K
) -> None:
    assert may_be_face_request(f"{method} {target} HTTP/1.1".encode())
    route = match_route(method, target)
    assert route is not None, f"{method} {target} is not in the catalogue"
    assert (route.service, route.kind) == (service, kind)


#: Detection-only endpoints: in the catalogue, but no face is compared or enrolled.
DETECTION_ONLY = [
    ("POST", "/extract"),
    ("POST", "/draw_detections"),
    ("POST", "/multipart/draw_detections"),
]


@pytest.mark.parametrize(("method", "target"), DETECTION_ONLY)
def test_detection_only_endpoints_are_not_face_matching(method: str, target: str) -> None:
    route = match_route(method, target)
    assert route is not None
    assert route.kind not in (K.IDENTIFICATION_1TON, K.VERIFICATION_1TO1, K.ENROLMENT)


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/verify"),  # deepface declares POST only
        ("POST", "/verify/"),  # Flask answers 404: not the route
        ("POST", "/account/verify"),
        ("POST", "/v2/search"),
        ("POST", "/extract_text"),
        ("GET", "/api/recognize/test"),  # Double Take's self-test on a bundled image
        ("GET", "/api/match"),
        ("DELETE", "/api/match"),
        ("GET", "/api/camera/front"),
        ("POST", "/api/train"),
        ("POST", "/api/faces/recognize/extra"),
        ("GET", "/api/faces/recognize"),
        ("GET", "/api/events"),
        ("GET", "/health"),
        ("GET", "/index.html"),
    ],
)
def test_unrelated_methods_and_paths_are_not_routes(method: str, target: str) -> None:
    assert match_route(method, target) is None


def test_unrelated_request_lines_fail_the_cheap_pre_test() -> None:
    assert not may_be_face_request(b"GET /index.html HTTP/1.1")
    assert not may_be_face_request(b"POST /api/events/123/retain HTTP/1.1")


#: One access line per request, combined format, documentation addresses (RFC 5737).
LOG_REQUESTS = [
    ("POST", "/verify"),
    ("POST", "/search"),
    ("POST", "/register"),
    ("POST", "/extract"),
    ("GET", "/api/recognize?url=http://192.0.2.20/latest.jpg&camera=front"),
    ("POST", "/api/train/add/jane"),
    ("POST", "/api/faces/recognize"),
    ("POST", "/api/faces/jane/register"),
    ("GET", "/index.html"),
    ("POST", "/verify/"),
]


def _access_log() -> bytes:
    return b"".join(
        b'192.0.2.10 - - [14/Mar/2026:09:12:%02d +0000] "%s %s HTTP/1.1" 200 312 "-" '
        b'"python-requests/2.31.0"\n' % (i, method.encode(), target.encode())
        for i, (method, target) in enumerate(LOG_REQUESTS)
    )


def test_access_log_of_self_hosted_calls_gives_events_of_their_kinds(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    bundle = make_bundle(tmp_path / "b", {"logs/api/access.log": _access_log()})
    out = tmp_path / "r.json"
    result = cli(
        "audit", bundle, "--format", "json", "--output", out, "--db", db_url, "--no-frames",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["summary"]["kinds"] == {
        "verification_1to1": 1,
        "identification_1toN": 3,
        "enrolment": 3,
        "face_detection": 1,
    }
    assert report["summary"]["face_operations"] == 7
