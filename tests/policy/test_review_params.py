"""Rule-schema additions of the pack review: numeric ranges, minimum windows, messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.core.errors import ConfigError
from auditor.core.models import Event, OperationKind, Principal
from auditor.policy import evaluate, resolve
from auditor.policy.loader import check_pack, load_pack

PACK = """[pack]
id = "range-test"
title = "t"
version = "1.0.0"
[pack.effective]
from = 2020-01-01

[[rules]]
id = "R1"
kind = "require"
severity = "low"
title = "t"
message = "m"
operations = ["footage_request"]

[[rules.duties]]
type = "number_range"
field = "area_sq_mi"
{params}
"""


@pytest.mark.parametrize(
    ("params", "line", "needle"),
    [
        ('min = "0.025"', 19, "must be a number"),
        ('max = "PT1H"', 19, "must be a number"),
        ("min = true", 19, "must be a number"),
        ("min = 0.5\nmax = 0.1", 20, "max must not be less than min"),
        ("", 16, "a number_range duty needs field and min or max"),
    ],
)
def test_number_range_parameters_are_checked(
    tmp_path: Path, params: str, line: int, needle: str
) -> None:
    path = tmp_path / "range-test.toml"
    path.write_text(PACK.format(params=params))
    errors = check_pack(path, "range-test.toml").errors
    assert any(
        needle in e.message and e.location is not None and e.location.line == line for e in errors
    ), [str(e) for e in errors]


def test_min_of_a_window_is_a_duration(tmp_path: Path) -> None:
    path = tmp_path / "range-test.toml"
    text = PACK.format(params="").replace(
        'type = "number_range"\nfield = "area_sq_mi"',
        'type = "max_window"\nmax = "PT12H"\nmin = 0.25',
    )
    path.write_text(text)
    with pytest.raises(ConfigError, match="not an ISO-8601 duration"):
        load_pack(path)


def test_amazon_finding_states_the_criminal_investigation_scope() -> None:
    e = Event(
        source="jsonl",
        file="logs/x.jsonl",
        time=datetime(2021, 3, 4, tzinfo=UTC),
        service="rekognition",
        operation="SearchFacesByImage",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=Principal("pd", "Metro PD", "police", matched=True),
    )
    pack = resolve(["amazon-rekognition-police-2020"])[0]
    (finding,) = evaluate([e], [pack]).findings
    assert "in connection with criminal investigations" in finding.message
    assert any("criminal investigations" in c for c in pack.caveats)
