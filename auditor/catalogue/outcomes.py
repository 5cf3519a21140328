"""Words that say a logged call failed: one list for outcome fields and for free text.

A failed face search is still an act (an attempt), so every source and the suspected sweep
mark it the same way. `FAILED_VALUES` are whole values of an outcome field (`status=denied`);
`FAILURE_PHRASES` are what free text says when a call did not go through (an SDK exception, an
HTTP error, a timeout), looked for as lower-case substrings of a line.
"""

from __future__ import annotations

import re

#: Whole values of an `outcome` / `status` field that mean the call failed.
FAILED_VALUES = frozenset({"failed", "failure", "error", "denied"})

#: (phrase, error code) pairs for free text; the first phrase found names the error code
#: when the line has no exception name of its own. Lower case.
FAILURE_PHRASES: tuple[tuple[str, str], ...] = (
    ("accessdenied", "AccessDenied"),
    ("access denied", "AccessDenied"),
    ("not authorized", "AccessDenied"),
    ("unauthorized", "Unauthorized"),
    ("forbidden", "Forbidden"),
    ("notfound", "NotFound"),
    ("not found", "NotFound"),
    ("does not exist", "NotFound"),
    ("timed out", "Timeout"),
    ("timeout", "Timeout"),
    ("throttl", "Throttled"),
    ("traceback (most recent call last)", "Exception"),
    ("exception", "Exception"),
    ("error", "Error"),
    ("failed", "Failed"),
    ("failure", "Failed"),
    ("denied", "AccessDenied"),
)

#: Error codes as SDKs print them, most specific first: boto3's `(AccessDeniedException)` and
#: Azure's `(PersonGroupNotFound)`, then `code: PersonGroupNotFound` / `Error Code: ...`, then a
#: bare exception name (`ValueError`, `ClientError`).
_CODES = (
    re.compile(r"\(([A-Z][A-Za-z]*(?:Exception|Error|NotFound|Denied|Fault|Argument|Throttled))\)"),
    re.compile(r"\b(?:error[ _]?code|code)\s*[:=]\s*\"?([A-Z][A-Za-z]+)", re.IGNORECASE),
    re.compile(r"\b([A-Z][A-Za-z]*(?:Exception|Error))\b"),
)


def failure_of(text: str) -> str | None:
    """The error code a free-text line gives for a failed call, or None when it says none.

    `text` is the line as logged (its case is kept for the code); the phrases are looked for
    in its lower-case form.
    """
    low = text.lower()
    phrase = next((code for word, code in FAILURE_PHRASES if word in low), None)
    if phrase is None:
        return None
    for regex in _CODES:
        m = regex.search(text)
        if m is not None:
            return m.group(1)
    return phrase
