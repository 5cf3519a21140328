"""The operation catalogue: which vendor operation is which kind of face operation.

It is one data table (`CATALOGUE`) rather than knowledge spread through parsers, so a reviewer
can read every mapping in one place and a test can walk it. Operations that are not in the table
but whose names look like face matching are still surfaced as `suspected_face_matching`, so a
renamed or new API never passes in silence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from auditor.core.models import OperationKind as K

#: Canonical service names, and the spellings logs use for them.
SERVICE_ALIASES: dict[str, str] = {
    "rekognition.amazonaws.com": "rekognition",
    "aws.rekognition": "rekognition",
    "rekognition": "rekognition",
    "amazon rekognition": "rekognition",
    "azure-face": "azure_face",
    "azure_face": "azure_face",
    "azure face": "azure_face",
    "face": "azure_face",
    "cognitiveservices.azure.com": "azure_face",
    "microsoft.cognitiveservices": "azure_face",
    "vision.googleapis.com": "google_vision",
    "google_vision": "google_vision",
    "video_indexer": "video_indexer",
    "videoindexer": "video_indexer",
    "video indexer": "video_indexer",
    "video-indexer": "video_indexer",
    "api.videoindexer.ai": "video_indexer",
    "microsoft.videoindexer": "video_indexer",
    "azure_openai": "azure_openai",
    "azure-openai": "azure_openai",
    "azure openai": "azure_openai",
    "openai.azure.com": "azure_openai",
    "face_recognition": "face_recognition",
    "deepface": "deepface",
    "opencv": "opencv",
    "cv2": "opencv",
    "insightface": "insightface",
    "ring": "ring_neighbors",
    "ring_neighbors": "ring_neighbors",
    "neighbors": "ring_neighbors",
    # authorities and reviewers: records that policy duties link to a face operation
    "authority": "authority",
    "court": "authority",
    "review": "review",
    # a pipeline's own face analyser (emotion recognition, biometric categorisation)
    "analyzer": "analyzer",
    "face_analyzer": "analyzer",
    "analyser": "analyzer",
    # Clearview AI's search service as its customers' logs name it
    "clearview": "clearview",
    "clearview_ai": "clearview",
    "clearview ai": "clearview",
}

#: (service, operation) -> kind. Operation names are compared case-insensitively with `_`, `-`,
#: `.` and spaces removed, so `SearchFacesByImage`, `search_faces_by_image` and
#: `search-faces-by-image` are one entry.
CATALOGUE: dict[tuple[str, str], K] = {
    # Amazon Rekognition: 1:N search (images, stored faces, users, video, live streams, celebrities)
    ("rekognition", "SearchFacesByImage"): K.IDENTIFICATION_1TON,
    ("rekognition", "SearchFaces"): K.IDENTIFICATION_1TON,
    ("rekognition", "SearchUsersByImage"): K.IDENTIFICATION_1TON,
    ("rekognition", "SearchUsers"): K.IDENTIFICATION_1TON,
    ("rekognition", "StartFaceSearch"): K.IDENTIFICATION_1TON,
    ("rekognition", "GetFaceSearch"): K.IDENTIFICATION_1TON,
    ("rekognition", "CreateStreamProcessor"): K.IDENTIFICATION_1TON,
    ("rekognition", "StartStreamProcessor"): K.IDENTIFICATION_1TON,
    ("rekognition", "RecognizeCelebrities"): K.IDENTIFICATION_1TON,
    ("rekognition", "StartCelebrityRecognition"): K.IDENTIFICATION_1TON,
    ("rekognition", "GetCelebrityRecognition"): K.IDENTIFICATION_1TON,
    # 1:1
    ("rekognition", "CompareFaces"): K.VERIFICATION_1TO1,
    # enrolment into a gallery / watch-list
    ("rekognition", "CreateCollection"): K.ENROLMENT,
    ("rekognition", "IndexFaces"): K.ENROLMENT,
    ("rekognition", "CreateUser"): K.ENROLMENT,
    ("rekognition", "AssociateFaces"): K.ENROLMENT,
    # detection and analysis: no identity claim
    ("rekognition", "DetectFaces"): K.FACE_DETECTION,
    ("rekognition", "StartFaceDetection"): K.FACE_DETECTION,
    ("rekognition", "GetFaceDetection"): K.FACE_DETECTION,
    ("rekognition", "CreateFaceLivenessSession"): K.FACE_ANALYSIS,
    ("rekognition", "GetFaceLivenessSessionResults"): K.FACE_ANALYSIS,
    ("rekognition", "GetCelebrityInfo"): K.FACE_ANALYSIS,
    # gallery maintenance: face-related but neither a match nor an enrolment
    ("rekognition", "DeleteCollection"): K.OTHER,
    ("rekognition", "DeleteFaces"): K.OTHER,
    ("rekognition", "DisassociateFaces"): K.OTHER,
    ("rekognition", "DeleteUser"): K.OTHER,
    ("rekognition", "ListFaces"): K.OTHER,
    ("rekognition", "ListUsers"): K.OTHER,
    ("rekognition", "ListCollections"): K.OTHER,
    ("rekognition", "DescribeCollection"): K.OTHER,
    # Azure Face
    ("azure_face", "Identify"): K.IDENTIFICATION_1TON,
    ("azure_face", "FindSimilar"): K.IDENTIFICATION_1TON,
    ("azure_face", "FindSimilars"): K.IDENTIFICATION_1TON,  # the REST path /findsimilars
    ("azure_face", "Group"): K.IDENTIFICATION_1TON,
    ("azure_face", "Verify"): K.VERIFICATION_1TO1,
    ("azure_face", "PersonGroupPersonAddFace"): K.ENROLMENT,
    ("azure_face", "PersonGroupAddFace"): K.ENROLMENT,
    ("azure_face", "LargePersonGroupPersonAddFace"): K.ENROLMENT,
    ("azure_face", "FaceListAddFace"): K.ENROLMENT,
    ("azure_face", "LargeFaceListAddFace"): K.ENROLMENT,
    ("azure_face", "PersonGroupTrain"): K.ENROLMENT,
    ("azure_face", "Detect"): K.FACE_DETECTION,
    # Google Cloud Vision (audit-log method names): face detection only, and only when the
    # request asks for FACE_DETECTION (auditor/sources/gcp_audit.py checks the features)
    ("google_vision", "ImageAnnotator.BatchAnnotateImages"): K.FACE_DETECTION,
    ("google_vision", "ImageAnnotator.AsyncBatchAnnotateImages"): K.FACE_DETECTION,
    ("google_vision", "ImageAnnotator.BatchAnnotateFiles"): K.FACE_DETECTION,
    ("google_vision", "ImageAnnotator.AsyncBatchAnnotateFiles"): K.FACE_DETECTION,
    # Azure AI Video Indexer: indexing a video runs face identification (celebrity recognition
    # and the account's Person models); naming a face trains the Person model on it
    ("video_indexer", "UploadVideo"): K.IDENTIFICATION_1TON,
    ("video_indexer", "ReIndexVideo"): K.IDENTIFICATION_1TON,
    ("video_indexer", "UpdateFaceName"): K.ENROLMENT,
    ("video_indexer", "CreatePersonModel"): K.ENROLMENT,
    ("video_indexer", "CreatePerson"): K.ENROLMENT,
    ("video_indexer", "AddFace"): K.ENROLMENT,
    ("video_indexer", "GetVideoIndex"): K.OTHER,
    # local libraries
    ("face_recognition", "compare_faces"): K.VERIFICATION_1TO1,
    ("face_recognition", "face_distance"): K.VERIFICATION_1TO1,
    ("face_recognition", "face_encodings"): K.ENROLMENT,
    ("face_recognition", "face_locations"): K.FACE_DETECTION,
    ("deepface", "find"): K.IDENTIFICATION_1TON,
    ("deepface", "verify"): K.VERIFICATION_1TO1,
    ("deepface", "represent"): K.ENROLMENT,
    ("deepface", "analyze"): K.FACE_ANALYSIS,
    ("opencv", "FaceRecognizerSF.match"): K.VERIFICATION_1TO1,
    ("opencv", "FaceRecognizerSF.feature"): K.ENROLMENT,
    ("opencv", "FaceDetectorYN.detect"): K.FACE_DETECTION,
    ("insightface", "FaceAnalysis.get"): K.ENROLMENT,
    ("insightface", "search"): K.IDENTIFICATION_1TON,
    ("insightface", "compare"): K.VERIFICATION_1TO1,
    # Ring Neighbors: requests for residents' footage and posts in the public feed
    ("ring_neighbors", "RequestForAssistance"): K.FOOTAGE_REQUEST,
    ("ring_neighbors", "CommunityRequest"): K.FOOTAGE_REQUEST,
    ("ring_neighbors", "FootageRequest"): K.FOOTAGE_REQUEST,
    ("ring_neighbors", "PublicPost"): K.PUBLIC_POST,
    # Authorisations (requested, granted, refused) and human reviews of a match: the policy
    # engine links them to the face operation they concern (docs/packs.md, duties).
    ("authority", "AuthorisationRequest"): K.AUTHORISATION,
    ("authority", "AuthorisationGranted"): K.AUTHORISATION,
    ("authority", "AuthorisationRefused"): K.AUTHORISATION,
    ("authority", "Warrant"): K.AUTHORISATION,
    ("authority", "CourtOrder"): K.AUTHORISATION,
    ("review", "HumanReview"): K.HUMAN_REVIEW,
    ("review", "MatchReview"): K.HUMAN_REVIEW,
    # a pipeline's own face tracker, following people across cameras or time (RCW 43.386)
    ("tracker", "FaceTrack"): K.PERSISTENT_TRACKING,
    ("tracker", "TrackPerson"): K.PERSISTENT_TRACKING,
    # a pipeline's own analyser inferring emotions (EU AI Act 5(1)(f)) or sorting people into
    # categories such as ethnicity or religion from their faces (5(1)(g))
    ("analyzer", "EmotionRecognition"): K.EMOTION_RECOGNITION,
    ("analyzer", "InferEmotion"): K.EMOTION_RECOGNITION,
    ("analyzer", "DetectEmotion"): K.EMOTION_RECOGNITION,
    ("analyzer", "BiometricCategorisation"): K.BIOMETRIC_CATEGORISATION,
    ("analyzer", "BiometricCategorization"): K.BIOMETRIC_CATEGORISATION,
    ("analyzer", "CategorisePerson"): K.BIOMETRIC_CATEGORISATION,
    # Clearview AI: a probe photo searched against its scraped gallery (1:N)
    ("clearview", "Search"): K.IDENTIFICATION_1TON,
    ("clearview", "FaceSearch"): K.IDENTIFICATION_1TON,
    ("clearview", "SearchByImage"): K.IDENTIFICATION_1TON,
}

_SQUASH = re.compile(r"[\s_.\-]+")


def _squash(name: str) -> str:
    return _SQUASH.sub("", name).lower()


_INDEX: dict[tuple[str, str], K] = {
    (svc, _squash(op)): kind for (svc, op), kind in CATALOGUE.items()
}
_SERVICES = frozenset(svc for svc, _ in CATALOGUE)

# "face" plus a matching verb anywhere in the name, in any case style (camelCase, snake, kebab).
_FACE = re.compile(r"face", re.IGNORECASE)
_MATCH_VERB = re.compile(r"compare|match|search|identif|verif|recogni", re.IGNORECASE)


def canonical_service(service: str) -> str:
    """Map a log's service spelling to the catalogue's name; unknown ones are lower-cased."""
    key = service.strip().lower()
    return SERVICE_ALIASES.get(key, key)


@lru_cache(maxsize=4096)
def classify(service: str, operation: str) -> K | None:
    """The kind of `operation` on `service`, or None when it is not face-related at all.

    Cached: real logs repeat a few hundred (service, operation) pairs millions of times.
    """
    svc = canonical_service(service)
    kind = _INDEX.get((svc, _squash(operation)))
    if kind is not None:
        return kind
    if looks_like_face_matching(operation):
        return K.SUSPECTED_FACE_MATCHING
    return None


def looks_like_face_matching(operation: str) -> bool:
    """True for names such as `MatchFaceTemplate`, `face_search_v2`, `verify-face`."""
    return bool(_FACE.search(operation) and _MATCH_VERB.search(operation))
