"""What the command line does differently on a terminal: colour, width, progress, verbosity,
and the one verdict line on stderr when every report went to a file.

Nothing here changes a report file: colour and the terminal's width apply to the table written
to stdout only, so `-o report.txt` gives the same bytes wherever it runs.
"""

from __future__ import annotations

import difflib
import enum
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.core.reportdoc import TypedReport

#: The `--format` names for `--help`, written out so that listing them does not import every
#: reporter (and the log sources behind the HTML excerpts) on each start; `format_name`
#: validates against `report.REPORTERS` itself, and a test checks the two agree.
FORMAT_NAMES = ("table", "json", "sarif", "junit", "csv", "html")


class ColorMode(enum.StrEnum):
    """`--color`: auto follows NO_COLOR, FORCE_COLOR and whether stdout is a terminal."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


def use_color(mode: ColorMode, env: dict[str, str] | None = None) -> bool:
    """Whether the table on stdout is coloured: --color always/never win; with auto, a
    non-empty NO_COLOR (no-color.org) turns colour off, a non-empty FORCE_COLOR turns it on,
    else colour follows whether stdout is a terminal."""
    if mode is ColorMode.ALWAYS:
        return True
    if mode is ColorMode.NEVER:
        return False
    env = dict(os.environ) if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def stdout_width(env: dict[str, str] | None = None) -> int:
    """The table's width on stdout: the terminal's; else a positive COLUMNS; else
    DEFAULT_WIDTH."""
    from auditor.report.table import DEFAULT_WIDTH

    env = dict(os.environ) if env is None else env
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return DEFAULT_WIDTH


def format_name(value: str) -> str:
    """`--format`: a registered format, case-insensitive; a typo is a usage error (exit 2)
    naming the closest one."""
    import typer

    from auditor.report import REPORTERS

    name = value.lower()
    if name not in REPORTERS:
        hint = did_you_mean(name, REPORTERS)
        raise typer.BadParameter(f"unknown format {value!r} (known: {', '.join(REPORTERS)}).{hint}")
    return name


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """ " Did you mean 'json'?" for the closest known word (difflib), or ""."""
    near = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.6)
    return f" Did you mean {near[0]!r}?" if near else ""


class Verbosity(enum.IntEnum):
    """-q, neither, -v."""

    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


def verbosity(quiet: bool, verbose: bool) -> Verbosity:
    """-q and -v together are a usage error (exit 2)."""
    if quiet and verbose:
        import typer

        raise typer.BadParameter("give -q/--quiet or -v/--verbose, not both")
    return Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL


#: The first stage of the progress display: packs, configuration, store, cluster start-up.
STARTING = "starting"


@dataclass
class StageTimes:
    """When each stage started and its last count, for -v's summary lines."""

    started: dict[str, float] = field(default_factory=dict)
    last: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def update(self, stage: str, done: int, total: int) -> None:
        """Record a progress call."""
        now = time.monotonic()
        self.started.setdefault(stage, now)
        self.last[stage] = (done, total, now)

    def lines(self) -> list[str]:
        """`logs: 12/12 in 0.8 s`, one per stage, in the order they began."""
        out = []
        for stage, begun in self.started.items():
            done, total, at = self.last[stage]
            out.append(f"{stage}: {done}/{total} in {at - begun:.1f} s")
        return out


def progress(
    level: Verbosity, times: StageTimes, color: ColorMode = ColorMode.AUTO
) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A progress callback and a function to close the display.

    On a terminal (stderr) and unless -q: a transient display with a start-up stage (packs,
    store, cluster, models), then one line per stage with its bar, `done/total` and the
    elapsed time, coloured unless --color never (or NO_COLOR). Elsewhere nothing is drawn;
    `times` is always kept for -v.
    """
    if level is Verbosity.QUIET or not sys.stderr.isatty():
        return times.update, lambda: None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, color_system=None if color is ColorMode.NEVER else "auto"),
        transient=True,
    )
    bar.start()
    tasks: dict[str, Any] = {STARTING: bar.add_task(STARTING, total=None)}

    def update(stage: str, done: int, total: int) -> None:
        times.update(stage, done, total)
        if tasks.get(STARTING) is not None:  # the first real stage ends the start-up
            bar.update(tasks[STARTING], total=1, completed=1, visible=False)
            tasks[STARTING] = None
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update, bar.stop


def verdict_line(report: Mapping[str, Any] | TypedReport, exit_code: int) -> str:
    """`auditor: 13 findings (1 critical, 10 high, 2 medium), 45 cannot decide, exit 1`."""
    from auditor.core.gate import SEVERITIES
    from auditor.report.common import undecided_count

    typed = TypedReport.of(report)
    summary = typed.head.summary
    counts = summary.findings.model_dump()
    total = sum(counts[s] for s in SEVERITIES)
    parts = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
    text = f"auditor: {total} finding{'' if total == 1 else 's'}"
    if parts:
        text += f" ({parts})"
    if summary.baselined:
        text += f", {summary.baselined} baselined"
    text += f", {undecided_count(typed)} cannot decide"
    errors = len(typed.head.errors)
    if errors:
        text += f", {errors} input error{'' if errors == 1 else 's'}"
    return f"{text}, exit {exit_code}"
