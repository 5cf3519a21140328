"""Frame evidence: what the frames referenced by face operations show about each finding's reach.

Steps: pick the frames (referenced by face-matching events, or all with --all-frames), look each
up in the face cache by SHA-256 + model fingerprint, run the batched dlib pass on the rest, keep
the new results in the cache, then count distinct people across the findings' frames and match
the consenting people's probe photos. Descriptors never leave these modules except into the cache.

Findings are not held here: the audit passes the set of referenced frames and a re-iterable
stream of findings (its spill files), this module reads the findings once to learn which
analysed frames they show, and returns `FrameOutcome.decorate`, which the report applies to each
finding as it is written. Memory grows with the distinct frames (their faces and probe
distances, kept once per frame however many findings reference it), never with the findings.

Choosing the images is `auditor.run.frame_choice` and the cached face pass itself is
`auditor.run.facepass` (shared with `auditor faces`); this module turns their results into
evidence: people, probe matches and the outcome the report reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.core.errors import InputIssue
from auditor.core.models import Finding, FrameEvidence, InputFile, Notice, ProbeHit
from auditor.run.facepass import FaceAnalyser, Faces, analyse_frames
from auditor.run.frame_choice import IMAGE_EXT, Image, choose_frames, probe_folders, probe_images

if TYPE_CHECKING:
    from auditor.config.bundle import Bundle
    from auditor.run.executors.base import Executor
    from auditor.run.options import AuditOptions
    from auditor.store import Store

# The face pass and image extensions moved to their own modules; still importable from here.
__all__ = [
    "IMAGE_EXT",
    "FaceAnalyser",
    "Faces",
    "FrameOutcome",
    "analyse_frames",
    "attach_frame_evidence",
]

#: An analysed frame's facts, as `FrameOutcome.frames` keeps them.
FrameFacts = tuple[
    str, tuple[Any, ...], tuple[str, ...], dict[str, tuple[float, int]], tuple[str, ...]
]


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
    frames: dict[str, FrameFacts] = field(default_factory=dict)
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
    from auditor.faces.people import DEFAULT_PERSON_THRESHOLD

    chosen = choose_frames(bundle, refs, options)
    outcome = FrameOutcome(
        issues=chosen.issues,
        notices=chosen.notices,
        unreadable=chosen.unreadable,
        missing=chosen.missing,
    )
    outcome.summary["frames_missing"] = len(outcome.missing)
    probe_sets = probe_folders(bundle, outcome.issues)
    probes_in = probe_images(bundle, probe_sets)
    if not chosen.images and not probes_in and not (outcome.unreadable or outcome.missing):
        return outcome  # nothing referenced and no probes: the report says no frame pass ran
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
    results = analyser.run(chosen.images + probes_in, chosen.root)
    frames = _frame_results(chosen.images, results, outcome)
    probes = _probe_results(probe_sets, results, outcome)
    face_person, persons = _people(frames, findings)
    for rel, fr in frames.items():
        outcome.frames[rel] = _frame_facts(rel, fr, face_person, probes, options.probe_tolerance)

    outcome.summary = {
        "frames_missing": len(outcome.missing),
        "frames_analysed": len(frames),
        "faces_detected": sum(len(fr.boxes) for fr in frames.values()),
        "persons": persons,
        "person_threshold": DEFAULT_PERSON_THRESHOLD,
        "probe_tolerance": options.probe_tolerance,
    }
    outcome.engine = analyser.engine_info()
    outcome.run = {
        "frames_from_cache": sum(1 for rel in frames if rel in analyser.cached),
        "frames_computed": sum(1 for rel in frames if rel not in analyser.cached),
    }
    outcome.probes = _probe_hits(sorted(probe_sets), findings, outcome.frames)
    return outcome


def _frame_results(
    images: list[Image], results: dict[str, Faces | str], outcome: FrameOutcome
) -> dict[str, Faces]:
    """The frames the pass could read; one it could not is an input error and `unreadable`, so
    findings that reference it say why they carry no faces."""
    frames: dict[str, Faces] = {}
    for _, rel in images:
        res = results[rel]
        if isinstance(res, str):
            outcome.issues.append(InputIssue(rel, res))
            outcome.unreadable.add(rel)
        else:
            frames[rel] = res
            outcome.inputs.append(InputFile(rel, "frame", res.sha256, len(res.boxes), 0))
    return frames


def _probe_results(
    probe_sets: dict[str, list[str]], results: dict[str, Faces | str], outcome: FrameOutcome
) -> dict[str, list[np.ndarray]]:
    """Each person's probe descriptors. A probe photo must show exactly one face: with two, a
    match could be the bystander's, so such a photo is an input error and is not used."""
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
    return probes


def _people(
    frames: dict[str, Faces], findings: Iterable[Finding]
) -> tuple[dict[tuple[str, int], str], int]:
    """(frame, box index) -> person label, and how many distinct people, clustered over the
    frames findings show only: a frame no finding references says nothing about any reach.
    Labels are numbered in frame-path order so that a report never depends on arrival order."""
    from auditor.faces.people import DEFAULT_PERSON_THRESHOLD, cluster

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
    return face_person, len(person_ids)


def _frame_facts(
    rel: str,
    fr: Faces,
    face_person: dict[tuple[str, int], str],
    probes: dict[str, list[np.ndarray]],
    tolerance: float,
) -> FrameFacts:
    """What is kept of one analysed frame: once per frame, however many findings show it, and
    without descriptors (only the probe distances within tolerance)."""
    from auditor.faces.probes import nearest_face

    persons = tuple(
        sorted({face_person[(rel, i)] for i in range(len(fr.boxes)) if (rel, i) in face_person})
    )
    near: dict[str, tuple[float, int]] = {}
    for name, vecs in probes.items():
        nearest = nearest_face([v.tolist() for v in vecs], fr.descriptors.tolist())
        if nearest is not None and nearest[0] <= tolerance:
            near[name] = nearest
    box_persons = tuple(face_person.get((rel, i), "") for i in range(len(fr.boxes)))
    return (fr.sha256, tuple(fr.boxes), persons, near, box_persons)


def _probe_hits(
    names: list[str], findings: Iterable[Finding], frames: dict[str, FrameFacts]
) -> list[dict[str, Any]]:
    """Per probe person, the events whose frames show them: every person is listed, with no
    events too, so a report shows that a probe was searched for and not found."""
    probe_hits: dict[str, list[str]] = {name: [] for name in names}
    for f in findings:
        found = {
            name
            for e in f.events
            for rel in e.frames
            for name in (frames[rel][3] if rel in frames else ())
        }
        for name in found:
            probe_hits[name].append(f.events[0].event_id or f.id)
    return [{"name": n, "event_ids": sorted(set(ids))} for n, ids in probe_hits.items()]


_WHY = {
    "missing": "not in the bundle",
    "unreadable": "unreadable or refused (see errors)",
    "not_analysed": "not analysed",
}
