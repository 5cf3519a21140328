# The two commands of the README: `make demo` and `make test`. Each makes .venv when it is
# missing, installs everything (see `install`), then does its job. Nothing else is needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: schemas install demo test test-fast lint bench-logs bench-faces bench-kernel dlib-fast bench-faces-both clean chromium postgresql goldens sarif-multitool

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 'setuptools<81' wheel
	$(PY) -m pip install -q -e '.[dev,postgres,dask,s3]'
	# face_recognition 1.3.0 requires the source `dlib`; dlib-bin provides the same module.
	$(PY) -m pip install -q --no-deps face_recognition==1.3.0
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p .auditor/demo
	# Exit 1 means "findings at or above --fail-on": the demo bundle is meant to have them.
	$(VENV)/bin/auditor audit fixtures/demo --format table --format json \
		--output - --output .auditor/demo/report.json; \
		rc=$$?; echo "auditor exit code: $$rc (1 = findings, as the demo expects)"; \
		test $$rc -eq 1

# The HTML report tests drive a real headless Chromium (Debian's package; needs root or sudo).
chromium:
	sh scripts/install-chromium.sh

# The store tests start a throw-away PostgreSQL server (Debian's package; needs root or sudo).
postgresql:
	sh scripts/install-postgresql.sh

# The SARIF tests also run Microsoft's SARIF Multitool (npm's @microsoft/sarif-multitool,
# installed into .tools/; needs npm).
sarif-multitool:
	sh scripts/install-sarif-multitool.sh .tools/sarif-multitool

test: $(STAMP) chromium postgresql sarif-multitool
	$(PY) -m pytest -q $(TESTS)

# The edit-test loop, in-process and under a minute: everything but the tests marked slow (Dask
# clusters, fuzzing, concurrent audits) and e2e (the real auditor process, dlib on the demo's
# photos, a browser, PostgreSQL; see tests/conftest.py). `make test` runs them all.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m 'not slow and not e2e' $(TESTS)

# Regenerate the JSON Schemas shipped in the package from the typed models (auditor/core/report.py,
# auditor/config/baseline.py).
schemas: $(STAMP)
	$(PY) -c "import json; from auditor.core.report import report_schema; open('auditor/report/schemas/auditor.report-v1.schema.json', 'w').write(json.dumps(report_schema(), indent=2, sort_keys=True) + '\\n')"
	$(PY) -c "import json; from auditor.config.baseline import baseline_schema; open('auditor/report/schemas/auditor.baseline-v1.schema.json', 'w').write(json.dumps(baseline_schema(), indent=2, sort_keys=True) + '\\n')"

# Rewrite fixtures/golden/ from the current reporters; review the diff before committing.
goldens: $(STAMP)
	$(PY) -m pytest -q tests/report --update-goldens -k golden

lint: $(STAMP)
	$(VENV)/bin/ruff check auditor tests bench
	$(VENV)/bin/ruff format --check auditor tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench-logs: $(STAMP)
	$(PY) bench/logs_bench.py

bench-faces: $(STAMP)
	$(PY) bench/faces_bench.py

# The descriptor kernels side by side (dlib's against the onnx kernel), with the baselines and
# both floors, on the default install; waits for an idle machine before each variant.
bench-kernel: $(STAMP)
	$(PY) bench/faces_bench.py --wait-idle 300 --retries 2 \
		--only a_naive --only b_cli --only c_engine_dlib --only c_faces_cli_dlib \
		--only c_engine --only c_faces_cli --only floor --only floor_onnx \
		--only d_audit_cold --only d_audit_warm

# Scale-out (issue 10): 10 GiB of logs and 2,000 frames on the local pool, a LocalCluster and a
# scheduler + 2 workers. Needs ~14 GiB free disk; run it on a quiet machine (about half an hour).
.PHONY: bench-scale
bench-scale: $(STAMP)
	$(PY) bench/scale_bench.py --size-gb 10 --frames 2000 --quiet-wait 300

# Opt-in: dlib compiled from source with OpenBLAS and -march=native in .venv-fast (~12-20 min).
dlib-fast:
	sh scripts/build-fast-dlib.sh .venv-fast

# Both builds in one sitting: the default install first, then the native build against it.
bench-faces-both: $(STAMP) dlib-fast
	$(PY) bench/faces_bench.py --wait-idle 300 --retries 2
	cp bench/out/faces_results.json bench/out/faces_results_default.json
	.venv-fast/bin/python bench/faces_bench.py --wait-idle 300 --retries 2 \
		--default-results bench/out/faces_results_default.json

clean:
	rm -rf $(VENV) .auditor .pytest_cache .mypy_cache .ruff_cache .tools
