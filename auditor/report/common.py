"""Small helpers every format shares: severity order, the gate verdict, rule lookup, locations.

They read the typed report only (`core.reportdoc.TypedReport`), so a stored run renders exactly
like a fresh one.
"""

from __future__ import annotations

import re
from typing import Protocol

from auditor.core import gate
from auditor.core.gate import SEVERITIES, severity_rank
from auditor.core.report import EventRef, Finding, PackEntry, PackRule
from auditor.core.reportdoc import TypedReport

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

__all__ = ["SEVERITIES", "severity_rank"]


class Located(Protocol):
    """An event, notice, error or undecided sample: anything with a place in an input."""

    @property
    def file(self) -> str: ...
    @property
    def record(self) -> int | None: ...
    @property
    def line(self) -> int | None: ...


def verdict(report: TypedReport) -> gate.Verdict:
    """The gate's verdict for a report (fresh or stored), from `core.gate`."""
    head = report.head
    return gate.decide(
        incomplete=head.run.status == "incomplete",
        fail_on=head.settings.fail_on,
        severities=(f.severity for f in report.findings if not f.baselined),
        undecided=undecided_count(report),
        fail_on_undecided=head.settings.fail_on_undecided,
        unknown_principals=head.summary.unknown_principals,
    )


def gate_exit_code(report: TypedReport) -> int:
    """The exit code the gate gives this report: 3 incomplete, 1 findings at `fail_on`, else 0.

    Baselined findings never fail the gate. `--exit-zero` is a command-line choice and is not
    part of the report.
    """
    return verdict(report).exit_code


def gate_caution(report: TypedReport) -> str:
    """Why a passing gate is not a clean pass (see `core.gate.Verdict.caution`)."""
    return verdict(report).caution()


def gate_text(report: TypedReport) -> str:
    """Why the gate gives its exit code, in one sentence (table)."""
    return verdict(report).sentence()


def undecided_count(report: TypedReport) -> int:
    """How many event/rule pairs could not be decided (`undecided[]` entries are groups with a
    `count`; `core.report.upgrade` groups the per-event entries of older stored runs)."""
    return sum(u.count for u in report.head.undecided)


def undecided_by_pack(report: TypedReport) -> dict[str, int]:
    """Cannot-decide entries per pack, sorted by pack id."""
    return dict(sorted(report.head.summary.cannot_decide_by_pack.items()))


def gate_failing(report: TypedReport, finding: Finding) -> bool:
    """Does this one finding fail the gate (severity at or above fail_on, not baselined)?"""
    return gate.fails(finding.severity, report.head.settings.fail_on, finding.baselined)


def template_text(title: str) -> str:
    """A rule title template as plain text: `Police {operation}` -> `Police <operation>`."""
    return _PLACEHOLDER.sub(r"<\1>", title)


#: How a placeholder reads in a name that has no event to fill it (JUnit case names).
_PLAIN_FIELDS = {"operation": "face operation", "kind": "face operation kind"}
_PARENTHESISED = re.compile(r"\s*\(\{\w+\}\)")


def plain_title(title: str) -> str:
    """A rule title template as a name without placeholders, for views that list rules rather
    than events: a placeholder in parentheses is dropped (`Face recognition ({operation}) by
    ...` -> `Face recognition by ...`), any other is said in words (`Police {operation} on
    ...` -> `Police face operation on ...`)."""
    text = _PARENTHESISED.sub("", title)
    text = _PLACEHOLDER.sub(lambda m: _PLAIN_FIELDS.get(m[1], m[1].replace("_", " ")), text)
    return " ".join(text.split())


def undecided_by_rule(report: TypedReport) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """(pack, rule) -> (events the rule could not decide, the fields they lacked, in order)."""
    out: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for u in report.head.undecided:
        count, fields = out.get((u.pack, u.rule), (0, []))
        missing = [m for m in u.missing if m not in fields]
        out[(u.pack, u.rule)] = (count + u.count, fields + missing)
    return out


def rules_of(report: TypedReport) -> list[tuple[PackEntry, PackRule]]:
    """(pack, rule) pairs of every pack used, in report order."""
    return [(pack, rule) for pack in report.head.packs for rule in pack.rules]


