"""Frame evidence: what the frames referenced by face operations show about each finding's reach.

Steps: pick the frames (referenced by face-matching events, or all with --all-frames), look each
up in the face cache by SHA-256 + model fingerprint, run the batched dlib pass on the rest, keep
the new results in the cache, then count distinct people across the findings' frames and match
the consenting people's probe photos. Descriptors never leave this module except into the cache.

Findings are not held here: the audit passes the set of referenced frames and a re-iterable
stream of findings (its spill files), this module reads the findings once to learn which
analysed frames they show, and returns `FrameOutcome.decorate`, which the report applies to each
finding as it is written. Memory grows with the distinct frames (their faces and probe
distances, kept once per frame however many findings reference it), never with the findings.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.config.bundle import MAX_IMAGE_BYTES, Bundle, PathEscape
from auditor.core.errors import InputIssue
from auditor.core.models import Finding, FrameEvidence, InputFile, Notice, ProbeHit

if TYPE_CHECKING:
    from auditor.faces.engine import ImageJob, ImageResult
    from auditor.faces.params import FaceParams
    from auditor.run.executors.base import Executor
    from auditor.run.options import AuditOptions
    from auditor.store import Store

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}


@dataclass(frozen=True)
class Faces:
    """Faces of one image: boxes and descriptors (descriptors stay inside the auditor)."""

    sha256: str
    boxes: tuple[tuple[int, int, int, int], ...]
    descriptors: np.ndarray  # shape (n, 128)


@dataclass
class FrameOutcome:
    """What the frame step adds to an audit; `decorate` adds frame evidence to one finding."""

    inputs: list[InputFile] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    #: Run-specific facts (cache use): kept out of the deterministic part of the report.
    run: dict[str, Any] = field(default_factory=dict)
    #: analysed frame -> (sha256, boxes, person labels, probe name -> (distance within
    #: tolerance, index of the nearest box), person label of each box)
    frames: dict[
        str,
        tuple[str, tuple[Any, ...], tuple[str, ...], dict[str, tuple[float, int]], tuple[str, ...]],
    ] = field(default_factory=dict)
    #: frames that were referenced but refused or unreadable (input errors): status unreadable
    unreadable: set[str] = field(default_factory=set)
    #: frames referenced but not in the bundle (frames are samples: a notice): status missing
    missing: set[str] = field(default_factory=set)
    analysed: bool = False

    def decorate(self, finding: Finding) -> Finding:
        """The finding with its frame evidence and probe hits (unchanged without a frame pass)."""
        if not self.analysed:
            return finding
        evidence = []
        hits: dict[str, float] = {}
        for e in finding.events:
            for rel in e.frames:
                known = self.frames.get(rel)
                if known is None:
                    status = (
                        "missing"
                        if rel in self.missing
                        else "unreadable"
                        if rel in self.unreadable
                        else "not_analysed"
                    )
                    evidence.append(FrameEvidence(rel, None, None, (), _WHY[status], status=status))
                    continue
                sha, boxes, persons, probes, box_persons = known
                evidence.append(
                    FrameEvidence(
                        rel,
                        sha,
                        len(boxes),
                        persons,
                        boxes=boxes,
                        box_persons=box_persons,
                        probe_boxes=tuple(sorted((n, i) for n, (_, i) in probes.items())),
                    )
                )
                for name, (d, _) in probes.items():
                    if d < hits.get(name, 9.0):
                        hits[name] = d
        probe_list = tuple(ProbeHit(n, d) for n, d in sorted(hits.items()))
        return replace(finding, frames=tuple(evidence), probes=probe_list)


def _sha256(path: Path | str, root: str | None) -> str:
    if root is None:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    from auditor.config.bundlefs import open_fs

    digest = hashlib.sha256()
    with open_fs(root).open(str(path)) as fh:  # checked (regular, size) when it was listed
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class FaceAnalyser:
    """Runs the face pass over images with the cache in front of it."""

    def __init__(
        self,
        upsample: int,
        workers: int,
        store: Callable[[], Store | None],
        use_cache: bool,
        progress: Callable[[str, int, int], None] | None = None,
        kernel: str | None = None,
        executor: Executor | None = None,
        detector: str | None = None,
    ) -> None:
        """`store` opens (or returns the already open) store of the run, or None: the audit
        owns it, so one audit uses one connection pool for its cache and its run."""
        from auditor.faces.detectors import DEFAULT_DETECTOR
        from auditor.faces.fingerprint import fingerprint
        from auditor.faces.kernels import DEFAULT_KERNEL
        from auditor.faces.params import FaceParams

        self.params = FaceParams(
            upsample=upsample,
            workers=workers,
            kernel=kernel or DEFAULT_KERNEL,
            detector=detector or DEFAULT_DETECTOR,
        )
        self.fingerprint = fingerprint(self.params)
        self.store = store() if use_cache else None
        self.progress = progress
        self.executor = executor  # None: the engine's own local pool
        self.cached: set[str] = set()
        #: display path -> SHA-256 the client read for the cache (workers must read the same)
        self.hashes: dict[str, str] = {}
        #: display path -> (width, height, timings) of what was analysed or read from the cache
        self.meta: dict[str, tuple[int, int, dict[str, float]]] = {}

    def run(
        self, images: Sequence[tuple[Path | str, str]], root: str | None = None
    ) -> dict[str, Faces | str]:
        """display path -> Faces, or an error message for images that could not be read.

        With `root` (an object-storage bundle's URL) each path is bundle-relative and read
        through the bundle's filesystem wherever it is analysed."""
        from auditor.faces.engine import ImageJob

        out: dict[str, Faces | str] = {}
        if self.store is None:
            # no cache to consult: the engine reads and hashes each file once, itself
            todo = [ImageJob(str(path), display, root) for path, display in images]
            return self._analyse(todo, out)
        hashes = self.hashes
        for path, display in images:
            try:
                hashes[display] = _sha256(path, root)
            except OSError as exc:
                out[display] = f"cannot read frame: {exc.strerror or exc}"
        cached = self.store.cached_faces(hashes.values(), self.fingerprint)
        todo = []
        for path, display in images:
            sha = hashes.get(display)
            if sha is None:
                continue
            row = cached.get(sha)
            if row is not None:
                boxes = tuple(tuple(b) for b in json.loads(row.boxes))
                desc = np.frombuffer(row.descriptors, dtype=np.float64).reshape(-1, 128)
                out[display] = Faces(sha, boxes, desc)
                self.cached.add(display)
                self.meta[display] = (row.width, row.height, {})
            else:
                todo.append(ImageJob(str(path), display, root))
        return self._analyse(todo, out)

    def _analyse(self, todo: list[ImageJob], out: dict[str, Faces | str]) -> dict[str, Faces | str]:
        """Run the engine on the cache misses and keep what it found (when there is a store)."""
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if self.progress:
                self.progress("frames", done, len(todo))

        new_rows = []
        for res in analyse_frames(self.executor, todo, self.params, step, self.hashes):
            out[res.path] = self._faces(res) if res.error is None else res.error
            self.meta[res.path] = (res.width, res.height, res.timings)
            if res.error is None and self.store is not None:
                # imported here: without a cache, sqlmodel (~30 MB, ~0.5 s) is never needed
                from auditor.store import new_cache_row

                faces = out[res.path]
                assert isinstance(faces, Faces)
                new_rows.append(
                    new_cache_row(
                        res.sha256,
                        self.fingerprint,
                        res.width,
                        res.height,
                        [list(f.box) for f in res.faces],
                        faces.descriptors.astype(np.float64).tobytes(),
                    )
                )
        if self.store is not None:
            self.store.cache_faces(new_rows)
        return out

    def engine_info(self) -> dict[str, Any]:
        """The dlib build, model hashes and parameters: NGOs must know what they re-ran."""
        from auditor.faces.fingerprint import build_info, result_params

        return {
            "fingerprint": self.fingerprint,
            "build": build_info(self.params.kernel, self.params.detector),
            "params": result_params(self.params),
        }

    @staticmethod
    def _faces(res: ImageResult) -> Faces:
        desc = np.array([f.descriptor for f in res.faces], dtype=np.float64).reshape(-1, 128)
        return Faces(res.sha256, tuple(f.box for f in res.faces), desc)


def _probe_folders(bundle: Bundle, issues: list[InputIssue]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    files, refused = bundle.entries("probes", MAX_IMAGE_BYTES)
    issues.extend(refused)
    for rel in files:
        parts = rel.split("/")
        if len(parts) >= 3 and Path(rel).suffix.lower() in IMAGE_EXT:
            out.setdefault(parts[1], []).append(rel)
    return out


def attach_frame_evidence(
    bundle: Bundle,
    refs: set[str],
    findings: Iterable[Finding],
    options: AuditOptions,
    workers: int,
    progress: Callable[[str, int, int], None] | None,
    executor: Executor | None = None,
    store: Callable[[], Store | None] = lambda: None,
) -> FrameOutcome:
    """Analyse the frames (`refs`: those referenced by face operations) and the probes.

    `findings` is read once (to know which frames the findings show); add the evidence to each
    finding with the returned outcome's `decorate`.
    """
    from auditor.faces.people import DEFAULT_PERSON_THRESHOLD, cluster
    from auditor.faces.probes import nearest_face

    outcome = FrameOutcome()
    refs = set(refs)
    if options.frames == "all":
        listed, refused = bundle.entries("frames", MAX_IMAGE_BYTES)
        outcome.issues.extend(refused)
        refs |= {r for r in listed if Path(r).suffix.lower() in IMAGE_EXT}
    fs = bundle.fs
    # a local file goes to the engine by its path; an object by its bundle-relative key
    remote = None if fs.local is not None else fs.root
    images: list[tuple[Path | str, str]] = []
    unreadable = outcome.unreadable
    missing = outcome.missing  # frames are samples: one not in the bundle is a notice
    for rel in sorted(refs):
        try:
            fs.check(rel, MAX_IMAGE_BYTES)
            path: Path | str = rel if fs.local is None else fs.local / fs.safe(rel)
        except FileNotFoundError:
            missing.add(rel)
            if options.require_frames:
                outcome.issues.append(
                    InputIssue(
                        rel, "frame referenced by a face operation is missing (--require-frames)"
                    )
                )
            else:
                outcome.notices.append(
                    Notice(
                        rel,
                        "frame referenced by a face operation is not in the bundle "
                        "(frames are samples: the finding stands without it)",
                    )
                )
            continue
        except PathEscape as exc:
            outcome.issues.append(InputIssue(rel, f"frame refused: {exc}"))
            unreadable.add(rel)
            continue
        images.append((path, rel))
    outcome.summary["frames_missing"] = len(missing)
    probe_sets = _probe_folders(bundle, outcome.issues)
    probe_images: list[tuple[Path | str, str]] = [
        (rel if fs.local is None else fs.local / rel, rel)
        for files in probe_sets.values()
        for rel in files
    ]
    if not images and not probe_images and not (unreadable or missing):
        return outcome
    outcome.analysed = True

    analyser = FaceAnalyser(
        options.face_upsample,
        workers,
        store,
        options.use_cache,
        progress,
        options.face_kernel,
        executor,
        options.face_detector,
    )
    results = analyser.run(images + probe_images, remote)

    frames: dict[str, Faces] = {}
    for _, rel in images:
        res = results[rel]
        if isinstance(res, str):
            outcome.issues.append(InputIssue(rel, res))
            unreadable.add(rel)
        else:
            frames[rel] = res
            outcome.inputs.append(InputFile(rel, "frame", res.sha256, len(res.boxes), 0))

    probes: dict[str, list[np.ndarray]] = {}
    for name, files in sorted(probe_sets.items()):
        for rel in files:
            res = results[rel]
            if isinstance(res, str):
                outcome.issues.append(InputIssue(rel, f"probe photo: {res}"))
                continue
            outcome.inputs.append(
                InputFile(rel, "probe", res.sha256, len(res.boxes), 0 if len(res.boxes) == 1 else 1)
            )
            if len(res.boxes) != 1:
                outcome.issues.append(
                    InputIssue(
                        rel, f"probe photo must show exactly one face, found {len(res.boxes)}"
                    )
                )
                continue
            probes.setdefault(name, []).append(res.descriptors[0])

    # distinct people across the frames of all findings (one pass over the findings)
    finding_frames = sorted(
        {p for f in findings for e in f.events for p in e.frames if p in frames}
    )
    keys: list[tuple[str, int]] = []
    vectors: list[np.ndarray] = []
    for rel in finding_frames:
        for i in range(len(frames[rel].boxes)):
            keys.append((rel, i))
            vectors.append(frames[rel].descriptors[i])
    labels = cluster([v.tolist() for v in vectors], DEFAULT_PERSON_THRESHOLD) if vectors else []
    person_ids: dict[int, str] = {}
    face_person: dict[tuple[str, int], str] = {}
    for key, label in zip(keys, labels, strict=True):
        if label not in person_ids:
            person_ids[label] = f"P{len(person_ids) + 1:04d}"
        face_person[key] = person_ids[label]

    probe_hits: dict[str, list[str]] = {name: [] for name in sorted(probe_sets)}
    for rel, fr in frames.items():
        persons = tuple(
            sorted({face_person[(rel, i)] for i in range(len(fr.boxes)) if (rel, i) in face_person})
        )
        near: dict[str, tuple[float, int]] = {}
        for name, vecs in probes.items():
            nearest = nearest_face([v.tolist() for v in vecs], fr.descriptors.tolist())
            if nearest is not None and nearest[0] <= options.probe_tolerance:
                near[name] = nearest
        box_persons = tuple(face_person.get((rel, i), "") for i in range(len(fr.boxes)))
        outcome.frames[rel] = (fr.sha256, tuple(fr.boxes), persons, near, box_persons)
    for f in findings:
        found = {
            name
            for e in f.events
            for rel in e.frames
            for name in (outcome.frames[rel][3] if rel in outcome.frames else ())
        }
        for name in found:
            probe_hits[name].append(f.events[0].event_id or f.id)

    outcome.summary = {
        "frames_missing": len(missing),
        "frames_analysed": len(frames),
        "faces_detected": sum(len(fr.boxes) for fr in frames.values()),
        "persons": len(person_ids),
        "person_threshold": DEFAULT_PERSON_THRESHOLD,
        "probe_tolerance": options.probe_tolerance,
    }
    outcome.engine = analyser.engine_info()
    outcome.run = {
        "frames_from_cache": sum(1 for rel in frames if rel in analyser.cached),
        "frames_computed": sum(1 for rel in frames if rel not in analyser.cached),
    }
    outcome.probes = [{"name": n, "event_ids": sorted(set(ids))} for n, ids in probe_hits.items()]
    return outcome


_WHY = {
    "missing": "not in the bundle",
    "unreadable": "unreadable or refused (see errors)",
    "not_analysed": "not analysed",
}


def analyse_frames(
    executor: Executor | None,
    jobs: Sequence[ImageJob],
    params: FaceParams,
    progress: Callable[[int], None] | None = None,
    known: dict[str, str] | None = None,
) -> Iterator[ImageResult]:
    """The frame pass on `executor`: one result per job, in job order.

    On the local pool this is exactly `engine.analyse` (its own fork pool, models loaded once per
    process by the pool initialiser). On a cluster each task is one chunk of frames given to
    `engine.analyse_chunk` (one batched descriptor call per chunk); each worker process loads the
    models once, on its first chunk, and each frame it reads is compared with the client's view:
    the SHA-256 in `known` (display path -> hash, what the client read for the cache) or the
    size and end blocks.
    """
    from auditor.faces.engine import analyse, analyse_chunk
    from auditor.run.executors import Inputs, LocalPool, frame_chunks

    if executor is None or isinstance(executor, LocalPool):
        yield from analyse(jobs, params, progress)
        return
    chunks = frame_chunks(list(jobs), params.chunk, executor.slots())
    work = functools.partial(analyse_chunk, params=params)
    hashes = known or {}

    def files(chunk: list[ImageJob]) -> list[tuple[str, str, str | None]]:
        # frames of an object-storage bundle are not stamped: every reader gets the same object
        return [
            (job.path, job.display, hashes.get(job.display)) for job in chunk if job.root is None
        ]

    checks: Inputs[list[ImageJob], list[ImageResult]] = Inputs(files, _refuse_frames)
    for done in executor.map(work, chunks, None, checks):
        if progress is not None:
            progress(len(done))
        yield from done


def _refuse_frames(
    chunk: list[ImageJob], results: list[ImageResult], bad: dict[str, str]
) -> list[ImageResult]:
    """A chunk's results with each frame a worker saw with other bytes than the client turned
    into an unreadable frame (an input error), nothing of what the worker computed kept."""
    from auditor.faces.engine import ImageResult

    none = {"decode": 0.0, "detect": 0.0, "landmarks": 0.0, "descriptors": 0.0}
    return [
        ImageResult(res.path, "", 0, 0, (), dict(none), bad[res.path]) if res.path in bad else res
        for res in results
    ]
