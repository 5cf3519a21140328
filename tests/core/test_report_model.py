"""The typed report model (`auditor.core.report`) against real reports, the docs and the
shipped JSON Schema: a key the writer adds without the model, the docs or the schema fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pytest
from pydantic import BaseModel

from auditor.core import report as model
from tests.conftest import DEMO, ROOT, make_bundle

SCHEMA_FILE = ROOT / "auditor" / "report" / "schemas" / "auditor.report-v1.schema.json"
DOCS = ROOT / "docs" / "report.md"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Real reports from the real CLI: the demo with frames, without frames, and an
    incomplete audit with an input error and a notice."""
    from typer.testing import CliRunner

    from auditor.cli import app

    runner = CliRunner()
    out: dict[str, dict[str, Any]] = {}
    base = tmp_path_factory.mktemp("model")
    broken = make_bundle(
        base / "broken",
        {
            "logs/a.jsonl": '{"time": "2024-01-01T00:00:00Z", "service": "rekognition", '
            '"operation": "SearchFacesByImage", "principal": "pd"}\n{not json\n'
        },
    )
    cases: dict[str, tuple[Path, list[str]]] = {
        "demo": (DEMO, []),
        "no_frames": (DEMO, ["--no-frames"]),
        "broken": (broken, []),
    }
    for name, (bundle, extra) in cases.items():
        path = base / f"{name}.json"
        args = ["audit", str(bundle), "--no-store", "-f", "json", "-o", str(path), *extra]
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code in (1, 3), result.output
        out[name] = json.loads(path.read_text())
    assert out["broken"]["run"]["status"] == "incomplete" and out["broken"]["errors"]
    return out


def test_real_reports_validate(reports: dict[str, dict[str, Any]]) -> None:
    for name, data in reports.items():
        typed = model.load_report(data)
        assert len(typed.findings) == len(data["findings"]), name
        assert typed.model_dump(by_alias=True, exclude_none=False)["schema"] == model.SCHEMA


def test_shipped_schema_is_generated_from_the_model() -> None:
    shipped = json.loads(SCHEMA_FILE.read_text())
    assert shipped == model.report_schema(), "run `make schemas` after changing the model"


