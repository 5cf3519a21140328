"""Small helpers every format shares: severity order, the gate verdict, rule lookup, locations.

They read the `auditor.report/v1` dict only, so a stored run renders exactly like a fresh one.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.core import gate
from auditor.core.gate import SEVERITIES, severity_rank

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

__all__ = ["SEVERITIES", "severity_rank"]


def _settings(report: dict[str, Any]) -> dict[str, Any]:
    return dict(report.get("settings", {}))


def verdict(report: dict[str, Any]) -> gate.Verdict:
    """The gate's verdict for a report (fresh or stored), from `core.gate`."""
    settings = _settings(report)
    return gate.decide(
        incomplete=report["run"].get("status") == "incomplete",
        fail_on=settings.get("fail_on", gate.DEFAULT_FAIL_ON),
        severities=(f["severity"] for f in report["findings"] if not f.get("baselined")),
        undecided=undecided_count(report),
        fail_on_undecided=bool(settings.get("fail_on_undecided")),
        unknown_principals=int(report.get("summary", {}).get("unknown_principals", 0) or 0),
    )


def gate_exit_code(report: dict[str, Any]) -> int:
    """The exit code the gate gives this report: 3 incomplete, 1 findings at `fail_on`, else 0.

    Baselined findings never fail the gate. `--exit-zero` is a command-line choice and is not
    part of the report.
    """
    return verdict(report).exit_code


def gate_caution(report: dict[str, Any]) -> str:
    """Why a passing gate is not a clean pass (see `core.gate.Verdict.caution`)."""
    return verdict(report).caution()


def gate_text(report: dict[str, Any]) -> str:
    """Why the gate gives its exit code, in one sentence (table)."""
    return verdict(report).sentence()


def undecided_count(report: dict[str, Any]) -> int:
    """How many event/rule pairs could not be decided (`undecided[]` entries are groups with a
    `count`; stored runs from before list one entry per event)."""
    return sum(int(u.get("count", 1)) for u in report.get("undecided") or [])


def undecided_by_pack(report: dict[str, Any]) -> dict[str, int]:
    """Cannot-decide entries per pack (the summary's, or counted from `undecided` for runs
    stored before the summary carried them)."""
    counts = report["summary"].get("cannot_decide_by_pack")
    if counts is None:
        counts = {}
        for u in report.get("undecided", []):
            counts[u["pack"]] = counts.get(u["pack"], 0) + int(u.get("count", 1))
    return dict(sorted(counts.items()))


def gate_failing(report: dict[str, Any], finding: dict[str, Any]) -> bool:
    """Does this one finding fail the gate (severity at or above fail_on, not baselined)?"""
    fail_on = _settings(report).get("fail_on", gate.DEFAULT_FAIL_ON)
    return gate.fails(finding["severity"], fail_on, bool(finding.get("baselined")))


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


def undecided_by_rule(report: dict[str, Any]) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """(pack, rule) -> (events the rule could not decide, the fields they lacked, in order)."""
    out: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for u in report.get("undecided") or []:
        count, fields = out.get((u["pack"], u["rule"]), (0, []))
        missing = [m for m in u.get("missing") or [] if m not in fields]
        out[(u["pack"], u["rule"])] = (count + int(u.get("count", 1)), fields + missing)
    return out


