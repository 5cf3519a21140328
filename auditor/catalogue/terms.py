"""The words that name a face-matching call in free text, for the suspected sweep.

A line that no source could read may still be a face search: an SDK exception
(`... when calling the SearchFacesByImage operation`), an IAM denial (`not authorized to
perform: rekognition:SearchFacesByImage`), a traceback through `face_recognition.compare_faces`,
a request to `/face/v1.0/identify` in a log of unknown format. `TERMS` is built from the
operation catalogue (`operations.CATALOGUE`) and the route catalogue (`routes.ROUTES`), so there
is still one table of what is a face operation, plus `SDK_TERMS`, the method names SDKs and
libraries use that the catalogue spells otherwise.

Only the kinds that compare or store identities (`MATCHING_KINDS`) are terms: face detection
and label detection (`DetectFaces`, `DetectLabels`, `GetLabelDetection`) are not a search.
An operation name is a term on its own only when it cannot be an everyday word: it has `face`,
`celebrit`, `persongroup`, `streamprocessor` or `usersbyimage` in it. Any other one
(`CreateUser`, `Identify`, `verify`, `find`) counts only qualified by its service, as
`rekognition:CreateUser`, `DeepFace.verify` or `insightface.search`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.catalogue.operations import CATALOGUE
from auditor.catalogue.routes import ROUTES
from auditor.core.models import MATCHING_KINDS
from auditor.core.models import OperationKind as K


@dataclass(frozen=True)
class Term:
    """One lower-case word to look for, and the catalogued call it names."""

    text: str
    service: str
    operation: str
    kind: K


#: Method names of SDKs and libraries that the catalogue spells otherwise (service, name,
#: catalogue operation). Azure's Python SDKs (azure-ai-vision-face, and the older
#: azure-cognitiveservices-vision-face and cognitive_face), its .NET SDK, and AWS SDK v3 for
#: JavaScript, whose commands are the operation name plus `Command`.
SDK_TERMS: tuple[tuple[str, str, str], ...] = (
    ("azure_face", "identify_from_person_group", "Identify"),
    ("azure_face", "identify_from_large_person_group", "Identify"),
    ("azure_face", "identify_from_person_directory", "Identify"),
    ("azure_face", "identify_from_dynamic_person_group", "Identify"),
    ("azure_face", "verify_face_to_face", "Verify"),
    ("azure_face", "verify_from_person_group", "Verify"),
    ("azure_face", "verify_from_large_person_group", "Verify"),
    ("azure_face", "verify_from_person_directory", "Verify"),
    ("azure_face", "find_similar_from_face_list", "FindSimilar"),
    ("azure_face", "find_similar_from_large_face_list", "FindSimilar"),
    ("azure_face", "face_client.face.identify", "Identify"),
    ("azure_face", "face_client.face.verify", "Verify"),
    ("azure_face", "face_client.face.find_similar", "FindSimilar"),
    ("azure_face", "face.identifyasync", "Identify"),
    ("azure_face", "face.verifyfacetofaceasync", "Verify"),
    ("azure_face", "face.findsimilarasync", "FindSimilar"),
    ("azure_face", "cf.face.identify", "Identify"),
    ("azure_face", "cf.face.verify", "Verify"),
    ("azure_face", "cf.face.find_similars", "FindSimilar"),
    ("face_recognition", "face_recognition.api.compare_faces", "compare_faces"),
    ("opencv", "facerecognizersf", "FaceRecognizerSF.match"),
    # Azure's .NET SDK in stack traces: `FaceOperations.VerifyFaceToFaceWithHttpMessagesAsync`,
    # `FaceOperationsExtensions.VerifyFaceToFaceAsync`
    ("azure_face", "verifyfacetoface", "Verify"),
    # the DeepStack Python client as robmarkcole's HASS-Deepstack-face and deepstack-ui call it
    # (`self._dsface.recognise(image)`, `dsface.recognize(image_bytes)`, `dsface.register(...)`)
    ("deepstack", "dsface.recognize(", "face.recognize"),
    ("deepstack", "dsface.recognise(", "face.recognize"),
    ("deepstack", "dsface.register(", "face.register"),
    ("deepstack", "._dsface.recognize(", "face.recognize"),
    ("deepstack", "._dsface.recognise(", "face.recognize"),
    ("deepstack", "._dsface.register(", "face.register"),
    # DeepFace's own log line of a find() (`Searching <img> in <n> length datastore`, from
    # deepface/modules/recognition.py) and the result dict of a verify() as printed
    ("deepface", "length datastore", "find"),
    ("deepface", "'similarity_metric'", "verify"),
    ("deepface", '"similarity_metric"', "verify"),
)

#: Substrings that start an HTTP path of a catalogued face API (routes.ROUTES); a hit is
#: confirmed by `routes.match_route` on the whole path.
ROUTE_MARKERS: tuple[str, ...] = (
    "/face/v",
    "/api/v1/recognition/",
    "/api/v1/verification/",
    "/v1/vision/face/",
    "/facepp/v3/",
)

_DISTINCT = ("face", "celebrit", "persongroup", "streamprocessor", "usersbyimage")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _spellings(name: str) -> set[str]:
    """`SearchFacesByImage` as logs write it: camel, snake and kebab case, lower-cased."""
    words = [w for part in re.split(r"[\s_.\-]+", name) for w in _CAMEL.split(part) if w]
    low = [w.lower() for w in words]
    return {name.lower(), "".join(low), "_".join(low), "-".join(low)}


def _operation_terms() -> list[Term]:
    out: list[Term] = []
    for (service, operation), kind in CATALOGUE.items():
        if kind not in MATCHING_KINDS:
            continue
        squashed = re.sub(r"[\s_.\-]+", "", operation).lower()
        for spelling in sorted(_spellings(operation)):
            if any(d in squashed for d in _DISTINCT):
                out.append(Term(spelling, service, operation, kind))
            out.extend(Term(f"{service}{sep}{spelling}", service, operation, kind) for sep in ":.")
    return out


def _sdk_terms() -> list[Term]:
    """SDK_TERMS with their kinds: the operation catalogue's, or for an HTTP API's client
    (DeepStack's) the route catalogue's."""
    kinds = {(r.service, r.operation): r.kind for r in ROUTES}
    kinds.update({(s, o): k for (s, o), k in CATALOGUE.items()})
    return [Term(text, svc, op, kinds[(svc, op)]) for svc, text, op in SDK_TERMS]


def build_terms() -> tuple[Term, ...]:
    """Every term, longest first. One text may name calls of several services
    (`compare_faces` is boto3's and face_recognition's): the sweep picks one by the line."""
    terms = dict.fromkeys([*_operation_terms(), *_sdk_terms()])
    return tuple(sorted(terms, key=lambda t: (-len(t.text), t.text, t.service)))


TERMS: tuple[Term, ...] = build_terms()


def route_kinds() -> frozenset[K]:
    """The kinds a route hit may have to count (the matching ones)."""
    return frozenset(r.kind for r in ROUTES if r.kind in MATCHING_KINDS)
