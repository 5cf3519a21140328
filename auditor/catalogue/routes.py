"""The route catalogue: which HTTP endpoint of a face API is which kind of face operation.

Access logs only say `POST /face/v1.0/identify?...`; this table turns such a request line into
a service, an operation and a kind. Like the operation catalogue
(`auditor.catalogue.operations`) it is one data table a reviewer can read in one place and a
test walks (tests/catalogue/test_routes.py).

Patterns are paths with placeholders: `{v}` is an API version segment (`v1.0`, `v1.1-preview.1`,
`v1.2`, `v1.2-preview.1`), `{id}` any one path segment (person group ids, GUIDs). Matching
ignores the query string, a trailing slash and letter case (Azure paths are case-insensitive).
The first entry that matches the path and the method wins, so a specific route is listed before
a broader one. DeepStack and CodeProject.AI serve the same API, so both are `deepstack`.
Azure AI Face's entries are in `auditor.catalogue.azure`; the self-hosted APIs (deepface,
InsightFace-REST, Double Take, Frigate) are in `auditor.catalogue.selfhosted`, and their
root-level paths (`/verify`, `/extract`) match only exactly, without a trailing slash.
"""

from __future__ import annotations

import re
from functools import lru_cache

from auditor.catalogue.azure import AZURE
from auditor.catalogue.route import ANY as _ANY
from auditor.catalogue.route import POST as _POST
from auditor.catalogue.route import Route
from auditor.catalogue.selfhosted import EXACT_PATHS, PREFIXES, SELF_HOSTED
from auditor.core.models import OperationKind as K

__all__ = ["ROUTES", "Route", "match_route", "may_be_face_request", "request_path"]

ROUTES: tuple[Route, ...] = (
    # Azure AI Face (auditor.catalogue.azure)
    *AZURE,
    # CompreFace (recognition, verification and detection services)
    Route(
        "compreface",
        "/api/v1/recognition/recognize",
        "recognize",
        K.IDENTIFICATION_1TON,
        _POST,
        "/api/v1/recognition/recognize?limit=0&prediction_count=1",
    ),
    Route(
        "compreface",
        "/api/v1/recognition/faces/{id}/verify",
        "verify_by_image_id",
        K.VERIFICATION_1TO1,
        _POST,
        "/api/v1/recognition/faces/f7c8a1d2-3b4e-4f5a-9c6d-7e8f9a0b1c2d/verify",
    ),
    Route(
        "compreface",
        "/api/v1/recognition/verify",
        "verify",
        K.VERIFICATION_1TO1,
        _POST,
        "/api/v1/recognition/verify",
    ),
    Route(
        "compreface",
        "/api/v1/verification/verify",
        "verification.verify",
        K.VERIFICATION_1TO1,
        _POST,
        "/api/v1/verification/verify",
    ),
    Route(
        "compreface",
        "/api/v1/recognition/faces",
        "add_face",
        K.ENROLMENT,
        _POST,
        "/api/v1/recognition/faces?subject=jane&det_prob_threshold=0.8",
    ),
    Route(
        "compreface",
        "/api/v1/recognition/subjects",
        "add_subject",
        K.ENROLMENT,
        _POST,
        "/api/v1/recognition/subjects",
    ),
    Route(
        "compreface",
        "/api/v1/recognition{rest}",
        "manage",
        K.OTHER,
        _ANY,
        "/api/v1/recognition/faces?page=0&size=20",
    ),
    Route(
        "compreface",
        "/api/v1/detection/detect",
        "detect",
        K.FACE_DETECTION,
        _POST,
        "/api/v1/detection/detect?face_plugins=age,gender",
    ),
    # DeepStack and CodeProject.AI Server
    Route(
        "deepstack",
        "/v1/vision/face/recognize",
        "face.recognize",
        K.IDENTIFICATION_1TON,
        _POST,
        "/v1/vision/face/recognize",
    ),
    Route(
        "deepstack",
        "/v1/vision/face/register",
        "face.register",
        K.ENROLMENT,
        _POST,
        "/v1/vision/face/register",
    ),
    Route(
        "deepstack",
        "/v1/vision/face/match",
        "face.match",
        K.VERIFICATION_1TO1,
        _POST,
        "/v1/vision/face/match",
    ),
    Route("deepstack", "/v1/vision/face", "face", K.FACE_DETECTION, _POST, "/v1/vision/face"),
    Route(
        "deepstack", "/v1/vision/face{rest}", "face.manage", K.OTHER, _ANY, "/v1/vision/face/list"
    ),
    # Face++ (Megvii)
    Route(
        "faceplusplus",
        "/facepp/v3/search",
        "search",
        K.IDENTIFICATION_1TON,
        _POST,
        "/facepp/v3/search",
    ),
    Route(
        "faceplusplus",
        "/facepp/v3/compare",
        "compare",
        K.VERIFICATION_1TO1,
        _POST,
        "/facepp/v3/compare",
    ),
    Route(
        "faceplusplus", "/facepp/v3/detect", "detect", K.FACE_DETECTION, _POST, "/facepp/v3/detect"
    ),
    Route(
        "faceplusplus",
        "/facepp/v3/face/analyze",
        "face.analyze",
        K.FACE_ANALYSIS,
        _POST,
        "/facepp/v3/face/analyze",
    ),
    Route(
        "faceplusplus",
        "/facepp/v3/faceset/addface",
        "faceset.addface",
        K.ENROLMENT,
        _POST,
        "/facepp/v3/faceset/addface",
    ),
    Route(
        "faceplusplus",
        "/facepp/v3/faceset/create",
        "faceset.create",
        K.ENROLMENT,
        _POST,
        "/facepp/v3/faceset/create",
    ),
    Route(
        "faceplusplus",
        "/facepp/v3/faceset{rest}",
        "faceset.manage",
        K.OTHER,
        _ANY,
        "/facepp/v3/faceset/removeface",
    ),
    # deepface, InsightFace-REST, Double Take, Frigate (auditor.catalogue.selfhosted)
    *SELF_HOSTED,
)

