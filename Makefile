# The two commands a newcomer needs: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/core/requirements.txt | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)
# The built web console, and what it is built from (make console).
CONSOLE := console/dist/index.html
CONSOLE_SOURCES := $(shell find console -type f -not -path 'console/dist/*' 2>/dev/null)
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
# uv installs the pinned requirements into each virtualenv (an order of magnitude faster than pip,
# which make test would otherwise spend minutes in on a fresh clone). UV_NATIVE_TLS: the system's
# certificates, as pip uses them here.
UV_VERSION := 0.13.10
UV := $(BIN)/uv
export UV_NATIVE_TLS := 1
# A real python3.13 binary: pyenv's shim for it loops when 3.13 is not pyenv's selected version.
PY313 := $(or $(shell ls -d $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 2>/dev/null | head -n1),$(shell command -v python3.13 2>/dev/null))

.PHONY: install console run test test-stock test-fast lint validate-asl checkov bench bench-large bench-large-unique validate build smoke clean

install: $(STAMP)

$(STAMP): requirements-dev.txt layers/core/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

## Start the embedded local stack: API on 127.0.0.1:3000, AWS (moto) on 127.0.0.1:5000; other ports:
## `make run API_PORT=3100 AWS_PORT=5100`. More flags: `.venv/bin/python -m devstack --help`.
API_PORT ?= 3000
AWS_PORT ?= 5000
run: install $(CONSOLE)
	$(BIN)/python -m devstack --api-port $(API_PORT) --aws-port $(AWS_PORT) $(DEVSTACK_FLAGS)

# From the npm registry with the machine's Node.js, pinned in package-lock.json: asl-validator, and the
# web console's build tools (vite, typescript) and framework (preact).
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || (echo "make run and make test need Node.js 20.19+ and npm (console, asl-validator)"; exit 1)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-* && touch $@

## The web console (console/): type-checked and built into console/dist, which `make run` serves at
## http://127.0.0.1:3000/ and the deploy copies to the console bucket. Built again when a source changes.
console: $(CONSOLE)
$(CONSOLE): $(NODE_STAMP) package-lock.json $(CONSOLE_SOURCES)
	node_modules/.bin/tsc -p console
	node_modules/.bin/vite build console --logLevel warn

## The state machines: built from statemachine/src/ as committed, and valid ASL (asl-validator).
validate-asl: install $(NODE_STAMP)
	$(BIN)/python tools/build_state_machines.py --check
	node_modules/.bin/asl-validator --json-path statemachine/import.asl.json --json-path statemachine/jobs.asl.json

# checkov in its own virtualenv: it pins boto3 (==1.35.49), which clashes with ours.
$(CHECKOV): $(STAMP)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)

## checkov on template.yaml: 0 failed checks; what is not fixed is skipped in the template with a reason.
checkov: $(CHECKOV)
	$(CHECKOV) --file template.yaml --framework cloudformation --compact --quiet --skip-download

## Unit, integration (local stack in-process), browser (the console in Chromium) and acceptance tests,
## on every core (pytest-xdist: a local stack per worker, a test file per worker at a time):
## `make test TEST_WORKERS=0` runs them in one process. Its stock-moto pass:
## tests/acceptance/test_stock_moto.py runs every kind of run on a second stack started with
## --stock-moto, and tests/integration/test_moto_fixes.py compares each fix with it.
TEST_WORKERS ?= auto
test: install validate-asl lint checkov $(CONSOLE)
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadfile

## The part of the integration suite that covers every kind of run (imports, jobs, reverts, batch
## create, schedules, S3 drops), on moto, botocore and Powertools as released (DEVSTACK_MOTO_FIXES=0):
## what passes here and fails with the fixes is a fix's bug; what fails here too is moto's or ours.
STOCK_TESTS := tests/integration/test_imports.py tests/integration/test_jobs.py tests/integration/test_revert.py \
	tests/integration/test_batch_create.py tests/integration/test_lifecycle.py tests/integration/test_drop.py
test-stock: install
	DEVSTACK_MOTO_FIXES=0 $(BIN)/python -m pytest $(STOCK_TESTS)

## Unit tests only (seconds).
test-fast: install validate-asl
	$(BIN)/python -m pytest tests/unit

## Lint (ruff), formatting (ruff format), types of the layer and of every function (mypy) and the
## layer's import contracts (lint-imports). `make test` runs it first. Settings in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	MYPY=$(BIN)/mypy tools/typecheck_functions.sh
	PYTHONPATH=layers/core $(BIN)/lint-imports

## Benchmarks (minutes; figures in bench/README.md): CPU path vs DictReader+pydantic, memory of the workers on a 100 MB
## file, a 100k-row import vs a naive batch_writer loop, its AWS cost per million rows and a wall-time
## model. Figures printed and written to bench/results/latest.json.
bench: install
	$(BIN)/python -m bench.import_bench

## A ~100 MB, 1M-row CSV imported completely on the local stack (long: moto is slow).
bench-large: install
	$(BIN)/python -m bench.import_bench large

## The same 1M-row file into a table with one unique field (each row claims its key; longer).
bench-large-unique: install
	$(BIN)/python -m bench.import_bench large_unique

$(SAM): $(STAMP)
	$(PYTHON) -m venv $(SAM_VENV)
	$(UV) pip install --quiet --python $(SAM_VENV)/bin/python aws-sam-cli==$(SAM_VERSION)

## `sam validate --lint` (sam-cli in its own virtualenv: its pins clash with moto's).
validate: $(SAM)
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --region us-east-1

## `sam build` for Lambda python3.13 / arm64, output in .aws-sam/.
## Then compiles the .pyc files Lambda cannot write itself and checks the artifacts: arm64 binaries
## only, sizes against Lambda's limit, each function's cold-start import time and memory
## (tools/check_build.py).
build: install $(SAM)
	@test -n "$(PY313)" || (echo "sam build needs python3.13 on PATH (pyenv install 3.13)"; exit 1)
	SAM_CLI_TELEMETRY=0 PATH="$(dir $(PY313)):$$PATH" $(SAM) build
	@# Lambda's /opt and /var/task are read-only: without .pyc files every cold start compiles the
	@# layer again. Compiled here by Lambda's Python version; unchecked-hash: used as shipped.
	$(PY313) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build
	$(BIN)/python tools/check_build.py --python $(PY313)

## Smoke test of a deployed stack: make smoke STACK=<stack name> KEY=<admin key> TENANT=<its tenant>
## (or API=<ApiUrl> BUCKET=<BucketName> instead of STACK; AWS_ENDPOINT=http://127.0.0.1:5000 for the
## local stack). Prints one line per check with its time; exits 1 if any failed.
smoke: install
	$(BIN)/python tools/smoke.py --key "$(KEY)" --tenant "$(TENANT)" \
		$(if $(STACK),--stack-name "$(STACK)") $(if $(API),--api "$(API)") $(if $(BUCKET),--bucket "$(BUCKET)") \
		$(if $(AWS_ENDPOINT),--endpoint-url "$(AWS_ENDPOINT)")

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) node_modules .aws-sam .pytest_cache .ruff_cache .mypy_cache
