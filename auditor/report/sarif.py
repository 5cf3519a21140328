"""`--format sarif`: SARIF 2.1.0 for code-scanning dashboards and CI gates.

One run. `tool.driver.rules` lists every rule of every pack used (not only those that fired),
with the pack's citation as help text and a cited source as `helpUri`. Each finding is a result:
level from severity, the log file (bundle-relative, under the `BUNDLEROOT` base) and the line its
record starts on as location, frames as related locations, the finding id as a partial
fingerprint (stable across runs), and baselined findings as accepted external suppressions.
Input errors are tool execution notifications; the invocation carries the gate's exit code.

GitHub code scanning reads `artifactLocation.uri` relative to the repository root and does not
resolve `originalUriBaseIds`, so with a SARIF root (`--sarif-root`, the bundle folder's path in
the repository) every uri is written repository-relative under `SRCROOT`, and `BUNDLEROOT` is
declared as that folder. GitHub rejects a run of more than 25,000 results and a file of more
than 10 MB gzipped: at most `MAX_RESULTS` results are written (most severe first, the rest
counted in a notification), and a file over `MAX_GZIP_BYTES` gzipped is reported through
`RenderOptions.warn`. The mapping is documented in docs/reports.md; tests validate the output
against the official schema shipped in `auditor/report/schemas/` and with Microsoft's SARIF
Multitool.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from typing import Any, TextIO, cast
from urllib.parse import quote

from auditor.core.jsonstream import Lazy, write_json
from auditor.report.base import RenderOptions
from auditor.report.common import (
    finding_faces,
    finding_persons,
    help_uri,
    markdown_text,
    rules_of,
    template_text,
    verdict,
    web_url,
)
from auditor.report.sarif_github import (
    MAX_GZIP_BYTES,
    MAX_RESULTS,
    GzipCounter,
    cap_message,
    information_uri,
    priority,
    results_cap,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "BUNDLEROOT"
#: The repository root, the base GitHub code scanning resolves every relative uri against.
ROOT_ID = "SRCROOT"
FINGERPRINT_KEY = "auditorFinding/v1"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
#: GitHub code scanning reads this property to rank results (CVSS-like 0.0-10.0).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
#: Bundle inputs listed as artifacts (packs live outside the bundle: see driver properties).
_ROLES = {
    "log": "analysisTarget",
    "frame": "analysisTarget",
    "probe": "analysisTarget",
    "config": "userSpecifiedConfiguration",
}


def _uri(path: str) -> str:
    """A bundle-relative path as a relative URI reference (spaces, `#`, `%` ... escaped)."""
    return quote(path, safe="/")


def _artifact(path: str, root: str | None = None) -> dict[str, Any]:
    if root is None:
        return {"uri": _uri(path), "uriBaseId": BASE_ID}
    return {"uri": _uri(f"{root}/{path}" if root else path), "uriBaseId": ROOT_ID}


def _rule(pack: dict[str, Any], rule: dict[str, Any], rule_id: str) -> dict[str, Any]:
    title = template_text(rule["title"])
    citation = pack.get("citation") or ""
    cited = [s for s in pack.get("sources") or [] if s["id"] in set(rule.get("cite") or [])]
    lines = [
        f"{title}.",
        "",
        f"Pack {pack['id']} {pack['version']} ({pack.get('status', '')}): "
        f"{pack.get('title', pack['id'])}.",
    ]
    md = [
        f"**{markdown_text(title)}**",
        "",
        f"Pack {markdown_text(pack['id'])} {markdown_text(pack['version'])} "
        f"({markdown_text(pack.get('status', ''))}): "
        f"{markdown_text(pack.get('title', pack['id']))}.",
    ]
    if citation:
        lines += ["", f"Citation: {citation}"]
        md += ["", f"Citation: {markdown_text(citation)}"]
    if cited:
        lines += ["", "Sources:"] + [
            f"- [{s['confidence']}] {s['title']} "
            f"{s.get('url', '') if web_url(s.get('url')) else ''}".rstrip()
            for s in cited
        ]
        md += ["", "Sources:", ""] + [
            f"- \\[{markdown_text(s['confidence'])}\\] "
            + (
                f"[{markdown_text(s['title'])}](<{s['url']}>)"
                if web_url(s.get("url"))
                else markdown_text(s["title"])
            )
            for s in cited
        ]
    out: dict[str, Any] = {
        "id": rule_id,
        "name": f"{pack['id']}/{rule['id']}",
        "shortDescription": {"text": title},
        "fullDescription": {
            "text": f"{title} ({rule.get('kind', 'prohibit')} rule of "
            f"{pack.get('title', pack['id'])})."
        },
        "help": {"text": "\n".join(lines), "markdown": "\n".join(md)},
        "defaultConfiguration": {"level": LEVELS.get(rule["severity"], "warning")},
        "properties": {
            "pack": pack["id"],
            "packVersion": pack["version"],
            "severity": rule["severity"],
            "confidence": rule.get("confidence", "P"),
            "kind": rule.get("kind", "prohibit"),
            "security-severity": SECURITY_SEVERITY.get(rule["severity"], "5.5"),
            "tags": ["face-recognition", "moratorium", pack["id"]],
        },
    }
    uri = help_uri(pack, rule)
    if uri:
        out["helpUri"] = uri
    return out


def _start_line(item: dict[str, Any]) -> int | None:
    """The line the record starts on: `start_line` (records of a multi-line document), else
    the line a line-located record is on."""
    line = item.get("start_line")
    if line is None:
        line = item.get("line")
    return None if line is None else int(line)


def _location(event: dict[str, Any], root: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(event["file"], root)}
    line = _start_line(event)
    if line is not None:
        physical["region"] = {"startLine": line}
    loc: dict[str, Any] = {"physicalLocation": physical}
    if event.get("record") is not None:
        loc["logicalLocations"] = [
            {
                "name": f"record {event['record']}",
                "fullyQualifiedName": f"{event['file']}#{event['record']}",
                "kind": "element",
            }
        ]
    return loc


def _result(finding: dict[str, Any], index: int, rule_id: str, root: str | None) -> dict[str, Any]:
    first = finding["events"][0]
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "kind": "fail",
        "level": LEVELS.get(finding["severity"], "warning"),
        "message": {"text": finding["message"]},
        "locations": [_location(first, root)],
        "partialFingerprints": {FINGERPRINT_KEY: finding["id"]},
        "properties": {
            "findingId": finding["id"],
            "pack": finding["pack"],
            "packVersion": finding["pack_version"],
            "severity": finding["severity"],
            "confidence": finding["confidence"],
            "attempt": finding["attempt"],
            "baselined": bool(finding.get("baselined")),
            "time": first["time"],
            "eventId": first.get("event_id"),
            "principal": first["principal"],
            "organisation": first["organisation"],
            "category": first["category"],
            "service": first["service"],
            "operation": first["operation"],
            "operationKind": first["kind"],
            "outcome": first["outcome"],
            "faces": finding_faces(finding),
            "persons": len(finding_persons(finding)),
            "probes": [p["name"] for p in finding.get("probes", [])],
        },
    }
    related = []
    for i, fr in enumerate(finding.get("frames", []), start=1):
        faces = "not analysed" if fr.get("faces") is None else f"{fr['faces']} face(s)"
        related.append(
            {
                "id": i,
                "physicalLocation": {"artifactLocation": _artifact(fr["path"], root)},
                "message": {
                    "text": f"frame: {faces}" + (f" ({fr['error']})" if fr.get("error") else "")
                },
            }
        )
    if related:
        result["relatedLocations"] = related
    if finding.get("baselined"):
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "accepted in the baseline file (see its reason, who and expiry)",
            }
        ]
    return result


def _notification(item: dict[str, Any], level: str, root: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level, "message": {"text": item["message"]}}
    if item.get("file"):
        physical: dict[str, Any] = {"artifactLocation": _artifact(item["file"], root)}
        line = _start_line(item)
        if line is not None:
            physical["region"] = {"startLine": line}
        out["locations"] = [{"physicalLocation": physical}]
    return out


def _run_guid(run_id: str) -> str | None:
    try:
        return str(uuid.UUID(hex=run_id))
    except ValueError:
        return None


def _bases(root: str | None) -> dict[str, Any]:
    """`originalUriBaseIds`: the bundle folder, and with a SARIF root the repository root it
    sits in (left without a uri: only the consumer knows where the checkout is)."""
    bundle = {"description": {"text": "The audit bundle folder; every path is relative to it."}}
    if root is None:
        return {BASE_ID: bundle}
    return {
        ROOT_ID: {"description": {"text": "The repository root; every uri is relative to it."}},
        BASE_ID: {
            **({"uri": f"{_uri(root)}/"} if root else {}),
            "uriBaseId": ROOT_ID,
            "description": {"text": "The audit bundle folder, inside the repository."},
        },
    }


def to_sarif(
    report: dict[str, Any],
    root: str | None = None,
    info_uri: str | None = None,
    limit: int = MAX_RESULTS,
) -> dict[str, Any]:
    """The SARIF log as a dict whose results (and rules) are `Lazy`: write it with `write_json`.

    `root` is the bundle's path in the repository (`check_root`), `info_uri` the tool's web
    page, `limit` the most results written."""
    pairs = rules_of(report)
    cap = results_cap(report, limit)
    written = limit if cap is not None else len(report["findings"])
    index = {(p["id"], r["id"]): i for i, (p, r) in enumerate(pairs)}
    counts = Counter(r["id"] for _, r in pairs)
    # rule ids are meant to be unique across packs; if two packs share one, qualify both
    qualify = {rid for rid, n in counts.items() if n > 1}

    def results() -> Any:
        # a generator: results are made one by one while the document is written
        room = cap[1] if cap is not None else 0
        for f in report["findings"]:
            if cap is not None:
                key = priority(f)
                if key > cap[0]:
                    continue
                if key == cap[0]:
                    if room == 0:
                        continue
                    room -= 1
            i = index.get((f["pack"], f["rule"]))
            if i is None:  # a finding of a rule the pack no longer lists (stored run)
                pairs.append(
                    (
                        {"id": f["pack"], "version": f["pack_version"]},
                        {
                            "id": f["rule"],
                            "title": f["title"],
                            "severity": f["severity"],
                            "confidence": f["confidence"],
                            "kind": "prohibit",
                            "cite": [],
                        },
                    )
                )
                i = index[(f["pack"], f["rule"])] = len(pairs) - 1
            rule_id = f"{f['pack']}/{f['rule']}" if f["rule"] in qualify else f["rule"]
            yield _result(f, i, rule_id, root)

    def rules() -> Any:
        # keys are written sorted, so `tool` (and these rules) come after `results`: rules
        # that only stored findings name are known by then
        return [
            _rule(p, r, f"{p['id']}/{r['id']}" if r["id"] in qualify else r["id"]) for p, r in pairs
        ]

    run = report["run"]
    decided = verdict(report)
    exit_code = decided.exit_code
    invocation: dict[str, Any] = {
        "executionSuccessful": run.get("status") == "complete",
        "exitCode": exit_code,
        "exitCodeDescription": decided.short(),
        "startTimeUtc": run["started"],
        "endTimeUtc": run["finished"],
        "toolExecutionNotifications": [_notification(e, "error", root) for e in report["errors"]],
        "toolConfigurationNotifications": [
            _notification(n, "warning", root) for n in report["notices"]
        ],
    }
    if cap is not None:
        invocation["toolExecutionNotifications"].append(
            {"level": "warning", "message": {"text": cap_message(report, limit)}}
        )
    sarif_run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report["tool"]["name"],
                "version": report["tool"]["version"],
                "semanticVersion": report["tool"]["version"],
                "rules": Lazy(rules, len(pairs)),
                "properties": {
                    "packs": [
                        {
                            "id": p["id"],
                            "version": p["version"],
                            "sha256": p.get("sha256"),
                            "path": p.get("path"),
                        }
                        for p in report["packs"]
                    ]
                },
            }
        },
        "automationDetails": {"id": f"auditor/{run['id']}"},
        "originalUriBaseIds": _bases(root),
        "artifacts": [
            {
                "location": _artifact(i["path"], root),
                "hashes": {"sha-256": i["sha256"]},
                "roles": [_ROLES[i["kind"]]],
            }
            for i in report["inputs"]
            if i["kind"] in _ROLES and i.get("sha256")
        ],
        "invocations": [invocation],
        "results": Lazy(results, written),
        "columnKind": "unicodeCodePoints",
        "properties": {"bundle": report["bundle"]["name"], "summary": report["summary"]},
    }
    if info_uri:
        sarif_run["tool"]["driver"]["informationUri"] = info_uri
    guid = _run_guid(run["id"])
    if guid:
        sarif_run["automationDetails"]["guid"] = guid
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [sarif_run]}


class SarifReporter:
    """See `Reporter.render`."""

    name = "sarif"
    extension = "sarif"

    def write(self, report: dict[str, Any], options: RenderOptions, out: TextIO) -> None:
        """See `StreamingReporter.write`: results are written one by one; the results cap and
        a file over GitHub's gzipped size limit are said through `options.warn`."""
        doc = to_sarif(report, options.sarif_root, information_uri())
        if options.warn is not None and len(report["findings"]) > MAX_RESULTS:
            options.warn(cap_message(report))
        sink = GzipCounter(out)
        # keys sorted: a stored run (keys sorted by the store) renders byte for byte the same
        write_json(doc, cast(TextIO, sink))
        size = sink.close()
        if options.warn is not None and size > MAX_GZIP_BYTES:
            options.warn(
                f"SARIF is {size / 1048576:.1f} MB gzipped: GitHub code scanning rejects a "
                f"file over {MAX_GZIP_BYTES // 1048576} MB gzipped (audit fewer packs with "
                "--policy, or the bundle's logs in parts, for the upload)"
            )

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        buf = io.StringIO()
        self.write(report, options, buf)
        return buf.getvalue()
