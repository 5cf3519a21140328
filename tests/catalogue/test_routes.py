"""The route catalogue: every entry matches its own example, and real paths get the right kind."""

from __future__ import annotations

import pytest

from auditor.catalogue.routes import ROUTES, Route, match_route, may_be_face_request, request_path
from auditor.core.models import OperationKind as K


def _method(route: Route) -> str:
    return sorted(route.methods)[0] if route.methods else "GET"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.service}:{r.pattern}:{r.operation}")
def test_every_route_matches_its_example_and_is_not_shadowed(route: Route) -> None:
    assert route.example, "every route needs a concrete example path"
    assert may_be_face_request(f"{_method(route)} {route.example.upper()} HTTP/1.1".encode())
    found = match_route(_method(route), route.example)
    assert found is route, f"{route.example} went to {found}"
    assert found.kind is route.kind


#: Concrete requests as the products' docs write them, with the kind a reviewer expects; written
#: independently of the table so a wrong kind in it fails here.
REQUESTS = [
    (
        "POST",
        "/face/v1.0/detect?returnFaceId=true&recognitionModel=recognition_04",
        K.FACE_DETECTION,
    ),
    ("POST", "/face/v1.0/identify", K.IDENTIFICATION_1TON),
    ("POST", "/face/v1.2/identify", K.IDENTIFICATION_1TON),
    ("POST", "/face/v1.1-preview.1/identify", K.IDENTIFICATION_1TON),
    ("POST", "/face/v1.0/verify", K.VERIFICATION_1TO1),
    ("POST", "/face/v1.0/findsimilars", K.IDENTIFICATION_1TON),
    ("POST", "/face/v1.0/FindSimilars/", K.IDENTIFICATION_1TON),
    ("POST", "/face/v1.0/group", K.IDENTIFICATION_1TON),
    ("PUT", "/face/v1.0/persongroups/metro-watchlist", K.ENROLMENT),
    ("GET", "/face/v1.0/persongroups/metro-watchlist", K.OTHER),
    ("DELETE", "/face/v1.0/persongroups/metro-watchlist", K.OTHER),
    ("POST", "/face/v1.0/persongroups/metro-watchlist/persons", K.ENROLMENT),
    ("GET", "/face/v1.0/persongroups/metro-watchlist/persons?top=1000", K.OTHER),
    (
        "POST",
        "/face/v1.0/persongroups/metro-watchlist/persons/"
        "25985303-c537-4467-b41d-bdb45cd95ca1/persistedFaces?userData=cam4",
        K.ENROLMENT,
    ),
    ("POST", "/face/v1.0/largepersongroups/lpg-2/train", K.ENROLMENT),
    ("GET", "/face/v1.0/largepersongroups/lpg-2/training", K.OTHER),
    ("POST", "/face/v1.0/largefacelists/shoplifters/persistedfaces", K.ENROLMENT),
    ("POST", "/face/v1.0/facelists/shoplifters/persistedfaces", K.ENROLMENT),
    (
        "POST",
        "/face/v1.2/persons/0b1f3d2e-8c1d-4d61-9c4b-0e9e3f2c6a11/recognitionModels/"
        "recognition_04/persistedfaces",
        K.ENROLMENT,
    ),
    ("POST", "/face/v1.2/detectLivenessWithVerify-sessions", K.VERIFICATION_1TO1),
    (
        "POST",
        "/face/v1.1-preview.1/detectLivenessWithVerify/singleModal/sessions",
        K.VERIFICATION_1TO1,
    ),
    ("POST", "/face/v1.2/detectLiveness-sessions", K.FACE_ANALYSIS),
    (
        "GET",
        "/face/v1.2/detectLivenessWithVerify-sessions/b12e033e-bda7-4b83-a211-e721c661f30e",
        K.OTHER,
    ),
    ("DELETE", "/face/v1.2/detectLivenessWithVerify-sessions/b12e033e", K.OTHER),
    ("POST", "/api/v1/recognition/recognize?limit=0&det_prob_threshold=0.8", K.IDENTIFICATION_1TON),
    (
        "POST",
        "/api/v1/recognition/faces/3a5b7c9d-0000-4000-8000-000000000001/verify",
        K.VERIFICATION_1TO1,
    ),
    ("POST", "/api/v1/recognition/verify", K.VERIFICATION_1TO1),
    ("POST", "/api/v1/verification/verify?limit=1", K.VERIFICATION_1TO1),
    ("POST", "/api/v1/recognition/faces?subject=jane", K.ENROLMENT),
    ("GET", "/api/v1/recognition/faces?subject=jane", K.OTHER),
    ("DELETE", "/api/v1/recognition/faces/3a5b7c9d-0000-4000-8000-000000000001", K.OTHER),
    ("POST", "/api/v1/detection/detect", K.FACE_DETECTION),
    ("POST", "/v1/vision/face/recognize", K.IDENTIFICATION_1TON),
    ("POST", "/v1/vision/face/register", K.ENROLMENT),
    ("POST", "/v1/vision/face/match", K.VERIFICATION_1TO1),
    ("POST", "/v1/vision/face", K.FACE_DETECTION),
    ("POST", "/v1/vision/face/list", K.OTHER),
    ("POST", "/facepp/v3/search", K.IDENTIFICATION_1TON),
    ("POST", "/facepp/v3/compare", K.VERIFICATION_1TO1),
    ("POST", "/facepp/v3/detect", K.FACE_DETECTION),
    ("POST", "/facepp/v3/faceset/addface", K.ENROLMENT),
    ("POST", "https://api-us.faceplusplus.com/facepp/v3/search", K.IDENTIFICATION_1TON),
]


@pytest.mark.parametrize(("method", "path", "kind"), REQUESTS)
def test_documented_requests_get_their_kind(method: str, path: str, kind: K) -> None:
    route = match_route(method, path)
    assert route is not None and route.kind is kind


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/healthz",
        "/v1/vision/detection",
        "/face/v1.0/",
        "/api/v2/recognition/recognize",
        "/facepp/v3",
        "/face/v1.0/identify/extra",
    ],
)
def test_other_paths_are_not_face_routes(path: str) -> None:
    assert match_route("POST", path) is None


def test_request_path_drops_query_fragment_and_host() -> None:
    assert request_path("/a/b?x=1#f") == "/a/b"
    assert request_path("http://h:80/a?x") == "/a"
    assert request_path("http://h") == "/"
