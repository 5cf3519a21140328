"""The catalogue covers every operation DESIGN.md names; face-like names are never lost."""

from __future__ import annotations

import pytest

from auditor.catalogue.operations import CATALOGUE, classify
from auditor.core.models import OperationKind as K

NAMED = {
    ("rekognition.amazonaws.com", "SearchFacesByImage"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "SearchFaces"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "SearchUsers"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "SearchUsersByImage"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "StartFaceSearch"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "CreateStreamProcessor"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "RecognizeCelebrities"): K.IDENTIFICATION_1TON,
    ("rekognition.amazonaws.com", "CompareFaces"): K.VERIFICATION_1TO1,
    ("rekognition.amazonaws.com", "CreateCollection"): K.ENROLMENT,
    ("rekognition.amazonaws.com", "IndexFaces"): K.ENROLMENT,
    ("rekognition.amazonaws.com", "CreateUser"): K.ENROLMENT,
    ("rekognition.amazonaws.com", "AssociateFaces"): K.ENROLMENT,
    ("rekognition.amazonaws.com", "DetectFaces"): K.FACE_DETECTION,
    ("rekognition.amazonaws.com", "StartFaceDetection"): K.FACE_DETECTION,
    ("azure-face", "identify"): K.IDENTIFICATION_1TON,
    ("azure-face", "verify"): K.VERIFICATION_1TO1,
    ("azure-face", "findsimilars"): K.IDENTIFICATION_1TON,
    ("azure-face", "PersonGroupPersonAddFace"): K.ENROLMENT,
    ("face_recognition", "compare_faces"): K.VERIFICATION_1TO1,
    ("face_recognition", "face_distance"): K.VERIFICATION_1TO1,
    ("deepface", "find"): K.IDENTIFICATION_1TON,
    ("deepface", "verify"): K.VERIFICATION_1TO1,
    ("opencv", "FaceRecognizerSF.match"): K.VERIFICATION_1TO1,
    ("insightface", "search"): K.IDENTIFICATION_1TON,
    ("api.videoindexer.ai", "Upload-Video"): K.IDENTIFICATION_1TON,
    ("Video Indexer", "re_index_video"): K.IDENTIFICATION_1TON,
    ("videoindexer", "UpdateFaceName"): K.ENROLMENT,
    ("video_indexer", "CreatePerson"): K.ENROLMENT,
}


@pytest.mark.parametrize(("service", "operation"), sorted(NAMED))
def test_named_operations(service: str, operation: str) -> None:
    assert classify(service, operation) == NAMED[(service, operation)]


@pytest.mark.parametrize(
    "spelling",
    [
        "search_faces_by_image",
        "search-faces-by-image",
        "SEARCHFACESBYIMAGE",
        "Search Faces By Image",
    ],
)
def test_case_styles(spelling: str) -> None:
    assert classify("rekognition", spelling) is K.IDENTIFICATION_1TON


@pytest.mark.parametrize(
    "name",
    [
        "MatchFaceTemplate",
        "face_search_v2",
        "verify-face",
        "identifyFaces",
        "FACE_COMPARE",
        "recogniseFace",
    ],
)
def test_unknown_face_like_operations_are_suspected(name: str) -> None:
    assert classify("vendorx", name) is K.SUSPECTED_FACE_MATCHING


@pytest.mark.parametrize(
    "name", ["DescribeInstances", "GetObject", "DetectLabels", "Facebook", "SearchProducts"]
)
def test_background_operations_are_not_face_related(name: str) -> None:
    assert classify("vendorx", name) is None


def test_catalogue_has_only_known_kinds() -> None:
    assert set(CATALOGUE.values()) <= set(K)
