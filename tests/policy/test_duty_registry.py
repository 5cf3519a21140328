"""The duty-type registry is the one place a duty type is written: walk it.

Every registered type has its row in docs/packs.md (verbatim), parameters the loader accepts and
documents, a pack using it loads (and fails with the type's own message when incomplete), its
check answers on a real event, and `policy show` describes it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.core.errors import ConfigError
from auditor.core.models import Event, OperationKind, Principal
from auditor.policy import load_pack, schema
from auditor.policy.describe import describe
from auditor.policy.duties import LINKED_KINDS, REGISTRY, EventIndex, Outcome, check

DOC = Path(__file__).resolve().parents[2] / "docs" / "packs.md"

#: The smallest complete duty of each type (TOML lines after `type = ...`).
MINIMAL = {
    "authorisation": "",
    "stop_on_refusal": "",
    "public_post": "",
    "human_review": "",
    "fields": 'fields = ["case_ref"]',
    "max_window": 'max = "PT12H"',
    "number_range": 'field = "area_sq_mi"\nmax = 0.5',
    "field_equals": 'field = "investigating_agency"\nother = "organisation"',
    "prior_consent": "",
    "retention": 'max = "P1Y"',
}


def test_every_type_has_its_row_in_the_docs_and_no_other_rows_exist() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("\n## Duties\n") : text.index("\n## How a rule is judged\n")]
    for dt in REGISTRY.values():
        assert dt.doc_row() in section.splitlines(), f"docs/packs.md lacks {dt.doc_row()!r}"
    rows = {m.group(1) for m in re.finditer(r"^\| `([a-z_]+)` \| ", section, re.M)}
    assert rows == set(REGISTRY)


def test_the_schema_and_linked_kinds_come_from_the_registry() -> None:
    assert set(schema.DUTY_TYPES) == set(REGISTRY) == set(MINIMAL)
    for name, dt in REGISTRY.items():
        assert schema.DUTY_PARAMS[name] == frozenset(dt.params)
        assert set(dt.params) <= set(schema.KEYS["rules.duties"])
        assert LINKED_KINDS.get(name) == dt.linked


def _pack(tmp_path: Path, dtype: str, body: str) -> Path:
    path = tmp_path / f"{dtype}.toml"
    path.write_text(
        f"""[pack]
id = "p-{dtype.replace("_", "-")}"
title = "t"
version = "1.0.0"
[pack.jurisdiction]
timezone = "Europe/Berlin"
[pack.effective]
from = 2020-01-01
[[rules]]
id = "R-1"
kind = "require"
severity = "high"
title = "t"
message = "m"
operations = ["identification_1toN"]
[[rules.duties]]
type = "{dtype}"
{body}
"""
    )
    return path


@pytest.mark.parametrize("dtype", sorted(REGISTRY))
def test_each_type_loads_checks_and_describes(tmp_path: Path, dtype: str) -> None:
    pack = load_pack(_pack(tmp_path, dtype, MINIMAL[dtype]))
    duty = pack.rules[0].duties[0]
    for key, default in REGISTRY[dtype].params.items():
        if default is not None and key not in MINIMAL[dtype]:
            name = {"min": "low", "max": "high"}.get(key, key) if dtype == "number_range" else key
            assert getattr(duty, name) == default, (dtype, key)
    event = Event(
        "jsonl",
        "f.jsonl",
        datetime(2024, 1, 1, tzinfo=UTC),
        "rekognition",
        "SearchFacesByImage",
        OperationKind.IDENTIFICATION_1TON,
        Principal("p", "Test Police", "police", matched=True),
        line=1,
    )
    outcome = check(event, duty, EventIndex([event]))
    assert isinstance(outcome, Outcome)
    lines = describe(pack)
    assert any(line.strip().startswith(f"duty {dtype}") for line in lines)


@pytest.mark.parametrize("dtype", sorted(n for n, dt in REGISTRY.items() if dt.requires))
def test_an_incomplete_duty_names_what_its_type_requires(tmp_path: Path, dtype: str) -> None:
    with pytest.raises(ConfigError, match=f"a {dtype} duty needs {REGISTRY[dtype].requires}"):
        load_pack(_pack(tmp_path, dtype, ""))
