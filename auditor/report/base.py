"""The reporter interface: one module per output format renders the report dict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class RenderOptions:
    """Presentation choices that do not change what was found."""

    color: bool = False
    show_faces: bool = False
    #: The bundle folder, so human reports can show frame thumbnails (None: no thumbnails).
    bundle_root: str | None = None


class Reporter(Protocol):
    """An output format. `render` must be deterministic for a given report."""

    name: str
    extension: str

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """The whole document as text."""
