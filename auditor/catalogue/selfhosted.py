"""Route table of self-hosted face APIs: deepface, InsightFace-REST, CompreFace's embedding
calculator, Double Take and Frigate.

`auditor.catalogue.routes` appends these entries to its table. Each block names the source
file and commit its paths were read from.

deepface, InsightFace-REST and compreface-core mount their routes at the root of the server
(`/verify`, `/extract`), names that other web applications use too (an e-mail `POST /verify`, a
site `POST /search`). An access line carries no port, host or product name the table could key
on, so these entries are held to what the products themselves accept: the method the route is
declared with (POST) and the exact path, letter case aside. A trailing slash does not match
(Flask answers `/verify/` with 404, Starlette redirects `/extract/` to `/extract`, which is
logged as its own line). The remaining risk, said plainly: any other application in the same log
that serves `POST /verify`, `/search`, `/register`, `/find` or `/analyze` is read as a face
call. Read such a log only when the server is a face API, or split it by virtual host first.

Double Take and Frigate live under `/api/` with product-specific second segments
(`/api/recognize`, `/api/train`, `/api/faces`); Double Take served under a `ui.path` prefix is
not recognised.
"""

from __future__ import annotations

from auditor.catalogue.route import DELETE, GET, PATCH, POST, PUT, Route
from auditor.core.models import OperationKind as K

_GET_POST = GET | POST

