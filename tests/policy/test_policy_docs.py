"""docs/packs.md and the loader cannot drift: documented keys = accepted keys, per table."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.core.models import OperationKind
from auditor.policy import schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "packs.md"
_HEADING = re.compile(r"^### Table `([a-z.]+)`\s*$")
_ROW = re.compile(r"^\| `([a-z_]+)` \|")


def documented_tables() -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    current: str | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = _HEADING.match(line)
        if m:
            current = m.group(1)
            tables[current] = set()
            continue
        if line.startswith("#"):
            current = None
        if current is not None:
            row = _ROW.match(line)
            if row:
                tables[current].add(row.group(1))
    return tables


def test_every_table_is_documented_with_exactly_the_accepted_keys() -> None:
    docs = documented_tables()
    assert set(docs) == set(schema.KEYS)
    for table, keys in schema.KEYS.items():
        assert docs[table] == set(keys), (
            f"{table}: undocumented {sorted(set(keys) - docs[table])}, "
            f"documented but unknown {sorted(docs[table] - set(keys))}"
        )


def test_vocabularies_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    words = (
        *schema.STATUSES,
        *schema.INSTRUMENT_KINDS,
        *schema.BINDINGS,
        *schema.END_CONDITIONS,
        *schema.PRECISIONS,
        *schema.ANCHORS,
        *schema.MODALITIES,
        *schema.RULE_KINDS,
        *(k.value for k in OperationKind),
    )
    missing = [w for w in words if f"`{w}`" not in text]
    assert not missing
    duty_rows = {m.group(1) for m in re.finditer(r"^\| `([a-z_]+)` \| ", text, re.M)}
    assert set(schema.DUTY_TYPES) <= duty_rows


def test_every_duty_parameter_is_a_documented_duty_key() -> None:
    for params in schema.DUTY_PARAMS.values():
        assert params <= set(schema.KEYS["rules.duties"])
    assert schema.DUTY_COMMON <= set(schema.KEYS["rules.duties"])
