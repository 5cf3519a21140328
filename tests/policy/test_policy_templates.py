"""Rule templates are plain `{field}` substitution: lint rejects the rest, render never raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.policy import seed_files
from auditor.policy.schema import TEMPLATE_FIELDS
from auditor.policy.template import render
from tests.conftest import run_auditor

SEED = next(p for p in seed_files() if p.stem == "amazon-rekognition-police-2020")

HOSTILE = [
    ("{principal:>999999999}", "not a plain {field} placeholder"),
    ("{operation:>{x}}", "unmatched"),
    ("{principal!r}", "not a plain {field} placeholder"),
    ("{principal.__class__}", "not a plain {field} placeholder"),
    ("{principal[0]}", "not a plain {field} placeholder"),
    ("{}", "not a plain {field} placeholder"),
    ("{0}", "not a plain {field} placeholder"),
    ("{nope}", "unknown placeholder {nope}"),
    ("open { brace", "unmatched '{'"),
    ("close } brace", "unmatched '}'"),
]


def _pack_with_message(tmp_path: Path, message: str) -> tuple[Path, int]:
    """A copy of a real seed pack whose first rule message is `message`, and that line."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("message = "))
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    lines[index] = f'message = "{escaped}"'
    path = tmp_path / SEED.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, index + 1


@pytest.mark.parametrize(("template", "expect"), HOSTILE, ids=[t for t, _ in HOSTILE])
def test_lint_rejects_a_template_that_is_not_plain_fields(
    tmp_path: Path, template: str, expect: str
) -> None:
    path, line = _pack_with_message(tmp_path, f"ran {template} at {{time}}")
    result = run_auditor("policy", "lint", path)
    assert result.exit_code == 2, result.output
    rows = [r for r in result.output.splitlines() if f"{path.name}:{line}:" in r]
    assert rows and all("message" in r for r in rows), result.output
    assert any(expect in r for r in rows), result.output
    assert "Traceback" not in result.output


def test_escaped_braces_and_known_fields_lint_clean(tmp_path: Path) -> None:
    path, _ = _pack_with_message(tmp_path, "{{literal}} {principal} ran {operation} {{")
    result = run_auditor("policy", "lint", path)
    assert result.exit_code == 0, result.output


def test_every_seed_pack_lints_clean_through_the_cli() -> None:
    seeds = sorted(str(p) for p in (Path(__file__).parents[2] / "seeds").glob("*.toml"))
    assert seeds
    result = run_auditor("policy", "lint", *seeds)
    assert result.exit_code == 0, result.output


def test_render_substitutes_names_and_never_raises() -> None:
    values = {name: f"<{name}>" for name in TEMPLATE_FIELDS}
    assert render("{principal} ran {operation}", values) == "<principal> ran <operation>"
    assert render("{{principal}} {{ }}", values) == "{principal} { }"
    for template, _ in HOSTILE:
        out = render(template, values)
        assert out == template or "<" in out
        assert len(out) < 100
    assert render("{operation:>{x}}", values) == "{operation:>{x}}"
    assert render("{nope} {principal}", values) == "{nope} <principal>"
