"""The route catalogue: which HTTP endpoint of a face API is which kind of face operation.

Access logs only say `POST /face/v1.0/identify?...`; this table turns such a request line into
a service, an operation and a kind. Like the operation catalogue
(`auditor.catalogue.operations`) it is one data table a reviewer can read in one place and a
test walks (tests/test_routes.py).

Patterns are paths with placeholders: `{v}` is an API version segment (`v1.0`, `v1.1-preview.1`,
`v1.2`, `v1.2-preview.1`), `{id}` any one path segment (person group ids, GUIDs). Matching
ignores the query string, a trailing slash and letter case (Azure paths are case-insensitive).
The first entry that matches the path and the method wins, so a specific route is listed before
a broader one. DeepStack and CodeProject.AI serve the same API, so both are `deepstack`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from auditor.core.models import OperationKind as K

_ANY: frozenset[str] = frozenset()
_POST = frozenset({"POST"})
_PUT = frozenset({"PUT"})
_WRITE = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Route:
    """One endpoint: service, path pattern, methods (empty = any), operation name and kind."""

    service: str
    pattern: str
    operation: str
    kind: K
    methods: frozenset[str] = _ANY
    #: A concrete request path the tests check against this entry.
    example: str = ""


_AZ = "/face/{v}"
_GROUPS = ("persongroups", "largepersongroups")

ROUTES: tuple[Route, ...] = (
    # Azure AI Face REST (v1.0, v1.1-preview, v1.2): 1:N, 1:1 and detection
    Route(
        "azure_face",
        f"{_AZ}/detect",
        "Detect",
        K.FACE_DETECTION,
        _POST,
        "/face/v1.0/detect?returnFaceId=true",
    ),
    Route(
        "azure_face",
        f"{_AZ}/identify",
        "Identify",
        K.IDENTIFICATION_1TON,
        _POST,
        "/face/v1.0/identify",
    ),
    Route("azure_face", f"{_AZ}/verify", "Verify", K.VERIFICATION_1TO1, _POST, "/face/v1.2/verify"),
    Route(
        "azure_face",
        f"{_AZ}/findsimilars",
        "FindSimilar",
        K.IDENTIFICATION_1TON,
        _POST,
        "/face/v1.0/findsimilars",
    ),
    Route("azure_face", f"{_AZ}/group", "Group", K.IDENTIFICATION_1TON, _POST, "/face/v1.0/group"),
    # liveness: with verify it is a 1:1 comparison against the session's reference image
    Route(
        "azure_face",
        f"{_AZ}/detectLivenessWithVerify/singleModal/sessions{{rest}}",
        "CreateLivenessWithVerifySession",
        K.VERIFICATION_1TO1,
        _POST,
        "/face/v1.1-preview.1/detectLivenessWithVerify/singleModal/sessions",
    ),
    Route(
        "azure_face",
        f"{_AZ}/detectLivenessWithVerify-sessions{{rest}}",
        "CreateLivenessWithVerifySession",
        K.VERIFICATION_1TO1,
        _POST,
        "/face/v1.2/detectLivenessWithVerify-sessions",
    ),
    # reading or deleting a session (and its audit entries) compares nothing
    Route(
        "azure_face",
        f"{_AZ}/detectLivenessWithVerify/singleModal/sessions{{rest}}",
        "LivenessWithVerifySession.Manage",
        K.OTHER,
        _ANY,
        "/face/v1.1-preview.1/detectLivenessWithVerify/singleModal/sessions/b12e033e-bda7-4b83-"
        "a211-e721c661f30e",
    ),
    Route(
        "azure_face",
        f"{_AZ}/detectLivenessWithVerify-sessions{{rest}}",
        "LivenessWithVerifySession.Manage",
        K.OTHER,
        _ANY,
        "/face/v1.2/detectLivenessWithVerify-sessions/b12e033e-bda7-4b83-a211-e721c661f30e",
    ),
    Route(
        "azure_face",
        f"{_AZ}/detectLiveness/singleModal/sessions{{rest}}",
        "CreateLivenessSession",
        K.FACE_ANALYSIS,
        _POST,
        "/face/v1.1-preview.1/detectLiveness/singleModal/sessions",
    ),
    Route(
        "azure_face",
        f"{_AZ}/detectLiveness-sessions{{rest}}",
        "CreateLivenessSession",
        K.FACE_ANALYSIS,
        _POST,
        "/face/v1.2/detectLiveness-sessions",
    ),
    # galleries: person groups and large person groups (create, persons, faces, training)
    *(
        r
        for g in _GROUPS
        for r in (
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}/persons/{{id}}/persistedfaces",
                f"{g}.Person.AddFace",
                K.ENROLMENT,
                _POST,
                f"/face/v1.0/{g}/pg-1/persons/25985303-c537-4467-b41d-bdb45cd95ca1/persistedfaces"
                "?detectionModel=detection_03",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}/persons",
                f"{g}.Person.Create",
                K.ENROLMENT,
                _POST,
                f"/face/v1.0/{g}/pg-1/persons",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}/train",
                f"{g}.Train",
                K.ENROLMENT,
                _POST,
                f"/face/v1.0/{g}/pg-1/train",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}",
                f"{g}.Create",
                K.ENROLMENT,
                _PUT,
                f"/face/v1.0/{g}/watchlist-7",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}{{rest}}",
                f"{g}.Manage",
                K.OTHER,
                _ANY,
                f"/face/v1.0/{g}/pg-1/training",
            ),
        )
    ),
    # face lists and large face lists (FindSimilar galleries)
    *(
        r
        for g in ("facelists", "largefacelists")
        for r in (
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}/persistedfaces",
                f"{g}.AddFace",
                K.ENROLMENT,
                _POST,
                f"/face/v1.0/{g}/fl-1/persistedfaces?userData=x",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}/train",
                f"{g}.Train",
                K.ENROLMENT,
                _POST,
                f"/face/v1.0/{g}/fl-1/train",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}/{{id}}",
                f"{g}.Create",
                K.ENROLMENT,
                _PUT,
                f"/face/v1.0/{g}/fl-1",
            ),
            Route(
                "azure_face",
                f"{_AZ}/{g}{{rest}}",
                f"{g}.Manage",
                K.OTHER,
                _ANY,
                f"/face/v1.0/{g}/fl-1/persistedfaces/0b1f3d2e-8c1d-4d61-9c4b-0e9e3f2c6a11",
            ),
        )
    ),
    # person directory (v1.1-preview, v1.2): persons, their faces, dynamic person groups
    Route(
        "azure_face",
        f"{_AZ}/persons/{{id}}/recognitionModels/{{id}}/persistedfaces",
        "PersonDirectory.AddFace",
        K.ENROLMENT,
        _POST,
        "/face/v1.2/persons/85c0c630-c9c9-40f8-8a4e-f9ae4f926ea5/recognitionModels/"
        "recognition_04/persistedfaces",
    ),
    Route(
        "azure_face",
        f"{_AZ}/persons",
        "PersonDirectory.CreatePerson",
        K.ENROLMENT,
        _POST,
        "/face/v1.1-preview.1/persons",
    ),
    Route(
        "azure_face",
        f"{_AZ}/dynamicpersongroups/{{id}}",
        "DynamicPersonGroup.Create",
        K.ENROLMENT,
        _WRITE,
        "/face/v1.2/dynamicpersongroups/dpg-1",
    ),
    Route(
        "azure_face",
        f"{_AZ}/persons{{rest}}",
        "PersonDirectory.Manage",
        K.OTHER,
        _ANY,
        "/face/v1.2/persons/85c0c630-c9c9-40f8-8a4e-f9ae4f926ea5",
    ),
    Route(
        "azure_face",
        f"{_AZ}/dynamicpersongroups{{rest}}",
        "DynamicPersonGroup.Manage",
        K.OTHER,
        _ANY,
        "/face/v1.2/dynamicpersongroups",
    ),
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
_MARKERS = ("/face/", "/api/v1/", "/v1/vision/face", "/facepp/")


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
    if not any(m in low for m in _MARKERS):
        return None
    verb = method.upper()
    for regex, route in _COMPILED:
        if regex.fullmatch(path) and (not route.methods or verb in route.methods):
            return route
    return None


def may_be_face_request(request: bytes) -> bool:
    """Cheap pre-test on a raw request line: False means neither a catalogue route nor a path
    that looks like face matching can be in it (every pattern holds `face` or `/api/v1/`)."""
    low = request.lower()
    return b"face" in low or b"/api/v1/" in low
