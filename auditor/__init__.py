"""auditor: checks face-recognition moratoria against what a video pipeline logged.

The public API is small on purpose: run an audit through `auditor.run.audit.run_audit`, render it
through `auditor.report.REPORTERS`. Everything else is internal and may change.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
