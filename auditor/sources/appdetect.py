"""Which product wrote a `.log` / `.txt` file: the line prefixes of the self-hosted recognisers.

Each product's logger has its own prefix (a time in its own layout, a level, a logger or process
name), so the first lines that carry one tell the product: no audit.toml needed. The first line
in the head that matches a product's prefix decides; a file none of them wrote is left to the
other rules (access logs, `[[text]]` patterns).
"""

from __future__ import annotations

import re

DOUBLETAKE_LOG = "doubletake_log"
VISERON = "viseron"
CODEPROJECT_AI = "codeproject_ai"
FRIGATE_LOG = "frigate_log"
ZONEMINDER = "zoneminder"
HOME_ASSISTANT = "home_assistant"
HA_STATES = "ha_states"
APP_LOGS = frozenset(
    {DOUBLETAKE_LOG, VISERON, CODEPROJECT_AI, FRIGATE_LOG, ZONEMINDER, HOME_ASSISTANT, HA_STATES}
)

_ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
_COMPOSE = re.compile(rb"^[\w.-]+\s+\| ")  # `docker compose logs`: `frigate  | ...`
_PREFIXES: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (
        re.compile(
            rb"^(?:\d{4}-\d\d-\d\dT\S+Z )?\d\d-\d\d-\d\d \d\d:\d\d:\d\d "
            rb"(?:error|warn|info|http|verbose|debug|silly): "
        ),
        DOUBLETAKE_LOG,
    ),
    # skrashevich/double-take (the fork the Home Assistant add-on ships): `[07:27:37] info: `
    (
        re.compile(rb"^\[\d\d:\d\d:\d\d\] (?:error|warn|info|http|verbose|debug|silly): "),
        DOUBLETAKE_LOG,
    ),
    (
        re.compile(
            rb"^(?:\d{4}-\d\d-\d\dT\S+Z )?(?:info|verbose): (?:Double Take v|processing \S+: \S+$"
            rb"|.+: queuing \d+ file\(s\) for training$)"
        ),
        DOUBLETAKE_LOG,
    ),
    (
        re.compile(
            rb"^(?:\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) "
            rb"\[[A-Z]+ *\] \[viseron[.\]]"
        ),
        VISERON,
    ),
    (
        re.compile(
            rb"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+)?\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "
            rb"frigate\.\S* +[A-Z]+ *: "
        ),
        FRIGATE_LOG,
    ),
    (
        re.compile(
            rb"^(?:\d\d/\d\d/\d{2,4}|\d{4}-\d\d-\d\d) \d\d:\d\d:\d\d(?:\.\d+)? [\w.-]+\[\d+\][ .]"
            rb"(?:DBG\d?|INF|WAR|ERR|FAT|PNC)[ -]\S+ \["
        ),
        ZONEMINDER,
    ),
    (re.compile(rb"^(?:DBG\d|INF|WAR|ERR|FAT|PNC) \[[\w.-]+\] \["), ZONEMINDER),
    (
        re.compile(
            rb"^(?:\d{4}-\d\d-\d\dT\S+|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) \S+ "
            rb"zm\w*(?:\.py)?(?:\[\d+\])?: (?:DBG\d|INF|WAR|ERR|FAT|PNC) \[[\w.-]+\] \["
        ),
        ZONEMINDER,
    ),
    (
        re.compile(
            rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) "
            rb"\([^)]*\) \[[\w.]+\] "
        ),
        HOME_ASSISTANT,
    ),
    # Developer Tools > States, copied: `image_processing.x<TAB>1<TAB>faces:` (ha_states.py)
    (re.compile(rb"^[a-z_]+\.[a-z0-9_]+\t[^\t\n]*\t"), HA_STATES),
)
#: CodeProject.AI's prefix (`2024-05-01 10:00:00: `, `10:00:00:`, `Infor `) is too plain alone:
#: the head must also name the server or one of its modules.
_CPAI_PREFIX = re.compile(
    rb"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: \[[^\]]*\])?: |\d\d:\d\d:\d\d:|"
    rb"(?:Trace|Debug|Infor|Warni|Error|Criti) )"
)
_CPAI_WORDS = re.compile(rb"Response rec'd from |CodeProject\.AI|Face Processing|Server version:")
_LINES = 200


def app_log_kind(head: bytes) -> str | None:
    """The product whose log `head` (the first bytes of a text file) is, or None."""
    cpai = _CPAI_WORDS.search(head[: 1 << 16]) is not None
    for raw in head.split(b"\n", _LINES)[:_LINES]:
        line = _ANSI.sub(b"", raw).rstrip(b"\r") if b"\x1b" in raw else raw.rstrip(b"\r")
        line = _COMPOSE.sub(b"", line, count=1) if b"| " in line else line
        for regex, name in _PREFIXES:
            if regex.match(line):
                return name
        if cpai and _CPAI_PREFIX.match(line):
            return CODEPROJECT_AI
    return None