_VERSION = r"v\d+(?:\.\d+)?(?:-preview(?:\.\d+)?)?"
_PLACEHOLDER = re.compile(r"\{(v|id|rest)\}")


def _compile(pattern: str) -> re.Pattern[str]:
    parts = []
    pos = 0
    for m in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[pos : m.start()]))
        name = m.group(1)
        parts.append(_VERSION if name == "v" else "[^/]+" if name == "id" else "(?:/.*)?")
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts) + "/?", re.IGNORECASE)


_COMPILED = tuple((_compile(r.pattern), r) for r in ROUTES)
#: Cheap first test: a path that holds none of these cannot be in the catalogue.
_MARKERS = ("/face/", "/api/v1/", "/v1/vision/face", "/facepp/", *PREFIXES)
#: Raw request-line markers of `may_be_face_request` beyond `face` and `/api/v1/`.
_RAW_MARKERS = tuple(
    m.encode() for m in (*PREFIXES, *EXACT_PATHS) if "face" not in m and "/api/v1/" not in m
)


def request_path(target: str) -> str:
    """The path of a request target: query and fragment dropped, an absolute URL's host too."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:
        rest = path.split("://", 1)[1]
        path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path


@lru_cache(maxsize=8192)
def match_route(method: str, target: str) -> Route | None:
    """The catalogue entry for `method target`, or None when it is not a face-API endpoint."""
    path = request_path(target)
    low = path.lower()
    if low not in EXACT_PATHS and not any(m in low for m in _MARKERS):
        return None
    verb = method.upper()
    for regex, route in _COMPILED:
        if regex.fullmatch(path) and (not route.methods or verb in route.methods):
            return route
    return None


def may_be_face_request(request: bytes) -> bool:
    """Cheap pre-test on a raw request line: False means neither a catalogue route nor a path
    that looks like face matching can be in it (every pattern holds `face`, `/api/v1/` or one
    of the self-hosted paths and prefixes)."""
    low = request.lower()
    return b"face" in low or b"/api/v1/" in low or any(m in low for m in _RAW_MARKERS)
