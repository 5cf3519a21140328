"""The gate: severity order, `--fail-on`, the exit code and the words that explain it.

One owner for a contract every output repeats: the audit computes its exit code here from
`Finding` values, and every reporter recomputes it here from the stored report, so a re-rendered
run can never disagree with the run that made it. Nothing here knows about reports or findings
as types: callers hand in severities (lower-case labels), counts and flags.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

#: Most severe first: the order of report tables, charts and SARIF levels.
SEVERITIES = ("critical", "high", "medium", "low")
#: What `--fail-on` accepts, least strict first as the command line lists it.
FAIL_ON = ("low", "medium", "high", "critical", "never")
DEFAULT_FAIL_ON = "low"

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """0 for critical ... 3 for low; unknown severities sort last."""
    return _RANK.get(severity, len(SEVERITIES))


def fails(severity: str, fail_on: str, baselined: bool = False) -> bool:
    """Does one finding of `severity` fail a gate set at `fail_on`? Baselined findings never do;
    `never` (or a value this version does not know, from a stored run) fails nothing."""
    if baselined or fail_on not in _RANK:
        return False
    return severity_rank(severity) <= _RANK[fail_on]


class Reason(enum.Enum):
    """Why the gate gives its exit code (the first that applies, in this order)."""

    INCOMPLETE = "incomplete"
    UNDECIDED = "undecided"
    FINDINGS = "findings"
    CLEAN = "clean"


@dataclass(frozen=True)
class Verdict:
    """The gate's decision with what its wording needs."""

    reason: Reason
    fail_on: str
    undecided: int
    unknown_principals: int = 0

    def caution(self) -> str:
        """Why a passing gate is not a clean pass: cannot-decide entries or unknown principals
        (empty when there are none, or when the gate does not pass)."""
        if self.reason is not Reason.CLEAN:
            return ""
        parts = []
        if self.undecided:
            parts.append(f"{self.undecided} cannot-decide entr(ies)")
        if self.unknown_principals:
            parts.append(f"{self.unknown_principals} unknown principal(s)")
        return ", ".join(parts)

    @property
    def css(self) -> str:
        """The HTML banner's class: incomplete, fail, caution (a pass with cautions) or pass."""
        if self.reason is Reason.INCOMPLETE:
            return "incomplete"
        if self.reason is not Reason.CLEAN:
            return "fail"
        return "caution" if self.caution() else "pass"

    @property
    def exit_code(self) -> int:
        """3 incomplete, 1 undecided with --fail-on-undecided or failing findings, else 0."""
        return {
            Reason.INCOMPLETE: EXIT_INCOMPLETE,
            Reason.UNDECIDED: EXIT_FINDINGS,
            Reason.FINDINGS: EXIT_FINDINGS,
            Reason.CLEAN: EXIT_OK,
        }[self.reason]

    def sentence(self) -> str:
        """One line for the terminal table: why the exit code is what it is."""
        caution = self.caution()
        if caution:
            return (
                f"no finding at or above --fail-on {self.fail_on}, baselined excluded (exit 0); "
                f"not a clean pass: {caution}"
            )
        return {
            Reason.INCOMPLETE: "audit incomplete (exit 3)",
            Reason.UNDECIDED: f"{self.undecided} cannot-decide entr(ies) with "
            "--fail-on-undecided (exit 1)",
            Reason.FINDINGS: f"findings at or above --fail-on {self.fail_on} (exit 1)",
            Reason.CLEAN: f"no finding at or above --fail-on {self.fail_on}, baselined "
            "excluded (exit 0)",
        }[self.reason]

    def banner(self) -> str:
        """The HTML report's banner text."""
        caution = self.caution()
        if caution:
            return (
                f"No finding at or above --fail-on {self.fail_on}, but not a clean pass: "
                f"{caution} (--fail-on-undecided fails the gate on them). Exit code 0."
            )
        return {
            Reason.INCOMPLETE: "Audit incomplete: some inputs could not be read "
            "(see Input errors). Exit code 3.",
            Reason.UNDECIDED: f"{self.undecided} cannot-decide entr(ies) "
            "with --fail-on-undecided. Exit code 1.",
            Reason.FINDINGS: f"Findings at or above --fail-on {self.fail_on}. Exit code 1.",
            Reason.CLEAN: f"No finding at or above --fail-on {self.fail_on} "
            "(baselined findings excluded). Exit code 0.",
        }[self.reason]

    def short(self) -> str:
        """SARIF's `exitCodeDescription`."""
        return {
            Reason.INCOMPLETE: "audit incomplete: some input unreadable",
            Reason.UNDECIDED: "cannot-decide entries with --fail-on-undecided",
            Reason.FINDINGS: "findings at or above --fail-on",
            Reason.CLEAN: "no finding at or above --fail-on",
        }[self.reason]


def decide(
    *,
    incomplete: bool,
    fail_on: str,
    severities: Iterable[str],
    undecided: int = 0,
    fail_on_undecided: bool = False,
    unknown_principals: int = 0,
) -> Verdict:
    """The verdict for an audit. `severities` are those of the findings that are not baselined
    (read lazily: the first failing one decides). Incomplete takes precedence over findings."""
    if incomplete:
        reason = Reason.INCOMPLETE
    elif fail_on_undecided and undecided:
        reason = Reason.UNDECIDED
    elif any(fails(s, fail_on) for s in severities):
        reason = Reason.FINDINGS
    else:
        reason = Reason.CLEAN
    return Verdict(reason, fail_on, undecided, unknown_principals)
