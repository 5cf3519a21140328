"""The usual manners of a command line, through the real `auditor` process: --version,
completion, typed choices with "did you mean", validated numbers, colour and width on a real
pseudo-terminal, progress, -q/-v, and the one verdict line when every report went to a file."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor import __version__
from tests.conftest import CLI_TIMEOUT, DEMO, ENTRY_POINT, ROOT

Cli = Callable[..., Any]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
AMAZON = "amazon-rekognition-police-2020"


def run_env(*args: object, env: dict[str, str], cwd: Path | None = None) -> tuple[int, str, str]:
    """The real command with exactly `env` added to (or removed from) the environment,
    stdout and stderr pipes (not a terminal)."""
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full.update(env)
    done = subprocess.run(
        [str(ENTRY_POINT), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def run_tty(*args: object, columns: int = 80, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The real command on a pseudo-terminal of `columns` columns (stdin, stdout and stderr
    all the terminal, as in an interactive shell): the exit code and everything it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    full.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen(
        [str(ENTRY_POINT), *(str(a) for a in args)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=full,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError as exc:  # EIO: the other side closed
            if exc.errno != errno.EIO:
                raise
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=CLI_TIMEOUT)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "Traceback" not in text, text
    return code, text


def test_version_flag(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"auditor {__version__}"


def test_shell_completion_is_enabled(cli: Cli) -> None:
    assert "--install-completion" in cli("--help").stdout
    # typer detects the shell from the parent processes: run it from bash, as a user would
    # (under `make test` the parents are make and sh, which have no completion)
    done = subprocess.run(
        # a second command keeps bash from exec-ing the first (it stays the parent)
        ["bash", "-c", f'"{ENTRY_POINT}" --show-completion; exit $?'],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    code, script = done.returncode, done.stdout
    assert code == 0 and "_AUDITOR_COMPLETE" in script  # typer's script for `auditor`
    # what bash runs on TAB, through that protocol
    env = {"_AUDITOR_COMPLETE": "complete_bash", "COMP_WORDS": "auditor au", "COMP_CWORD": "1"}
    code, words, _ = run_env(env=env)
    assert (code, words.split()) == (0, ["audit"])


def test_choices_are_listed_in_help(cli: Cli) -> None:
    text = " ".join(cli("audit", "--help").stdout.split())
    for listed in (
        "[table|json|sarif|junit|csv|html]",
        "<low|medium|high|critical|never>",
        "<onnx|dlib>",
        "<auto|always|never>",
    ):
        assert listed in text


def test_format_typo_suggests_the_nearest_and_case_does_not_matter(
    cli: Cli, tmp_path: Path
) -> None:
    db = tmp_path / "never.db"
    result = cli("audit", DEMO, "-f", "jsno", "--db", f"sqlite:///{db}")
    assert result.exit_code == 2
    assert "Did you mean 'json'?" in result.stderr
    assert not db.exists()
    out = tmp_path / "r.json"
    result = cli(
        "audit", DEMO, "-f", "JSON", "-o", out, "--fail-on", "HIGH", "--kernel", "DLIB",
        "--no-frames", "--no-store", "-p", AMAZON,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert json.loads(out.read_text())["settings"]["fail_on"] == "high"


def test_pack_typo_suggests_the_nearest(cli: Cli, tmp_path: Path) -> None:
    result = cli("policy", "show", "us-il-bipaa")
    assert result.exit_code == 2
    assert "did you mean 'us-il-bipa'?" in result.stderr
    result = cli("audit", DEMO, "-p", "amazon-rekognition-polise-2020", "--no-store")
    assert result.exit_code == 2
    assert f"did you mean {AMAZON!r}?" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("audit", DEMO, "--probe-tolerance", "-1"),
        ("audit", DEMO, "--workers", "-3"),
        ("audit", DEMO, "--upsample", "9"),
        ("audit", DEMO, "--scheduler-timeout", "0"),
        ("faces", DEMO / "frames", "--workers", "-3"),
        ("runs", "--limit", "0"),
        ("audit", DEMO, "-q", "-v"),
        ("audit", DEMO, "--color", "sometimes"),
    ],
    ids=lambda a: " ".join(str(x) for x in a[2:] if not str(x).startswith("/")),
)
def test_bad_numbers_and_choices_are_usage_errors(
    cli: Cli, tmp_path: Path, args: tuple[Any, ...]
) -> None:
    db = tmp_path / "never.db"
    result = cli(*args, "--db", f"sqlite:///{db}")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert not db.exists()


def test_extra_in_help_is_not_eaten_as_markup() -> None:
    code, text = run_tty("audit", "--help", columns=200)
    assert code == 0
    assert "auditor[dask]" in ANSI.sub("", text)


def test_faces_refuses_a_missing_path_before_any_work(cli: Cli, tmp_path: Path) -> None:
    result = cli("faces", DEMO / "frames" / "thorn", tmp_path / "missing.png", "--no-cache")
    assert result.exit_code == 2
    assert "missing.png: not found" in result.stderr
    assert result.stdout == ""  # nothing scanned, not even the engine line


def test_runs_does_not_create_a_database(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "sub" / "audit.db"
    result = cli("runs", "--db", f"sqlite:///{db}")
    assert result.exit_code == 0
    assert "no runs recorded" in result.stdout
    assert not db.exists() and not db.parent.exists()
    result = cli("runs", "--db", f"sqlite:///{db}", "--json")
    assert (result.exit_code, result.stdout) == (0, "")
    assert not db.exists()


def _verdict(report: dict[str, Any], code: int) -> str:
    f = report["summary"]["findings"]
    total = sum(f.values())
    parts = ", ".join(f"{f[s]} {s}" for s in ("critical", "high", "medium", "low") if f[s])
    undecided = sum(u.get("count", 1) for u in report["undecided"])
    return f"auditor: {total} findings ({parts}), {undecided} cannot decide, exit {code}"


def test_one_verdict_line_when_every_report_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    base = ("audit", DEMO, "--no-frames", "--no-store", "-f", "json", "-o", out)
    code, stdout, stderr = run_env(*base, env={})
    report = json.loads(out.read_text())
    assert code == 1 and stdout == ""
    assert stderr.splitlines() == [f"report written: json: {out}", _verdict(report, 1)]
    assert re.fullmatch(
        r"auditor: \d+ findings \(\d+ critical, \d+ high, \d+ medium\), \d+ cannot decide, "
        r"exit 1",
        stderr.splitlines()[-1],
    )
    code, _, stderr = run_env(*base, "-q", env={})
    assert (code, stderr) == (1, "")
    code, _, stderr = run_env(*base, "-v", env={})
    lines = stderr.splitlines()
    assert re.fullmatch(r"auditor: logs: (\d+)/\1 in \d+\.\d s", lines[1]), stderr
    assert lines[-1] == _verdict(report, 1)
    # the table on stdout is the verdict already: no extra line
    code, stdout, stderr = run_env(*base, "-f", "table", "-o", "-", env={})
    assert "Gate: " in stdout and "exit 1" not in stderr.splitlines()[-1]


def test_colour_follows_the_flag_no_color_and_force_color(tmp_path: Path) -> None:
    args = ("audit", DEMO, "--no-frames", "--no-store", "-p", AMAZON)
    assert ANSI.search(run_tty(*args, columns=200)[1])  # a terminal: colour
    assert not ANSI.search(run_tty(*args, columns=200, env={"NO_COLOR": "1"})[1])
    assert not ANSI.search(run_tty(*args, "--color", "never", columns=200)[1])
    assert not ANSI.search(run_env(*args, env={})[1])  # a pipe: none
    assert ANSI.search(run_env(*args, env={"FORCE_COLOR": "1"})[1])
    assert ANSI.search(run_env(*args, "--color", "always", env={"NO_COLOR": "1"})[1])
    report = tmp_path / "r.txt"
    run_env(*args, "-f", "table", "-o", report, "--color", "always", env={})
    assert not ANSI.search(report.read_text())  # files never


def test_table_fits_the_terminal_and_is_compact_when_narrow(tmp_path: Path) -> None:
    args = ("audit", DEMO, "--no-frames", "--no-store", "-p", AMAZON, "--color", "never")
    code, text = run_tty(*args, columns=80)
    assert code == 1
    table = text.replace("\r\n", "\n").split(f"{AMAZON}: ", 1)[1].split("Summary:")[0]
    assert "one line per finding" in table and "TIME (UTC)" not in table
    assert max(len(line) for line in table.splitlines()) <= 80
    rows = [line for line in table.splitlines() if "AMZ-REK-001" in line]
    assert len(rows) == 7  # one line each
    code, text = run_tty(*args, columns=200)
    assert "TIME (UTC)" in text and "one line per finding" not in text
    # not a terminal: COLUMNS, else the fixed default; a file is always the default
    _, narrow, _ = run_env(*args, env={"COLUMNS": "90"})
    assert "one line per finding" in narrow
    files = []
    for columns in ("60", "300"):
        out = tmp_path / f"r{columns}.txt"
        run_env(*args, "-f", "table", "-o", out, env={"COLUMNS": columns})
        files.append(out.read_bytes().split(b"\n", 1)[1])  # after the line with the run id
    assert files[0] == files[1] and b"TIME (UTC)" in files[0]


def test_progress_shows_start_up_counts_and_elapsed_time() -> None:
    args = ("audit", DEMO, "--no-store", "-p", AMAZON, "--kernel", "dlib")
    code, text = run_tty(*args, columns=160)
    assert code == 1
    plain = ANSI.sub("", text)
    assert "starting" in plain
    assert re.search(r"logs .*\d+/\d+ .*0:00:\d\d", plain), plain[-2000:]
    assert re.search(r"frames .*\d+/\d+", plain)
    code, text = run_tty(*args, "-q", columns=160)
    assert "starting" not in ANSI.sub("", text)


def _help_options(*command: str) -> set[str]:
    """The long options `auditor COMMAND --help` prints (the real help, not the code)."""
    code, stdout, _ = run_env(*command, "--help", env={"COLUMNS": "200"})
    assert code == 0
    declared = re.findall(r"^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)", stdout, re.M)
    return set(declared) - {"--help"}


COMMANDS = [
    ("audit",), ("runs",), ("report",), ("version",), ("faces",), ("verify",), ("export",),
    ("policy", "list"), ("policy", "show"), ("policy", "lint"), ("policy", "export"),
    ("cache", "purge"), ("baseline", "create"),
]  # fmt: skip


def test_the_command_list_is_complete(cli: Cli) -> None:
    section = cli("--help").stdout.split("Commands:", 1)[1]
    listed = re.findall(r"^  ([a-z]+)\s", section, re.M)
    assert set(listed) == {c[0] for c in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_readme_synopsis_matches_the_real_help(command: tuple[str, ...]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    synopsis = readme.split("## Command line", 1)[1].split("```", 2)[1]
    blocks = re.split(r"\n(?=auditor )", synopsis)
    mine = [b for b in blocks if len(b.split()) > 1 and b.split()[1] == command[0]]
    if len(command) > 1:
        mine = [b for b in mine if re.search(rf"\b{command[1]}\b", b)]
    assert mine, f"README's synopsis lacks `auditor {' '.join(command)}`"
    text = "\n".join(mine)
    for option in sorted(_help_options(*command)):
        assert re.search(rf"{option}\b", text), f"README lacks {option} of {command}"
    root = _help_options()
    assert all(re.search(rf"{o}\b", synopsis) for o in root), root


def test_local_scheduler_does_not_warn_about_a_taken_port(tmp_path: Path) -> None:
    """`--scheduler local` while port 8787 (distributed's default) is taken: no warning."""
    import socket

    pytest.importorskip("distributed")
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen(1)
    except OSError:
        pass  # taken already: the case under test either way
    try:
        out = tmp_path / "r.json"
        code, _, stderr = run_env(
            "audit", DEMO, "--no-store", "--no-frames", "-p", AMAZON, "--scheduler", "local",
            "--workers", "1", "-f", "json", "-o", out, env={},
        )  # fmt: skip
    finally:
        holder.close()
    assert code == 1, stderr
    assert "already in use" not in stderr and "Warning" not in stderr, stderr
    assert stderr.splitlines()[-1].startswith("auditor: 7 findings (7 high)")


def test_help_lists_every_registered_format() -> None:
    """`--help` lists the formats without importing the reporters; they must agree."""
    from auditor.cli.terminal import FORMAT_NAMES
    from auditor.report import REPORTERS

    assert tuple(REPORTERS) == FORMAT_NAMES


def test_version_names_the_kernel_and_detector_it_describes(cli: Any) -> None:
    """`auditor version` shows what Dask workers are compared on, for the chosen engine."""
    hog = cli("version")
    cnn = cli("version", "--kernel", "dlib", "--detector", "cnn")
    assert hog.exit_code == cnn.exit_code == 0, hog.output + cnn.output
    assert "kernel: onnx\ndetector: hog\n" in hog.stdout and "sha256:mmod_graph" not in hog.stdout
    assert "kernel: dlib\ndetector: cnn\n" in cnn.stdout and "sha256:mmod_graph" in cnn.stdout
    assert "onnxruntime" in cnn.stdout  # the cnn detector runs on ONNX Runtime