def rules_of(report: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(pack, rule) pairs of every pack used, in report order; stored runs made before rule
    metadata existed give one synthetic rule per (pack, rule) seen in the findings."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for pack in report["packs"]:
        rules = pack.get("rules")
        if rules is None:
            seen: dict[str, dict[str, Any]] = {}
            for f in report["findings"]:
                if f["pack"] == pack["id"] and f["rule"] not in seen:
                    seen[f["rule"]] = {
                        "id": f["rule"],
                        "title": f["title"],
                        "severity": f["severity"],
                        "confidence": f["confidence"],
                        "kind": "prohibit",
                        "cite": [],
                    }
            rules = list(seen.values())
        out.extend((pack, r) for r in rules)
    return out


def help_uri(pack: dict[str, Any], rule: dict[str, Any]) -> str | None:
    """The best web page for a rule: a primary cited source, else any cited, else the pack's."""
    sources = pack.get("sources") or []
    cited = [s for s in sources if s["id"] in set(rule.get("cite") or [])]
    for group in (
        [s for s in cited if s.get("confidence") == "P"],
        cited,
        [s for s in sources if s.get("confidence") == "P"],
        sources,
    ):
        for s in group:
            url = s.get("url") or ""
            if web_url(url):
                return str(url)
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


def location_text(event: dict[str, Any]) -> str:
    """`file#record:line` for one event."""
    text = str(event["file"])
    if event.get("record") is not None:
        text += f"#{event['record']}"
    if event.get("line") is not None:
        text += f":{event['line']}"
    return text


def finding_faces(finding: dict[str, Any]) -> int | None:
    """Faces seen across a finding's analysed frames (None when no frame was analysed)."""
    counts = [fr["faces"] for fr in finding.get("frames", []) if fr.get("faces") is not None]
    return sum(counts) if counts else None


def finding_persons(finding: dict[str, Any]) -> list[str]:
    """Distinct person labels across a finding's frames."""
    return sorted({p for fr in finding.get("frames", []) for p in fr.get("persons", [])})


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 finding`, `2 findings` (`many` for irregular plurals)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def findings_phrase(report: dict[str, Any]) -> str:
    """`13 findings (1 critical, 10 high, 2 medium)`, `no findings`; baselined ones are named
    (`..., 2 baselined`) because they are reported but do not fail the gate."""
    counts = report["summary"]["findings"]
    total = sum(int(counts.get(s, 0)) for s in SEVERITIES)
    if not total:
        return "no findings"
    parts = [f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)]
    baselined = int(report["summary"].get("baselined", 0) or 0)
    if baselined:
        parts.append(f"{baselined} baselined")
    return f"{plural(total, 'finding')} ({', '.join(parts)})"


def verdict_word(report: dict[str, Any]) -> str:
    """FAIL when the gate fails on findings (or on cannot-decide with --fail-on-undecided),
    INCOMPLETE when it does not but some input was unreadable, else PASS."""
    settings = _settings(report)
    fail_on = settings.get("fail_on", gate.DEFAULT_FAIL_ON)
    failing = any(
        gate.fails(f["severity"], fail_on, bool(f.get("baselined"))) for f in report["findings"]
    )
    if failing or (settings.get("fail_on_undecided") and undecided_count(report)):
        return "FAIL"
    return "INCOMPLETE" if report["run"].get("status") == "incomplete" else "PASS"


def verdict_sentence(report: dict[str, Any]) -> str:
    """The verdict in words with every qualifier a reader must not miss, e.g.
    `FAIL: 13 findings (1 critical, 10 high, 2 medium) by 6 organisations under 6 of 22 packs;
    45 event checks could not be judged; 1 principal unknown; audit incomplete: 2 input errors
    in 2 files`.

    A pure function of the `auditor.report/v1` dict (one pass over the findings), so every
    format that wants one sentence says the same thing. A qualifier is left out when its
    count is zero; the exit code is not part of it (`--exit-zero` is not in the report).
    """
    organisations: set[str] = set()
    packs_hit: set[str] = set()
    for f in report["findings"]:
        packs_hit.add(str(f["pack"]))
        organisations.update(str(e["organisation"]) for e in f["events"][:1])
    parts = [findings_phrase(report)]
    if packs_hit:
        parts[0] += (
            f" by {plural(len(organisations), 'organisation')} under "
            f"{len(packs_hit)} of {plural(len(report['packs']), 'pack')}"
        )
    else:
        parts[0] += f" under {plural(len(report['packs']), 'pack')}"
    undecided = undecided_count(report)
    if undecided:
        parts.append(f"{plural(undecided, 'event check')} could not be judged")
    unknown = int(report["summary"].get("unknown_principals", 0) or 0)
    if unknown:
        parts.append(f"{plural(unknown, 'principal')} unknown")
    errors = report.get("errors") or []
    if report["run"].get("status") == "incomplete":
        files = {str(e.get("file")) for e in errors}
        counted = f"{plural(len(errors), 'input error')} in {plural(len(files), 'file')}"
        parts.append(f"audit incomplete: {counted}")
    return f"{verdict_word(report)}: " + "; ".join(parts)
