"""Which images of a bundle the frame pass reads: the frames findings may show, and the probes.

Choosing is separate from analysing because its outcome decides whether there is a face pass at
all, and because a referenced frame that cannot be read is a fact about the bundle, not about a
face: it is a notice (frames are samples) or an input error (refused, or --require-frames), said
before any image is decoded. Nothing here opens an image; it only lists and checks paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.config.bundle import MAX_IMAGE_BYTES, Bundle, PathEscape
from auditor.core.errors import InputIssue
from auditor.core.models import Notice

if TYPE_CHECKING:
    from auditor.run.options import AuditOptions

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}

#: An image for the face pass: (what the engine opens, the bundle-relative path shown).
Image = tuple[Path | str, str]


@dataclass
class ChosenFrames:
    """The frames to analyse and what the bundle said about the others, in the order the report
    lists them (issues and notices in path order)."""

    images: list[Image] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: referenced but refused (input errors)
    unreadable: set[str] = field(default_factory=set)
    #: referenced but not in the bundle (frames are samples: a notice)
    missing: set[str] = field(default_factory=set)
    #: the object-storage bundle's URL the engine reads keys under; None for a local folder,
    #: whose frames go to the engine by their path
    root: str | None = None


def choose_frames(bundle: Bundle, refs: set[str], options: AuditOptions) -> ChosenFrames:
    """The frames referenced by face operations (every image under frames/ with --all-frames),
    each checked to stay inside the bundle and to be a regular file of a readable size."""
    chosen = ChosenFrames()
    refs = set(refs)
    if options.frames == "all":
        listed, refused = bundle.entries("frames", MAX_IMAGE_BYTES)
        chosen.issues.extend(refused)
        refs |= {r for r in listed if Path(r).suffix.lower() in IMAGE_EXT}
    fs = bundle.fs
    chosen.root = None if fs.local is not None else fs.root
    for rel in sorted(refs):
        try:
            fs.check(rel, MAX_IMAGE_BYTES)
            path: Path | str = rel if fs.local is None else fs.local / fs.safe(rel)
        except FileNotFoundError:
            chosen.missing.add(rel)
            _missing(chosen, rel, options.require_frames)
            continue
        except PathEscape as exc:
            chosen.issues.append(InputIssue(rel, f"frame refused: {exc}"))
            chosen.unreadable.add(rel)
            continue
        chosen.images.append((path, rel))
    return chosen


def _missing(chosen: ChosenFrames, rel: str, required: bool) -> None:
    """Frames are samples: a finding stands without its frame unless the run asked for them."""
    if required:
        chosen.issues.append(
            InputIssue(rel, "frame referenced by a face operation is missing (--require-frames)")
        )
    else:
        chosen.notices.append(
            Notice(
                rel,
                "frame referenced by a face operation is not in the bundle "
                "(frames are samples: the finding stands without it)",
            )
        )


def probe_folders(bundle: Bundle, issues: list[InputIssue]) -> dict[str, list[str]]:
    """probes/<name>/<photo>: the consenting person's name -> their photos (refused entries go
    to `issues`)."""
    out: dict[str, list[str]] = {}
    files, refused = bundle.entries("probes", MAX_IMAGE_BYTES)
    issues.extend(refused)
    for rel in files:
        parts = rel.split("/")
        if len(parts) >= 3 and Path(rel).suffix.lower() in IMAGE_EXT:
            out.setdefault(parts[1], []).append(rel)
    return out


def probe_images(bundle: Bundle, probe_sets: dict[str, list[str]]) -> list[Image]:
    """The probe photos as face-pass images: they go through the same pass (and cache) as the
    frames, so one engine run serves both."""
    fs = bundle.fs
    return [
        (rel if fs.local is None else fs.local / rel, rel)
        for files in probe_sets.values()
        for rel in files
    ]
