"""Access lines of the servers face APIs run behind: Gin, werkzeug, uvicorn, gunicorn, morgan,
Envoy, and `[[httplog]] format` (Apache LogFormat / nginx log_format) from audit.toml."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.config import settings as settings_mod
from auditor.config import tomlfile
from auditor.config.bundle import SourceSettings
from auditor.config.logformat import to_apache
from auditor.config.settings import HttpLogFormat
from auditor.core.errors import ConfigErrors
from auditor.sources import SOURCES, sniff
from auditor.sources.accesslines import go_unquote
from tests.logsamples import SAMPLES, issues, read_sample, rows

NO_TIME = (
    "has no time: {} carries none, so no rule can judge it (read the log with its runtime's"
    " timestamps, e.g. `docker logs --timestamps`, or log in a format with a time)"
)


def untimed(result: Any) -> list[tuple[int | None, None, str]]:
    """The notices of face calls with no time; each is also an undated event (never an input
    error: the call is plainly there, only its time is not)."""
    lines = sorted(e.line for e in result.events if e.untimed)
    assert lines == sorted(e.line for e in result.events), "a timed event in an untimed log"
    notes = [(n.line, None, n.message) for n in result.notices if " has no time: " in n.message]
    assert [n[0] for n in notes] == lines
    return notes


def test_gin_as_deepstack_writes_it_after_its_banner() -> None:
    result = read_sample("gin/deepstack.log")
    assert result.source == "httplog"
    # the banner (version, then the activated endpoints between dashes) is one record, never an
    # operation; then 5 access lines
    assert result.records == 6
    assert rows(result) == [
        (
            17,
            None,
            "deepstack",
            "face.recognize",
            "identification_1toN",
            "192.168.3.200",
            "succeeded",
        ),
        (18, None, "deepstack", "face.register", "enrolment", "192.168.3.200", "succeeded"),
        (19, None, "deepstack", "face.recognize", "identification_1toN", "192.168.3.201", "failed"),
        (21, None, "deepstack", "face.match", "verification_1to1", "192.168.3.201", "succeeded"),
    ]
    # line 20 (`Error #01`) belongs to line 19; line 23 is a broken Gin line
    assert issues(result) == [
        (23, None, "not an access-log line (expected Gin's access-line format)")
    ]
    assert result.events[0].time.isoformat() == "2023-03-14T09:02:51+00:00"
    assert result.events[3].time.isoformat() == "2023-03-14T09:04:10+00:00"  # `1m2s` latency
    assert result.events[2].error_code == "HTTP 400"  # `45.2µs` latency


def test_gin_debug_lines_quoted_paths_colour_and_the_1_12_latency_column() -> None:
    result = read_sample("gin/gin-1.9.log")
    assert result.source == "httplog" and result.issues == []
    # 2 warnings (their further lines belong to them), 3 route registrations (two name face
    # routes: never operations), `Listening and serving`, 4 access lines
    assert result.records == 10
    assert [(e.line, e.operation) for e in result.events] == [
        (11, "face.recognize"),
        (12, "face"),
        (14, "face.register"),
    ]
    assert result.events[0].attr("http_path") == "/v1/vision/face/recognize"  # query dropped
    assert result.events[1].principal.address == "10.0.0.5"  # ANSI colour codes removed


def test_docker_compose_prefix_and_timestamps(tmp_path: Path) -> None:
    lines = (SAMPLES / "gin/deepstack.log").read_bytes().splitlines(keepends=True)
    (tmp_path / "compose.log").write_bytes(
        b"".join(
            b"deepstack    | 2023-03-14T09:02:5%dZ " % (i % 10) + line
            for i, line in enumerate(lines)
        )
    )
    result = read_sample("compose.log", root=tmp_path)
    # the banner before the first request is DeepStack's too: read by httplog, not swept
    assert result.source == "wrapped" and result.records == 6
    assert [e.line for e in result.events] == [17, 18, 19, 21]
    assert [line for line, _, _ in issues(result)] == [23]
    assert result.events[0].time.isoformat() == "2023-03-14T09:02:51+00:00"  # Gin's own time


def test_a_traceback_does_not_hide_a_broken_face_line(tmp_path: Path) -> None:
    (tmp_path / "u.log").write_bytes(
        b'2023-03-14T09:02:50Z INFO:     10.0.0.5:1 - "GET /docs HTTP/1.1" 200 OK\n'
        b"ERROR:    Exception in ASGI application\n"
        b"Traceback (most recent call last):\n"
        b'  File "/app/main.py", line 9, in recognise\n'
        b"ValueError: image is not a JPEG\n"
        b"10.0.0.5 POST /v1/vision/face/recognize 200\n"
        b'2023-03-14T09:02:51Z INFO:     10.0.0.5:1 - "GET /docs HTTP/1.1" 200 OK\n'
    )
    result = read_sample("u.log", root=tmp_path)
    assert result.source == "httplog" and result.records == 3  # GET /docs twice, ERROR
    assert issues(result) == [
        (6, None, "not an access-log line (expected uvicorn's access-line format)")
    ]


def test_gin_local_time_is_in_the_bundle_timezone(tmp_path: Path) -> None:
    (tmp_path / "gin.log").write_bytes(
        b'[GIN] 2023/03/14 - 10:02:51 | 200 |   312.5ms |  10.0.0.5 | POST  "/v1/vision/face"\n'
    )
    result = read_sample("gin.log", SourceSettings(timezone="Europe/Berlin"), root=tmp_path)
    assert result.events[0].time.isoformat() == "2023-03-14T09:02:51+00:00"


def test_go_quoted_path_is_unescaped() -> None:
    assert go_unquote(r'"/v1/vision/face/\"x\"\\y"') == '/v1/vision/face/"x"\\y'
    assert go_unquote(r'"/caf\xc3\xa9"') == "/café"
    assert go_unquote(r'"/a\u00e9\tb"') == "/aé\tb"


def test_werkzeug_development_server() -> None:
    result = read_sample("werkzeug/flask-dev.log")
    assert result.source == "httplog" and result.records == 9 and result.issues == []
    assert rows(result) == [
        (6, None, "compreface", "recognize", "identification_1toN", "10.0.0.5", "succeeded"),
        (8, None, "compreface", "add_face", "enrolment", "10.0.0.6", "failed"),
        (
            9,
            None,
            "compreface",
            "verification.verify",
            "verification_1to1",
            "10.0.0.6",
            "succeeded",
        ),
    ]
    assert result.events[0].time.isoformat() == "2023-03-14T09:02:51+00:00"


def test_werkzeug_through_python_logging() -> None:
    result = read_sample("werkzeug/python-logging.log")
    assert result.source == "httplog" and result.records == 7 and result.issues == []
    assert [(e.line, e.operation) for e in result.events] == [(6, "face.recognize"), (7, "face")]


def test_uvicorn_without_a_time_gives_undated_face_calls() -> None:
    result = read_sample("uvicorn/uvicorn.log")
    assert result.source == "httplog" and issues(result) == []
    # 4 start-up lines, GET /docs, the ERROR line (its traceback belongs to it), 2 face calls
    assert result.records == 8
    label = "uvicorn's access-line format"
    assert untimed(result) == [
        (5, None, "POST /api/v1/recognition/recognize " + NO_TIME.format(label)),
        (12, None, "POST /api/v1/detection/detect " + NO_TIME.format(label)),
    ]


def test_uvicorn_with_docker_timestamps() -> None:
    result = read_sample("uvicorn/docker-timestamps.log")
    assert result.source == "httplog" and result.records == 7 and result.issues == []
    assert rows(result) == [
        (5, None, "compreface", "recognize", "identification_1toN", "10.0.0.5", "succeeded"),
        (7, None, "compreface", "add_face", "enrolment", "10.0.0.7", "failed"),
    ]
    assert result.events[0].time.isoformat() == "2023-03-14T09:02:51.532110+00:00"
    assert result.events[1].error_code == "HTTP 422"


def test_gunicorn_default_access_format_after_its_error_log() -> None:
    result = read_sample("gunicorn/gunicorn.log")
    assert result.source == "httplog" and result.records == 7 and result.issues == []
    assert [(e.line, e.operation, e.attr("user_agent")) for e in result.events] == [
        (5, "search", "python-requests/2.28.2"),
        (6, "detect", "python-requests/2.28.2"),
    ]


def test_morgan_combined_common_and_default_date() -> None:
    combined = read_sample("morgan/combined.log")
    assert combined.source == "httplog" and combined.issues == []
    assert [(e.line, e.operation, e.time.isoformat()) for e in combined.events] == [
        (1, "recognize", "2023-03-14T09:02:51+00:00"),
        (2, "add_face", "2023-03-14T09:02:52+00:00"),
        (3, "verification.verify", "2023-03-14T09:02:53+00:00"),  # `[:date]`, RFC 1123
    ]
    common = read_sample("morgan/common.log")
    assert [(e.line, e.operation) for e in common.events] == [(1, "recognize"), (2, "manage")]


@pytest.mark.parametrize(
    ("name", "label", "face_lines"),
    [
        ("dev", "morgan's dev format", [(1, "recognize"), (3, "faces")]),
        ("tiny", "morgan's tiny format", [(1, "recognize")]),
        ("short", "morgan's short format", [(1, "recognize")]),
    ],
)
def test_morgan_formats_without_a_date(name: str, label: str, face_lines: list) -> None:
    result = read_sample(f"morgan/{name}.log")
    assert result.source == "httplog" and issues(result) == []
    assert result.records == 1 + len(face_lines)
    expected = []
    for line, tail in face_lines:
        path = (
            "/api/v1/recognition/recognize" if tail == "recognize" else "/api/v1/recognition/faces"
        )
        expected.append((line, None, f"POST {path} " + NO_TIME.format(label)))
    assert untimed(result) == expected


def test_morgan_dev_with_runtime_timestamps_gives_events(tmp_path: Path) -> None:
    dev = (SAMPLES / "morgan/dev.log").read_bytes().splitlines(keepends=True)
    stamped = b"".join(b"2023-03-14T09:02:5%dZ " % i + line for i, line in enumerate(dev))
    (tmp_path / "dev.log").write_bytes(stamped)
    result = read_sample("dev.log", root=tmp_path)
    assert result.issues == [] and result.records == 3
    assert [(e.line, e.operation, e.time.isoformat()) for e in result.events] == [
        (1, "recognize", "2023-03-14T09:02:50+00:00"),
        (3, "add_face", "2023-03-14T09:02:52+00:00"),
    ]


def test_envoy_default_format() -> None:
    result = read_sample("envoy/envoy.log")
    assert result.source == "httplog" and result.records == 6 and result.issues == []
    assert rows(result) == [
        (3, None, "azure_face", "Identify", "identification_1toN", "10.0.0.5", "succeeded"),
        (4, None, "azure_face", "Detect", "face_detection", "10.0.0.5", "succeeded"),
        # response code 0: Envoy never sent a response (the client disconnected, `DC`)
        (5, None, "azure_face", "Verify", "verification_1to1", "unknown", "failed"),
    ]
    assert result.events[1].principal.address == "10.0.0.5"  # first X-Forwarded-For address
    assert result.events[0].time.isoformat() == "2023-03-14T09:02:51.310000+00:00"


@pytest.mark.parametrize(
    "head",
    [
        b"[GIN-debug] [WARNING] Creating an Engine instance with the Logger and Recovery"
        b" middleware already attached.\n\n[GIN-debug] POST   /v1/vision/face --> main.f (3"
        b' handlers)\n[GIN] 2023/03/14 - 09:02:51 | 200 |  1ms |  10.0.0.5 | POST  "/x"\n',
        b"[GIN] 2021/11/07 - 08:54:46 | 200 |  9.931778818s |   192.168.3.200 | POST     /v1\n",
        b"DeepStack: Version 2022.01.1\n/v1/vision/face\n" + b"-" * 39 + b"\nv1/restore\n"
        b"[GIN] 2021/11/07 - 08:54:46 | 200 |  9.931778818s |   192.168.3.200 | POST     /v1\n",
        b" * Serving Flask app 'a'\n * Debug mode: off\n"
        b'10.0.0.5 - - [14/Mar/2023 09:02:51] "GET / HTTP/1.1" 200 -\n',
        b'INFO:werkzeug:10.0.0.5 - - [14/Mar/2023 09:02:51] "GET / HTTP/1.1" 200 -\n',
        b'INFO:     Started server process [1]\nINFO:     1.2.3.4:5 - "GET / HTTP/1.1" 200 OK\n',
        b"[2023-03-14 09:02:40 +0000] [1] [INFO] Starting gunicorn 20.1.0\n"
        b'10.0.0.5 - - [14/Mar/2023:09:02:51 +0000] "GET / HTTP/1.1" 200 2 "-" "x"\n',
        b"\x1b[0mPOST /x \x1b[32m200\x1b[0m 12.345 ms - 123\x1b[0m\n",
        b"POST /x 200 123 - 12.345 ms\n",
        b'[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100'
        b' "10.0.35.28" "nsq2http" "cc21d9b0" "locations" "tcp://10.0.2.1:80"\n',
    ],
)
def test_each_shape_is_detected_by_content(head: bytes) -> None:
    assert sniff("logs/server.log", head) == "httplog"


def test_a_compose_prefix_is_peeled_first() -> None:
    """A `docker compose logs` file may mix services, so its prefix is a wrapper and each inner
    line goes to its own reader (here httplog, through `sources.wrapped`)."""
    head = (
        b"deepstack    | [GIN] 2021/08/09 - 20:33:34 | 404 |         926ns |    192.168.1.18 |"
        b" GET      /\n"
    )
    assert sniff("logs/server.log", head) == "wrapped"


@pytest.mark.parametrize(
    "head",
    [
        b"INFO:     Started server process [1]\nINFO:     Waiting for application startup.\n",
        b" * Serving Flask app 'a'\n2023-05-02T08:00:00Z user=pd svc=rekognition op=Search\n",
        b"[GIN-debug] Listening and serving HTTP on :8080\nsomething else\n",
    ],
)
def test_start_up_lines_alone_do_not_make_an_access_log(head: bytes) -> None:
    assert sniff("logs/server.log", head) == "text"


def test_a_server_message_holding_a_face_request_is_an_issue(tmp_path: Path) -> None:
    (tmp_path / "u.log").write_bytes(
        b'INFO:     10.0.0.5:1 - "GET /docs HTTP/1.1" 200 OK\n'
        b'INFO:     10.0.0.5:1 - "POST /v1/vision/face/recognize HTTP/1.1"\n'
    )
    result = read_sample("u.log", root=tmp_path)
    assert result.records == 1 and result.events == []
    assert [line for line, _, _ in issues(result)] == [2]
    assert "may be a face operation" in issues(result)[0][2]


# --- [[httplog]] format in audit.toml ---------------------------------------------------------

NGINX_FORMAT = '$time_iso8601 $remote_addr "$request" $status $request_time "$http_user_agent"'
VHOST_COMBINED = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'


def test_nginx_log_format_is_translated_to_apache() -> None:
    assert to_apache(NGINX_FORMAT) == (
        '%{NGINX-VAR-time_iso8601}i %h "%r" %>s %{NGINX-VAR-request_time}i "%{User-Agent}i"'
    )
    assert to_apache("${remote_user}|$http_x_forwarded_for 100%") == (
        "%u|%{X-Forwarded-For}i 100%%"
    )


CUSTOM = SAMPLES.parent / "httplog-custom"


def _custom_settings() -> SourceSettings:
    doc = tomlfile.load(CUSTOM / "audit.toml", "audit.toml")
    return settings_mod.parse(doc, tuple(SOURCES))[1]


def test_custom_nginx_format_from_audit_toml() -> None:
    result = read_sample("logs/nginx/access.log", _custom_settings(), root=CUSTOM)
    assert result.source == "httplog" and result.records == 3 and result.issues == []
    assert [
        (e.line, e.operation, e.time.isoformat(), e.attr("user_agent")) for e in result.events
    ] == [
        (1, "recognize", "2023-03-14T09:02:51+00:00", "axios/1.3.4"),
        (3, "add_face", "2023-03-14T08:02:53+00:00", "axios/1.3.4"),
    ]
    # without the declaration the file is not an access log (its first field is a time)
    assert read_sample("logs/nginx/access.log", root=CUSTOM).source == "text"


def test_custom_apache_format_from_audit_toml() -> None:
    result = read_sample("logs/apache/vhost.log", _custom_settings(), root=CUSTOM)
    assert result.source == "httplog" and result.records == 3
    assert [(e.line, e.operation, e.attr("raw_path")) for e in result.events] == [
        (1, "Identify", None),
        (3, "Identify", "/face/v1.0/%69dentify"),
    ]
    assert issues(result) == [
        (4, None, "not an access-log line (expected the [[httplog]] format of audit.toml)")
    ]


def test_custom_format_bundle_through_the_cli(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(CUSTOM, bundle, ignore=shutil.ignore_patterns("SOURCES.md"))
    out = tmp_path / "r.json"
    result = cli(
        "audit", bundle, "--format", "json", "--output", out, "--db", db_url, "--no-frames",
        "--policy", "all",
    )  # fmt: skip
    assert result.exit_code == 3, result.output  # vhost.log line 4 is not in its format
    report = json.loads(out.read_text())
    assert [(e["file"], e["line"]) for e in report["errors"]] == [("logs/apache/vhost.log", 4)]
    sources = {
        i["path"]: (i["source"], i["records"]) for i in report["inputs"] if i["kind"] == "log"
    }
    assert sources == {
        "logs/apache/vhost.log": ("httplog", 3),
        "logs/nginx/access.log": ("httplog", 3),
    }
    found = {(e["file"], e["line"]) for f in report["findings"] for e in f["events"]}
    assert found == {("logs/apache/vhost.log", 1), ("logs/apache/vhost.log", 3)}


def test_format_without_glob_applies_to_detected_access_logs(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(
        b'10.0.0.5 - - [14/Mar/2023:09:02:51 +0000] "POST /facepp/v3/search HTTP/1.1" 200 9'
        b" 0.312 upstream=10.1.0.2:80\n"
    )
    fmt = '%h %l %u %t "%r" %>s %b %{NGINX-x}i upstream=%{NGINX-y}i'
    settings = SourceSettings(httplog_formats=(HttpLogFormat("*", fmt),))
    assert settings.source_override("a.log") is None  # "*" forces no file
    result = read_sample("a.log", settings, root=tmp_path)
    assert result.source == "httplog" and [e.operation for e in result.events] == ["search"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[[httplog]]\nformat = '%h %Q'\n",
            "audit.toml:2: httplog[0].format: bad access-log format: Unknown log format"
            " directive: '%Q'",
        ),
        (
            "[[httplog]]\nformat = '%h %t %>s'\n",
            "audit.toml:2: httplog[0].format: bad access-log format: has no request",
        ),
        (
            "[[httplog]]\nglob = '*.log'\nformat = '$remote_addr [$time_local] $status'\n",
            "audit.toml:3: httplog[0].format: bad access-log format: has no request",
        ),
        ("[[httplog]]\nglob = 'x'\n", "audit.toml:1: httplog[0].format: needs a `format` string"),
        (
            "[[httplog]]\nformat = '%r'\npattern = 'x'\n",
            "audit.toml:3: httplog[0].pattern: unknown key 'pattern'",
        ),
        ("[[httplog]]\nformat = 7\n", "audit.toml:2: httplog[0].format: must be a non-empty"),
    ],
)
def test_bad_httplog_format_is_a_located_config_error(
    tmp_path: Path, toml: str, message: str
) -> None:
    with pytest.raises(ConfigErrors) as err:
        _settings(tmp_path, toml)
    assert message in str(err.value), str(err.value)


def _settings(tmp_path: Path, toml: str) -> SourceSettings:
    path = tmp_path / "audit.toml"
    path.write_text(toml)
    _, settings = settings_mod.parse(tomlfile.load(path, "audit.toml"), tuple(SOURCES))
    return settings


def test_custom_format_time_problems_are_located(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(
        b"99999999999999999 POST /facepp/v3/search HTTP/1.1\n"
        b"1678784571 POST /facepp/v3/search HTTP/1.1\n"
    )
    (tmp_path / "b.log").write_bytes(b"2023-03-14 POST /facepp/v3/search HTTP/1.1\n")
    settings = SourceSettings(
        httplog_formats=(
            HttpLogFormat("a.log", "%{sec}t %r"),
            HttpLogFormat("b.log", "%{%Y-%m-%d}t %r"),  # a date is not a time
        )
    )
    a = read_sample("a.log", settings, root=tmp_path)
    assert [(e.line, e.time.isoformat()) for e in a.events] == [(2, "2023-03-14T09:02:51+00:00")]
    ((line, _, message),) = issues(a)
    assert line == 1 and message.startswith("bad time in the [[httplog]] format: ")
    b = read_sample("b.log", settings, root=tmp_path)
    assert issues(b) == [] and untimed(b) == [
        (
            1,
            None,
            "POST /facepp/v3/search " + NO_TIME.format("the [[httplog]] format of audit.toml"),
        )
    ]


def _go(fmt: str, *args: object) -> str:
    """Go's `fmt.Sprintf` for the verbs Gin's logger uses (`%v %s %d %#v` with widths)."""
    values = iter(args)

    def one(m: re.Match[str]) -> str:
        flags, width = m.group(1), m.group(2)
        value = next(values)
        text = json.dumps(value) if flags == "#" else str(value)
        if not width:
            return text
        return text.ljust(int(width)) if flags == "-" else text.rjust(int(width))

    return re.sub(r"%([-#]?)(\d*)[vsd]", one, fmt)


#: Gin's access-line format strings, by the first release that wrote each (gin logger.go).
GIN_VERSIONS = {
    "v0.5": "[GIN] %v |%s %3d %s| %12v | %s |%s %-7s %s| %s",
    "v1.0": "[GIN] %v |%s %3d %s| %12v | %s |%s  %s %-7s %s",
    "v1.2": "[GIN] %v |%s %3d %s| %13v | %s |%s  %s %-7s %s",
    "v1.3": "[GIN] %v |%s %3d %s| %13v | %15s |%s  %s %-7s %s",
    "v1.5": "[GIN] %v |%s %3d %s| %13v | %15s |%s %-7s %s %s",
    "v1.6": "[GIN] %v |%s %3d %s| %13v | %15s |%s %-7s %s %#v",
}


@pytest.mark.parametrize("version", sorted(GIN_VERSIONS))
@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("latency", ["800ns", "45.2µs", "312.5ms", "9.931778818s", "1m2s"])
def test_every_gin_version_of_the_format(
    tmp_path: Path, version: str, colour: bool, latency: str
) -> None:
    fmt = GIN_VERSIONS[version]
    green, cyan, reset = ("\x1b[97;42m", "\x1b[97;46m", "\x1b[0m") if colour else ("", "", "")
    when, status, client, path = "2023/03/14 - 09:02:51", 200, "10.0.0.5", "/v1/vision/face/match"
    if version in ("v1.0", "v1.2", "v1.3"):  # methodColor, reset, method, path
        args: tuple[object, ...] = (when, green, status, reset, latency, client, cyan, reset)
        args += ("POST", path)
    else:  # methodColor, method, reset, path
        args = (when, green, status, reset, latency, client, cyan, "POST", reset, path)
    line = _go(fmt, *args)
    (tmp_path / "gin.log").write_text(line + "\n", encoding="utf-8")
    result = read_sample("gin.log", root=tmp_path)
    assert result.issues == [], line
    assert [(e.operation, e.principal.address, e.time.isoformat()) for e in result.events] == [
        ("face.match", "10.0.0.5", "2023-03-14T09:02:51+00:00")
    ]


def test_gin_1_12_format_with_latency_colour(tmp_path: Path) -> None:
    fmt = "[GIN] %v |%s %3d %s|%s %8v %s| %15s |%s %-7s %s %#v"
    line = _go(
        fmt, "2023/03/14 - 09:02:51", "\x1b[97;42m", 200, "\x1b[0m", "\x1b[97;43m", "312.51ms",
        "\x1b[0m", "10.0.0.5", "\x1b[97;46m", "POST", "\x1b[0m", "/v1/vision/face/recognize",
    )  # fmt: skip
    (tmp_path / "gin.log").write_text(line + "\n", encoding="utf-8")
    (event,) = read_sample("gin.log", root=tmp_path).events
    assert event.operation == "face.recognize"
