"""The suspected sweep: what no source could read is searched for face calls before it is left.

Every line or record that no source read (a file of unknown type, text lines no pattern matches,
JSON records of unknown shape, wrapped lines whose inner content no source reads) goes through
ONE Aho-Corasick automaton (pyahocorasick) built from the catalogue's terms
(`auditor.catalogue.terms`: operation names in their log spellings, SDK method names, the path
prefixes of the route catalogue). A term hit is checked where it stands (word boundaries, a
path confirmed by `match_route`), and becomes a located `suspected_face_matching` event plus a
notice: nothing that may be a face call is dropped without a trace.

The automaton was measured against one compiled alternation of the same terms (`re`, on the
lower-cased line): about 0.8 against 3.4 microseconds per non-matching line, and the
alternation slows down with every term added (bench/sweep_bench.py).

Not hits: lines that only register or document routes (Gin's `[GIN-debug]` listing, Flask's
`<Rule '...'>`, NestJS `Mapped {...}`, Markdown tables and headings), and every operation the
catalogue does not count as matching (`DetectLabels`, `GetLabelDetection`, `DetectFaces`).

Each hit says what it matched, whether the line says the call failed (`catalogue.outcomes`),
who (an ARN on the line) and when (a time on the line; else the last time seen earlier in the
file, which is how a traceback takes the time of the log line before it). A Python traceback
(`Traceback (most recent call last):` and its indented lines, up to the exception line) is one
failed call: one event for its first catalogued call (the outermost frame), failed with the
exception's name, the library calls it went through named in `also_named`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import ahocorasick
import orjson

from auditor.catalogue.outcomes import failure_of
from auditor.catalogue.routes import match_route
from auditor.catalogue.terms import ROUTE_MARKERS, TERMS, Term
from auditor.core.models import (
    MATCHING_KINDS,
    NO_TIME,
    TIME_KNOWN,
    Event,
    Notice,
    OperationKind,
    Principal,
)
from auditor.core.timefmt import parse_time
from auditor.sources.base import FileResult
from auditor.sources.sweeptime import line_time

NAME = "sweep"
#: Longest text of one line or record that is swept (the rest of a longer one is not).
MAX_SWEEP_CHARS = 1 << 20
_ROUTE = "route"
_SUFFIXES = ("command", "request", "response", "async", "input", "output", "result", "s")
_PATH = re.compile(r"/[^\s\"'<>?#`,;)\]}|\\]*")
_METHOD_BEFORE = re.compile(
    r"(?:\b(GET|POST|PUT|PATCH|DELETE|HEAD)\b[\s\"':=,]*)?(?:https?://[^\s/\"']+)?$", re.IGNORECASE
)
_ARN = re.compile(r"\barn:aws[a-z-]*:(?:iam|sts)::(\d{12}):[A-Za-z0-9+=,.@_/:-]+")
#: Lines that only list or document endpoints: a route named there was not called.
#: distinct operations on one line from which it is a listing, not a call (`scan`)
_LISTING = 3
_NOT_A_CALL = re.compile(
    r"\[GIN-debug\]|<Rule '|APIRoute\(|\bRouterExplorer\b|\bRoutesResolver\b|\bMapped \{"
    r"|\bMapped \"\{|\broute registered\b|\bregister(?:ed|ing)? route|\badd_url_rule\b"
    r"|@(?:app|router|bp|blueprint)\.(?:route|get|post|put|patch|delete)\("
    r"|-->\s*\S+\s*\(\d+ handlers?\)|^\s*\|.*\|\s*$|^\s{0,3}#{1,6}\s"
    # `flask routes` rows (endpoint, methods, rule) and URLs whose host is a placeholder
    # (`http://<compreface-host>:8000/...`: documentation, never run)
    r"|^\s*[\w.]+\s+(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)(?:,\s?[A-Z]+)*\s+/\S*\s*$"
    r"|://<[^>\s]+>",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def automaton() -> Any:
    """The one automaton of every term and route marker (built once per process)."""
    auto = ahocorasick.Automaton()
    by_text: dict[str, list[Term]] = {}
    for term in TERMS:
        by_text.setdefault(term.text, []).append(term)
    for text, terms in by_text.items():
        auto.add_word(text, (text, tuple(terms)))
    for marker in ROUTE_MARKERS:
        auto.add_word(marker, (marker, _ROUTE))
    auto.make_automaton()
    return auto


@dataclass(frozen=True)
class Hit:
    """One face call named by a line: where in the line, what it matched, what it is."""

    start: int
    matched: str
    service: str
    operation: str
    kind: OperationKind


def scan(text: str) -> list[Hit]:
    """The face calls `text` names, one per (service, operation), in the order they appear."""
    low = text.lower()
    if len(low) != len(text):  # a few characters change length when lower-cased
        low = "".join(c.lower()[:1] or c for c in text)
    found: list[Hit] = []
    for end, (word, what) in automaton().iter(low):
        start = end - len(word) + 1
        hit = _route(text, start) if what == _ROUTE else _term(low, text, start, end, what)
        if hit is not None:
            found.append(hit)
    if not found or _NOT_A_CALL.search(text):
        return []
    found.sort(key=lambda h: (h.start, -len(h.matched)))
    kept: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    reach = -1
    for hit in found:
        if hit.start < reach:
            continue  # inside a longer hit (SearchFaces inside SearchFacesByImage)
        reach = hit.start + len(hit.matched)
        if (hit.service, hit.operation) not in seen:
            seen.add((hit.service, hit.operation))
            kept.append(hit)
    # a line naming three or more different operations lists them (documentation, an IAM
    # policy's actions, a route table): a call names the one it makes
    return kept if len({h.operation for h in kept}) < _LISTING else []


def _term(low: str, text: str, start: int, end: int, terms: tuple[Term, ...]) -> Hit | None:
    if start > 0 and _joins(low[start]) and _joins(low[start - 1]):
        return None  # inside a longer name (a term that starts with `.` may follow one)
    after = low[end + 1 : end + 10]
    if (
        _joins(low[end])
        and _joins(after[:1])
        and not any(
            after.startswith(s) and not _joins(after[len(s) : len(s) + 1]) for s in _SUFFIXES
        )
    ):
        return None
    matched = text[start : end + 1]
    term = _pick(terms, low, matched)
    return Hit(start, matched, term.service, term.operation, term.kind)


def _joins(ch: str) -> bool:
    """True when `ch` continues a name (`face-search-consumer` is a role, not FaceSearch)."""
    return ch.isalnum() or ch in ("_", "-")


def _pick(terms: tuple[Term, ...], low: str, matched: str) -> Term:
    """Of the calls one text names, the one whose service the line names, else the one
    spelled exactly as matched (`compare_faces` is face_recognition's), else the first."""
    if len(terms) == 1:
        return terms[0]
    named = [t for t in terms if t.service in low]
    if len(named) == 1:
        return named[0]
    return next((t for t in named or terms if t.operation == matched), (named or terms)[0])


def _route(text: str, start: int) -> Hit | None:
    m = _PATH.match(text, start)
    if m is None:
        return None
    path = m.group()
    before = _METHOD_BEFORE.search(text, max(0, start - 200), start)
    method = (before.group(1) if before and before.group(1) else "POST").upper()
    route = match_route(method, path)
    if route is None or route.kind not in MATCHING_KINDS:
        return None
    return Hit(start, path, route.service, route.operation, route.kind)


@dataclass
class Sweeper:
    """Sweeps the unread lines and records of one file into its result."""

    result: FileResult
    timezone: str = "UTC"
    #: Why the swept text was not read, for the notices (`no source reads this file`, ...).
    reason: str = "no source could read it"
    #: The time of the latest swept line that gave one.
    last_time: datetime | None = None
    hits: int = 0
    _block: list[tuple[int, int | None, list[Hit], str]] = field(default_factory=list)
    #: The latest line that may start with a time, parsed only when a hit needs it (most
    #: swept lines have no hit, and the time parse would cost more than the scan).
    _dated: str | None = None

    def line(
        self,
        raw: bytes | str,
        lineno: int | None,
        record: int | None = None,
        when: datetime | None = None,
    ) -> None:
        """Sweep one unread line (`when`: a time its wrapper gave, if any)."""
        text = raw if isinstance(raw, str) else raw[:MAX_SWEEP_CHARS].decode("utf-8", "replace")
        text = text.rstrip("\r\n")
        if self._block and not _continues(text):
            self._block_line(text, lineno, record)
            self.flush()
            return
        if not self._block and text.startswith("Traceback (most recent call last)"):
            self._block.append((lineno or 0, record, [], text))
            return
        if self._block:
            self._block_line(text, lineno, record)
            return
        hits = scan(text)
        if when is not None:
            self.last_time, self._dated = when, None
        if hits:
            stamp = when or self._time(text)
            if stamp is not None:
                self._dated = None
            self._emit(hits, lineno, record, text, stamp, failure_of(text))
        elif when is None and (text[:1].isdigit() or text[:1] in ("[", "<")):
            self._dated = text

    def record(self, rec: Any, line: int | None, index: int | None) -> None:
        """Sweep one JSON record of unknown shape (its strings, as compact JSON)."""
        try:
            text = orjson.dumps(rec).decode("utf-8", "replace")[:MAX_SWEEP_CHARS]
        except TypeError:
            text = str(rec)[:MAX_SWEEP_CHARS]
        self.flush()
        hits = scan(text)
        if hits:
            self._emit(hits, line, index, text, self._time(text), failure_of(text))

    def flush(self) -> None:
        """End a pending traceback block (at the end of the file, or of a wrapped stream).

        A traceback is one failed call: its first catalogued call (the outermost frame: the
        program's own call) is the event, failed with the exception's name; the calls it went
        through inside the library are named in `also_named`."""
        if not self._block:
            return
        block, self._block = self._block, []
        found = [(lineno, record, hit) for lineno, record, hits, _ in block for hit in hits]
        if not found:
            return
        lineno, record, first = found[0]
        others = dict.fromkeys(
            f"{h.service} {h.operation}"
            for _, _, h in found[1:]
            if (h.service, h.operation) != (first.service, first.operation)
        )
        text = "\n".join(t for _, _, _, t in block)
        extra = {"also_named": ", ".join(others)} if others else {}
        error = failure_of(block[-1][3]) or "Exception"
        self._emit([first], lineno or None, record, text, None, error, extra)

    def _block_line(self, text: str, lineno: int | None, record: int | None) -> None:
        self._block.append((lineno or 0, record, scan(text), text))

    def _earlier(self) -> datetime | None:
        """The time of the latest line before that gave one (parsed now if not yet)."""
        if self._dated is not None:
            text, self._dated = self._dated, None
            self._time(text)
        return self.last_time

    def _time(self, text: str) -> datetime | None:
        raw = line_time(text)
        if raw is not None:
            try:
                self.last_time = parse_time(raw, self.timezone)
            except (ValueError, TypeError, OverflowError):
                pass
            else:
                return self.last_time
        return None

    def _emit(
        self,
        hits: list[Hit],
        lineno: int | None,
        record: int | None,
        text: str,
        stamp: datetime | None,
        error: str | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        when = stamp or self._earlier()
        arn = _ARN.search(text)
        principal = (
            Principal(id=arn.group(), arns=(arn.group(),), account=arn.group(1))
            if arn
            else Principal(id="unknown")
        )
        for hit in hits:
            self.hits += 1
            attrs = {
                "matched_term": hit.matched,
                "catalogued_kind": hit.kind.value,
                **(extra or {}),
            }
            if when is None:
                attrs[TIME_KNOWN] = "false"
            self.result.events.append(
                Event(
                    source=NAME,
                    file=self.result.path,
                    time=when or NO_TIME,
                    service=hit.service,
                    operation=hit.operation,
                    kind=OperationKind.SUSPECTED_FACE_MATCHING,
                    principal=principal,
                    record=record,
                    line=lineno,
                    outcome="failed" if error else "succeeded",
                    error_code=error,
                    attributes=tuple(sorted(attrs.items())),
                )
            )
            self.result.notices.append(
                Notice(
                    self.result.path,
                    f"names {hit.matched!r} ({hit.service} {hit.operation}, "
                    f"{hit.kind.value}) but {self.reason}: suspected face matching",
                    line=lineno,
                    record=record,
                )
            )


def _continues(text: str) -> bool:
    """True for a line inside a traceback block (indented, or a chaining line)."""
    return (
        text[:1] in (" ", "\t")
        or not text
        or text.startswith(("During handling of the above", "The above exception"))
        or text.startswith("Traceback (most recent call last)")
    )