def help_uri(pack: PackEntry, rule: PackRule) -> str | None:
    """The best web page for a rule: a primary cited source, else any cited, else the pack's."""
    sources = pack.sources
    cited = [s for s in sources if s.id in set(rule.cite)]
    for group in (
        [s for s in cited if s.confidence == "P"],
        cited,
        [s for s in sources if s.confidence == "P"],
        sources,
    ):
        for s in group:
            if web_url(s.url):
                return s.url
    return None


def web_url(url: object) -> bool:
    """True for an absolute http(s) URL with a host and no spaces, quotes or control
    characters: the only links a report may carry (never `javascript:` or `data:`)."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return False
    if any(ch.isspace() or not ch.isprintable() or ch in "\"'<>`" for ch in url):
        return False
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")


def markdown_text(text: object) -> str:
    """Pack text as literal Markdown: every character Markdown or HTML would act on is
    backslash-escaped, so a pack cannot put raw HTML or a link into a SARIF viewer."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def location_text(event: Located) -> str:
    """`file#record:line` for one event."""
    text = str(event.file)
    if event.record is not None:
        text += f"#{event.record}"
    if event.line is not None:
        text += f":{event.line}"
    return text


def finding_faces(finding: Finding) -> int | None:
    """Faces seen across a finding's analysed frames (None when no frame was analysed)."""
    counts = [fr.faces for fr in finding.frames if fr.faces is not None]
    return sum(counts) if counts else None


def finding_persons(finding: Finding) -> list[str]:
    """Distinct person labels across a finding's frames."""
    return sorted({p for fr in finding.frames for p in fr.persons})


def first_event(finding: Finding) -> EventRef:
    """The event a finding is listed under (every finding has at least one)."""
    return finding.events[0]


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 finding`, `2 findings` (`many` for irregular plurals)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def findings_phrase(report: TypedReport) -> str:
    """`13 findings (1 critical, 10 high, 2 medium)`, `no findings`; baselined ones are named
    (`..., 2 baselined`) because they are reported but do not fail the gate."""
    counts = report.head.summary.findings.model_dump()
    total = sum(int(counts.get(s, 0)) for s in SEVERITIES)
    if not total:
        return "no findings"
    parts = [f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)]
    baselined = report.head.summary.baselined
    if baselined:
        parts.append(f"{baselined} baselined")
    return f"{plural(total, 'finding')} ({', '.join(parts)})"


def verdict_word(report: TypedReport) -> str:
    """FAIL when the gate fails on findings (or on cannot-decide with --fail-on-undecided),
    INCOMPLETE when it does not but some input was unreadable, else PASS."""
    settings = report.head.settings
    failing = any(gate.fails(f.severity, settings.fail_on, f.baselined) for f in report.findings)
    if failing or (settings.fail_on_undecided and undecided_count(report)):
        return "FAIL"
    return "INCOMPLETE" if report.head.run.status == "incomplete" else "PASS"


def verdict_sentence(report: TypedReport) -> str:
    """The verdict in words with every qualifier a reader must not miss, e.g.
    `FAIL: 13 findings (1 critical, 10 high, 2 medium) by 6 organisations under 6 of 22 packs;
    45 event checks could not be judged; 1 principal unknown; audit incomplete: 2 input errors
    in 2 files`.

    A pure function of the typed report (one pass over the findings), so every format that
    wants one sentence says the same thing. A qualifier is left out when its count is zero;
    the exit code is not part of it (`--exit-zero` is not in the report).
    """
    head = report.head
    organisations: set[str] = set()
    packs_hit: set[str] = set()
    for f in report.findings:
        packs_hit.add(f.pack)
        organisations.update(e.organisation for e in f.events[:1])
    parts = [findings_phrase(report)]
    if packs_hit:
        parts[0] += (
            f" by {plural(len(organisations), 'organisation')} under "
            f"{len(packs_hit)} of {plural(len(head.packs), 'pack')}"
        )
    else:
        parts[0] += f" under {plural(len(head.packs), 'pack')}"
    undecided = undecided_count(report)
    if undecided:
        parts.append(f"{plural(undecided, 'event check')} could not be judged")
    unknown = head.summary.unknown_principals
    if unknown:
        parts.append(f"{plural(unknown, 'principal')} unknown")
    if head.run.status == "incomplete":
        files = {e.file for e in head.errors}
        counted = f"{plural(len(head.errors), 'input error')} in {plural(len(files), 'file')}"
        parts.append(f"audit incomplete: {counted}")
    return f"{verdict_word(report)}: " + "; ".join(parts)
