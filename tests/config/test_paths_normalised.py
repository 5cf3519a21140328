"""Request paths are normalised before route matching, so encoded face calls cannot escape."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.catalogue.paths import normalise_path
from tests.conftest import make_bundle
from tests.logsamples import read_sample


@pytest.mark.parametrize(
    ("raw", "routed"),
    [
        ("/face/v1.0/%69dentify", "/face/v1.0/identify"),
        ("//face/v1.0/identify", "/face/v1.0/identify"),
        ("/face/v1.0/identify;jsessionid=1", "/face/v1.0/identify"),
        ("/face;v=1/v1.0;x/identify", "/face/v1.0/identify"),
        ("/face/v1.0/./identify", "/face/v1.0/identify"),
        ("/face/v1.0/x/../identify", "/face/v1.0/identify"),
        ("/face/v1.0/%2e%2e/v1.0/identify", "/face/v1.0/identify"),
        ("/face%2Fv1.0%2Fidentify", "/face/v1.0/identify"),  # encoded slash: decoded, as routed
        ("/face/v1.0/%2569dentify", "/face/v1.0/%69dentify"),  # decoded once only
        ("/face/v1.0/identify%3Fx=1", "/face/v1.0/identify%3Fx=1"),  # no query cut out of a path
        ("/face/v1.0/identify/", "/face/v1.0/identify/"),
        ("/../..", "/"),
        ("/face/v1.0/identify", "/face/v1.0/identify"),
    ],
)
def test_normalise_path(raw: str, routed: str) -> None:
    assert normalise_path(raw) == routed


#: Six Azure AI Face identify calls, each written so that the raw text is not the route.
ESCAPES = [
    "/face/v1.0/%69dentify",
    "//face/v1.0/identify",
    "/face/v1.0/identify;jsessionid=1",
    "/FACE/V1.0/./Identify",
    "/face/v1.0/x/../identify",
    "/%66ace%2Fv1.0/identify?returnRecognitionModel=true",
]
#: The same tricks on DeepStack's recognise route.
RECOGNISE = ["/v1/vision/%66ace/recognize?min_confidence=0.4", "/v1//vision/face/./recognize"]


def _log(paths: list[str]) -> bytes:
    return b"".join(
        b'10.20.0.15 - - [14/Mar/2026:09:12:%02d +0000] "POST %s HTTP/1.1" 200 12 "-" "curl/8"\n'
        % (i, p.encode())
        for i, p in enumerate(paths)
    )


def test_encoded_paths_reach_the_catalogue_and_keep_the_raw_path(tmp_path: Path) -> None:
    (tmp_path / "access.log").write_bytes(_log(ESCAPES + RECOGNISE))
    result = read_sample("access.log", root=tmp_path)
    assert result.records == 8 and result.issues == [] and result.notices == []
    assert [(e.service, e.operation) for e in result.events] == [
        *[("azure_face", "Identify")] * 6,
        *[("deepstack", "face.recognize")] * 2,
    ]
    paths = ESCAPES + RECOGNISE
    assert [e.attr("raw_path") for e in result.events] == [p.split("?")[0] for p in paths]
    assert result.events[5].attr("http_path") == "/face/v1.0/identify"
    assert result.events[6].attr("http_path") == "/v1/vision/face/recognize"


def test_a_normal_path_has_no_raw_path_attribute(tmp_path: Path) -> None:
    (tmp_path / "access.log").write_bytes(_log(["/face/v1.0/identify?x=1"]))
    (event,) = read_sample("access.log", root=tmp_path).events
    assert event.attr("raw_path") is None and event.attr("http_path") == "/face/v1.0/identify"


POLICE = """
[[principal]]
address = "10.20.0.0/16"
organisation = "Metro City Police Department"
category = "police"
"""


def test_six_encoded_calls_through_the_cli_are_findings(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    bundle = make_bundle(
        tmp_path / "b", {"logs/proxy/access.log": _log(ESCAPES)}, principals=POLICE
    )
    out = tmp_path / "r.json"
    result = cli(
        "audit", bundle, "--format", "json", "--output", out, "--db", db_url, "--no-frames",
        "--policy", "all",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    report = json.loads(out.read_text())
    assert report["errors"] == []
    lines = {e["line"] for f in report["findings"] for e in f["events"]}
    assert lines == {1, 2, 3, 4, 5, 6}
    orgs = {e["organisation"] for f in report["findings"] for e in f["events"]}
    assert orgs == {"Metro City Police Department"}