SELF_HOSTED: tuple[Route, ...] = (
    # deepface REST API (Flask blueprint, no prefix): serengil/deepface
    # deepface/api/src/modules/core/routes.py@243209fd7b46ecdecf72665cc25219f6e8181f25
    # (/register, /search, /build/index since 00429d0, 2025-12-26). /represent returns an
    # embedding and compares nothing.
    Route("deepface", "/verify", "verify", K.VERIFICATION_1TO1, POST, "/verify"),
    Route("deepface", "/search", "search", K.IDENTIFICATION_1TON, POST, "/search"),
    Route("deepface", "/register", "register", K.ENROLMENT, POST, "/register"),
    Route("deepface", "/build/index", "build_index", K.ENROLMENT, POST, "/build/index"),
    Route("deepface", "/analyze", "analyze", K.FACE_ANALYSIS, POST, "/analyze"),
    Route("deepface", "/represent", "represent", K.OTHER, POST, "/represent"),
    # not a route of upstream deepface's API (its older routes.py@0507f69 serves /represent,
    # /verify, /analyze only): the name forks and user applications give a route around
    # DeepFace.find (fixtures/realworld/http-servers/werkzeug-deepface.log)
    Route("deepface", "/find", "find", K.IDENTIFICATION_1TON, POST, "/find"),
    # InsightFace-REST (FastAPI, no prefix): SthPhoenix/InsightFace-REST
    # if_rest/api/routes/v1/recognition.py@601928574ef1ff9cc8947407b45835e780d15a7a.
    # /extract detects faces and returns embeddings; GET /health runs an extraction on a bundled
    # sample image (service.py) and is not listed.
    Route("insightface_rest", "/extract", "extract", K.FACE_DETECTION, POST, "/extract"),
    Route(
        "insightface_rest",
        "/draw_detections",
        "draw_detections",
        K.FACE_DETECTION,
        POST,
        "/draw_detections",
    ),
    Route(
        "insightface_rest",
        "/multipart/draw_detections",
        "multipart.draw_detections",
        K.FACE_DETECTION,
        POST,
        "/multipart/draw_detections",
    ),
    # CompreFace's embedding calculator (compreface-core, Flask, no prefix), called by
    # compreface-api for every image it handles: exadel-inc/CompreFace
    # embedding-calculator/src/_endpoints.py@a7d06c2d679cb925671bdbdbf71af675a1461679. Each
    # detects faces and computes their embeddings; the matching is compreface-api's (its own
    # routes, /api/v1/recognition/..., are in routes.py), so these are face detections.
    Route("compreface_core", "/find_faces", "find_faces", K.FACE_DETECTION, POST, "/find_faces"),
    Route(
        "compreface_core",
        "/find_faces_base64",
        "find_faces_base64",
        K.FACE_DETECTION,
        POST,
        "/find_faces_base64",
    ),
    Route("compreface_core", "/scan_faces", "scan_faces", K.FACE_DETECTION, POST, "/scan_faces"),
    # Double Take (Express, mounted at /api): jakowenko/double-take
    # api/src/routes/{recognize,match,train}.routes.js@8e2728d283b3901d688c2454086fd0b512739b53.
    # GET /api/recognize/test (a self-test on a bundled image) and GET/DELETE /api/match (reads
    # and deletes stored results) are not face calls and are not listed; GET /api/camera/{name}
    # calls /api/recognize itself and is not listed so that one event is not counted twice.
    Route(
        "double_take",
        "/api/recognize/upload",
        "recognize.upload",
        K.IDENTIFICATION_1TON,
        POST,
        "/api/recognize/upload",
    ),
    Route(
        "double_take",
        "/api/recognize",
        "recognize",
        K.IDENTIFICATION_1TON,
        _GET_POST,
        "/api/recognize?url=http://192.0.2.9/snapshot.jpg&camera=door",
    ),
    Route(
        "double_take",
        "/api/match/reprocess/{id}",
        "match.reprocess",
        K.IDENTIFICATION_1TON,
        PATCH,
        "/api/match/reprocess/412",
    ),
    Route("double_take", "/api/train/add/{id}", "train.add", K.ENROLMENT, POST, "/api/train/add/a"),
    Route(
        "double_take",
        "/api/train/retrain/{id}",
        "train.retrain",
        K.ENROLMENT,
        GET,
        "/api/train/retrain/alice",
    ),
    Route(
        "double_take",
        "/api/train/remove/{id}",
        "train.remove",
        K.OTHER,
        DELETE,
        "/api/train/remove/bob",
    ),
    Route("double_take", "/api/train", "train.list", K.OTHER, GET, "/api/train?page=2"),
    Route("double_take", "/api/train/status", "train.status", K.OTHER, GET, "/api/train/status"),
    Route("double_take", "/api/train/{id}", "train.rename", K.OTHER, PATCH, "/api/train/1377"),
    # Frigate face library (FastAPI behind Frigate's nginx `location /api/`): blakeblackshear/
    # frigate frigate/api/classification.py@4b6fa49449b59d4a0ea0e848b94c6339843f33d0 (all but
    # /reclassify are in 0.17 too; /reclassify is on the development branch).
    # /reprocess re-runs recognition on a training image; /reclassify moves an image into
    # another person's folder, which enrols it under that name.
    Route("frigate", "/api/faces", "faces.list", K.OTHER, GET, "/api/faces"),
    Route(
        "frigate",
        "/api/faces/recognize",
        "faces.recognize",
        K.IDENTIFICATION_1TON,
        POST,
        "/api/faces/recognize",
    ),
    Route(
        "frigate",
        "/api/faces/reprocess",
        "faces.reprocess",
        K.IDENTIFICATION_1TON,
        POST,
        "/api/faces/reprocess",
    ),
    Route(
        "frigate",
        "/api/faces/train/{id}/classify",
        "faces.train.classify",
        K.ENROLMENT,
        POST,
        "/api/faces/train/alice/classify",
    ),
    *(
        Route("frigate", f"/api/faces/{{id}}/{verb}", f"faces.{verb}", kind, method, example)
        for verb, kind, method, example in (
            ("create", K.ENROLMENT, POST, "/api/faces/alice/create"),
            ("register", K.ENROLMENT, POST, "/api/faces/alice/register"),
            ("reclassify", K.ENROLMENT, POST, "/api/faces/bob/reclassify"),
            ("delete", K.OTHER, POST, "/api/faces/bob/delete"),
            ("rename", K.OTHER, PUT, "/api/faces/bob/rename"),
        )
    ),
)

#: Root-level paths matched only as they are (lower case, no trailing slash).
EXACT_PATHS: frozenset[str] = frozenset(
    r.pattern.lower()
    for r in SELF_HOSTED
    if r.service in ("deepface", "insightface_rest", "compreface_core")
)
#: Substrings that let a path through the cheap first test of `match_route`.
PREFIXES: tuple[str, ...] = ("/api/recognize", "/api/train", "/api/match/", "/api/faces")