def test_shipped_schema_accepts_real_reports(reports: dict[str, dict[str, Any]]) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    for name, data in reports.items():
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        assert not errors, (name, [e.message for e in errors[:3]])


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.pop("summary"), "summary"),
        (lambda d: d["findings"][0].update(severity="severe"), "findings[0].severity"),
        (lambda d: d["run"].update(status="running"), "run.status"),
        (lambda d: d["findings"][0]["events"][0].update(line="x"), "findings[0].events[0].line"),
        (lambda d: d.update(extra_key=1), "extra_key"),
        (lambda d: d["inputs"].append("a string"), "inputs["),
    ],
)
def test_malformed_shapes_are_located(
    reports: dict[str, dict[str, Any]], mutate: Callable[[dict[str, Any]], Any], where: str
) -> None:
    data = json.loads(json.dumps(reports["demo"]))
    mutate(data)
    with pytest.raises(model.ReportShapeError) as caught:
        model.load_report(data)
    assert any(p.startswith(where) for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize("doc", [[], "report", 3, None])
def test_a_document_that_is_not_an_object(doc: object) -> None:
    with pytest.raises(model.ReportShapeError, match="must be an object"):
        model.load_report(doc)


def test_upgrade_groups_per_event_undecided_entries(reports: dict[str, dict[str, Any]]) -> None:
    data = json.loads(json.dumps(reports["demo"]))
    sample = data["undecided"][0]["sample"][0]
    old = {"pack": "p", "rule": "r", "reason": "missing fields", "missing": ["region"]}
    data["undecided"] = [{**old, "event": sample} for _ in range(7)]
    typed = model.load_report(data)
    assert len(typed.undecided) == 1
    assert typed.undecided[0].count == 7 and len(typed.undecided[0].sample) == 5


def _doc_rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in DOCS.read_text().splitlines():
        m = re.match(r"\| `([\w\[\].]+)` \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The model inside `X`, `X | None` or `tuple[X, ...]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        inner = _nested(arg)
        if inner is not None:
            return inner
    return None


def test_docs_list_every_report_key() -> None:
    """docs/report.md has a row per top-level key, and each row names every field of the
    model under it (so the docs cannot list keys that are absent, or miss new ones)."""
    rows = {k.replace("[]", ""): v for k, v in _doc_rows().items()}
    top = {f.alias or name for name, f in model.Report.model_fields.items()}
    assert top <= set(rows), sorted(top - set(rows))
    for name, field in model.Report.model_fields.items():
        key = field.alias or name
        sub = _nested(field.annotation)
        if sub is None:
            continue
        texts = " ".join(v for k, v in rows.items() if k == key or k.startswith(key + "."))
        words = set(re.findall(r"\w+", texts))
        missing = [f for f in sub.model_fields if f not in words]
        assert not missing, (key, missing)
    documented = {k for k in rows if "." not in k}
    assert documented <= top, sorted(documented - top)


BASELINE_SCHEMA_FILE = SCHEMA_FILE.with_name("auditor.baseline-v1.schema.json")
GOLDEN_JSON = ROOT / "fixtures" / "golden" / "json" / "demo.json"


def test_shipped_schemas_are_package_data() -> None:
    """Both schemas are read from the installed package (importlib.resources), as users do."""
    from importlib import resources

    folder = resources.files("auditor.report").joinpath("schemas")
    for name in ("auditor.report-v1.schema.json", "auditor.baseline-v1.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(folder.joinpath(name).read_text()))


def test_golden_report_validates_against_the_report_schema(
    reports: dict[str, dict[str, Any]],
) -> None:
    """The golden report validates (its run-dependent blocks from a real run)."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    data = _golden_with_real_run(reports)
    errors = [e.message for e in validator.iter_errors(data)]
    assert not errors, errors[:3]
    model.load_report(data)


def test_shipped_baseline_schema_is_generated_from_the_model() -> None:
    from auditor.config.baseline import baseline_schema

    shipped = json.loads(BASELINE_SCHEMA_FILE.read_text())
    assert shipped == baseline_schema(), "run `make schemas` after changing the model"


def _golden_with_real_run(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The golden report with the blocks it holds as placeholders (`run`, `face_engine`: they
    vary by run and machine) taken from a real run of the demo."""
    golden = json.loads(GOLDEN_JSON.read_text())
    assert golden["run"]["id"] == "0" * 32  # the canonical form (tests/report/report_helpers.py)
    return {**golden, "run": reports["demo"]["run"], "face_engine": reports["demo"]["face_engine"]}


@pytest.mark.e2e
def test_a_baseline_made_from_the_golden_report_validates(
    tmp_path: Path, reports: dict[str, dict[str, Any]]
) -> None:
    """`auditor baseline create` on the golden report, through the real CLI: its file validates
    against the shipped schema, and the schema refuses what the loader refuses."""
    from tests.conftest import run_auditor

    report = tmp_path / "report.json"
    report.write_text(json.dumps(_golden_with_real_run(reports)))
    out = tmp_path / "auditor-baseline.json"
    made = run_auditor(
        "baseline", "create", report, "-o", out, "--reason", "court order 1",
        "--who", "J. Smith", "--expires", "2099-12-31",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    data = json.loads(out.read_text())
    golden = json.loads(GOLDEN_JSON.read_text())
    assert len(data["entries"]) == len(golden["findings"]) > 0
    validator = jsonschema.Draft202012Validator(json.loads(BASELINE_SCHEMA_FILE.read_text()))
    assert not [e.message for e in validator.iter_errors(data)]
    for bad in (
        {**data, "schema": "auditor.baseline/v2"},
        {**data, "entries": [{**data["entries"][0], "colour": "red"}]},
        {**data, "entries": [{k: v for k, v in data["entries"][0].items() if k != "who"}]},
        {**data, "entries": [{**data["entries"][0], "reason": "  "}]},
    ):
        assert list(validator.iter_errors(bad)), bad
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        refused = run_auditor("audit", DEMO, "--no-store", "--baseline", tmp_path / "bad.json")
        assert refused.exit_code == 2, refused.output


def test_the_documented_baseline_example_validates() -> None:
    text = (ROOT / "docs" / "reports.md").read_text()
    example = text.split('```json\n{\n  "schema": "auditor.baseline/v1"', 1)[1].split("```", 1)[0]
    doc = json.loads('{\n  "schema": "auditor.baseline/v1"' + example)
    validator = jsonschema.Draft202012Validator(json.loads(BASELINE_SCHEMA_FILE.read_text()))
    assert not [e.message for e in validator.iter_errors(doc)]
