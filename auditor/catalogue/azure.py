"""Route table of Azure AI Face REST (v1.0, v1.1-preview, v1.2): 1:N, 1:1, galleries, liveness.

`auditor.catalogue.routes` puts these entries first in its table; `{v}` there matches an API
version segment, `{id}` one path segment and `{rest}` the remainder of the path.
"""

from __future__ import annotations

from auditor.catalogue.route import ANY as _ANY
from auditor.catalogue.route import POST as _POST
from auditor.catalogue.route import PUT as _PUT
from auditor.catalogue.route import WRITE as _WRITE
from auditor.catalogue.route import Route
from auditor.core.models import OperationKind as K

_AZ = "/face/{v}"
_GROUPS = ("persongroups", "largepersongroups")

AZURE: tuple[Route, ...] = (
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
)
