"""The frame pass: image files in, face boxes and 128-d dlib descriptors out.

Frame evidence measures the reach of a logged face operation: were faces really in the frame, how
many distinct people, was a consenting probe person among them. This package computes that and
nothing else (no database, no report):

* `engine.analyse` decodes each file once, detects faces with dlib's HOG detector, finds 5-point
  landmarks and computes descriptors with one batched call per chunk of frames, in one process
  per core. Results equal face_recognition's `face_locations` + `face_encodings` (tested).
* `modelfiles.fingerprint` keys cached results to the dlib build, the model files and the
  parameters that change results.
* `people.cluster` counts distinct people; `probes.best_match` looks for a probe person.

See docs/faces.md for the measurements behind every default.
"""

from __future__ import annotations

import os

# One process per core does the parallel work; a BLAS build of dlib must not also start a thread
# pool per process (oversubscription, and fork after threads). The limit has to be in place
# before dlib is first imported in this process, which is why it is set here and not in the
# worker initialiser. A user's own setting wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from auditor.faces.engine import (  # noqa: E402 - after the thread limit above
    Face,
    ImageJob,
    ImageResult,
    analyse,
    analyse_chunk,
)
from auditor.faces.fingerprint import build_info, fingerprint  # noqa: E402
from auditor.faces.modelfiles import model_paths  # noqa: E402
from auditor.faces.params import FaceParams  # noqa: E402
from auditor.faces.people import DEFAULT_PERSON_THRESHOLD, cluster, count_people  # noqa: E402
from auditor.faces.probes import DEFAULT_PROBE_TOLERANCE, best_match, is_match  # noqa: E402

__all__ = [
    "DEFAULT_PERSON_THRESHOLD",
    "DEFAULT_PROBE_TOLERANCE",
    "Face",
    "FaceParams",
    "ImageJob",
    "ImageResult",
    "analyse",
    "analyse_chunk",
    "best_match",
    "build_info",
    "cluster",
    "count_people",
    "fingerprint",
    "is_match",
    "model_paths",
]
