# The two commands: `make run` brings the system up locally, `make test` checks everything.
# Tools come from pinned versions in tools/requirements*.txt, installed into project-local virtualenvs.

SHELL := bash
PYTHON ?= python3
VENV ?= .venv
SAM_VENV ?= .venv-sam
CARGO_LAMBDA := $(VENV)/bin/cargo-lambda
# Cargo's target directory, wherever CARGO_TARGET_DIR puts it.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: help run test lint fmt clippy lint-template unit integration scale scale-check api-test faults fuzz fuzz-smoke openapi bench bench-bulk build package deploy invoke store redrive queue receive venv sam-venv clean

help:
	@echo "make run        the whole system locally (moto + functions under cargo lambda watch)"
	@echo "make test       fmt, clippy, template lint, unit and integration tests, a fixed-seed fuzz pass"
	@echo "make bench      measure cold start, CPU, AWS requests, memory, size, load: writes docs/PERFORMANCE.md"
	@echo "make scale      the partition-heat model from recorded requests: writes docs/SCALE.md"
	@echo "make bench-bulk bulk vs the same events sent singly, on the local stack: wall time and requests"
	@echo "make build      release binaries with cargo lambda (target/lambda/<function>/bootstrap)"
	@echo "make package    sam build of template.yaml (every function), with artifact sizes"
	@echo "make deploy     guided sam deploy of what make package built (samconfig.toml)"
	@echo "make invoke FN=… EVENT=…  one events/ fixture through a function of the stack of make run"
	@echo "make store NAME=…   create a store and key in the local stack (or TABLE_NAME's table)"
	@echo "make redrive        dead-lettered dispatch messages back to dispatch (LIMIT=…, DEPLOYED=1)"
	@echo "make queue NAME=…      a subscriber queue in the local stack (prints its URL)"
	@echo "make receive QUEUE=…   what arrived in that queue"
	@echo "make openapi    regenerate docs/openapi.json from the code"
	@echo "make fuzz       every request parser under cargo fuzz at random, FUZZ_SECONDS (300) each; make test runs a fixed-seed pass"
	@echo "make api-test   schemathesis against the handlers, API_EXAMPLES (200) per operation; make test runs 20"
	@echo "make faults     the fault-injection run at FAULT_EVENTS (2000) events; make test runs 300"

# The virtualenv is rebuilt when the pinned requirements change.
venv: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

run: venv
	VENV=$(abspath $(VENV)) scripts/run-local.sh

test: lint unit integration scale-check fuzz-smoke

lint: fmt clippy lint-template

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# cfn-lint from the test virtualenv, then `sam validate --lint` (SAM's transform, then cfn-lint on the
# result); both must report nothing, warnings included.
lint-template: venv sam-venv
	$(VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml

unit:
	cargo test --workspace --lib --bins

# The integration tests also record the request sequences the partition-heat model reads
# (target/scale/), afresh each run.
integration: venv
	rm -rf $(TARGET_DIR)/scale
	VENV=$(abspath $(VENV)) cargo test -p integration-tests --test it

# The partition-heat model (scripts/scale_model.py) over docs/scale-scenarios.yaml: make scale records the
# sequences and writes docs/SCALE.md; make test checks what its integration run recorded.
SCALE_TESTS := scale:: requests::
scale: venv
	rm -rf $(TARGET_DIR)/scale
	VENV=$(abspath $(VENV)) cargo test -p integration-tests --test it -- $(SCALE_TESTS)
	$(VENV)/bin/python scripts/scale_model.py report

scale-check: venv
	$(VENV)/bin/python scripts/scale_model.py check

# schemathesis with docs/openapi.json against the real handlers over moto (tests/it/conformance.rs);
# make test runs it with 20 examples per operation, this with API_EXAMPLES (200).
API_EXAMPLES ?= 200
api-test: venv
	API_EXAMPLES=$(API_EXAMPLES) VENV=$(abspath $(VENV)) cargo test -p integration-tests --test it conformance -- --nocapture

# The fault-injection harness (tests/it/faults.rs) with more events than make test gives it. FAULT_SEED
# reproduces a run's draws; the figures land in target/bench/faults.json.
FAULT_EVENTS ?= 2000
faults: venv
	FAULT_EVENTS=$(FAULT_EVENTS) VENV=$(abspath $(VENV)) cargo test -p integration-tests --test it faults -- --nocapture

# cargo fuzz on the machine's stable toolchain: RUSTC_BOOTSTRAP=1 lets it pass the sanitizer flags it needs.
# cargo-fuzz itself is built once into .tools/ at a pinned version. Every target in shared/fuzz/fuzz_targets/
# runs (scripts/fuzz.sh). `make test` runs each from its committed seeds and regression cases with a fixed
# seed and a fixed number of executions, so a commit always gets the same verdict; `make fuzz` explores at
# random for FUZZ_SECONDS each. A finding fails either and names the saved input: commit it to
# shared/fuzz/regressions/<target>/ with the fix.
CARGO_FUZZ_VERSION := 0.13.1
CARGO_FUZZ := $(CURDIR)/.tools/bin/cargo-fuzz
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_RUNS ?= 50000

$(CARGO_FUZZ):
	cargo install --quiet --locked --root .tools cargo-fuzz --version $(CARGO_FUZZ_VERSION)

fuzz: $(CARGO_FUZZ)
	CARGO_FUZZ=$(CARGO_FUZZ) scripts/fuzz.sh explore $(FUZZ_SECONDS)

fuzz-smoke: $(CARGO_FUZZ)
	CARGO_FUZZ=$(CARGO_FUZZ) scripts/fuzz.sh smoke $(FUZZ_SMOKE_RUNS)

# CPU is measured in the release profile on the core crate (no SDK to compile); the request counts and the
# harness that drives the release binaries reuse the test profile `make test` builds. Builds run one after
# another: run side by side on 2 cores they took longer (25 min against 22). Old figures are removed first:
# the report never mixes runs.
bench: build
	rm -rf $(TARGET_DIR)/bench $(TARGET_DIR)/criterion
	cargo bench -p collector-core --bench hot_paths -- --warm-up-time 1 --measurement-time 3
	VENV=$(abspath $(VENV)) cargo test -p integration-tests --test it should_cost
	VENV=$(abspath $(VENV)) cargo test -p integration-tests --bench lambdas
	$(PYTHON) scripts/perf_report.py

bench-bulk: venv
	VENV=$(abspath $(VENV)) cargo test -p integration-tests --bench bulk

openapi:
	UPDATE_OPENAPI=1 cargo test -p integration-tests --test it openapi

build: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO_LAMBDA) lambda build --release --package ingest --package bulk-ingest --package subscriptions --package dispatch --package scheduler --package jobs --package reads
	@ls -l $(TARGET_DIR)/lambda/*/bootstrap

sam-venv: $(SAM_VENV)/.installed
$(SAM_VENV)/.installed: tools/requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-sam.txt
	touch $@

# sam build runs `cargo lambda build --release` for each function (BuildMethod rust-cargolambda), with
# cargo-lambda and zig from the pinned virtualenv; the build settings are samconfig.toml's.
package: venv sam-venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build $(SAM_BUILD_ARGS)
	@$(PYTHON) scripts/artifact_sizes.py .aws-sam/build

# The first run asks for the stack name, region and parameters and saves the answers in samconfig.toml.
deploy: sam-venv
	@test -d .aws-sam/build || { echo "nothing built: run 'make package' first"; exit 2; }
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam deploy --guided

# One events/ fixture, its {{PLACEHOLDERS}} filled (scripts/render_event.py), through a function of the
# stack of `make run`.
invoke: venv
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo 'usage: make invoke FN=ingest EVENT=events/ingest/custom-event.json [SUBSCRIPTION_ID=… JOB_ID=…]'; exit 2; }
	@test -f .local/stack.env || { echo "no local stack: run 'make run' first"; exit 2; }
	@$(VENV)/bin/python scripts/render_event.py "$(EVENT)" > .local/invoke-event.json
	@set -a; . ./.local/stack.env; set +a; \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO_LAMBDA) lambda invoke "$(FN)" --data-file .local/invoke-event.json \
	    --invoke-address 127.0.0.1 --invoke-port "$${WATCH_URL##*:}"

# Creates a store and a key in the stack of `make run` (.local/stack.env). Against a deployed stack:
# `make store NAME=… DEPLOYED=1 TABLE_NAME=<the stack's TableName output>` with your AWS credentials.
store:
	@test -n "$(NAME)" || { echo 'usage: make store NAME="My store"'; exit 2; }
	@if [ -z "$(DEPLOYED)" ]; then \
	  test -f .local/stack.env || { echo "no local stack: run 'make run' first (or pass DEPLOYED=1)"; exit 2; }; \
	  set -a; . ./.local/stack.env; set +a; \
	  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local; \
	fi; cargo run --quiet -p collector-admin --bin storeadmin -- create-store "$(NAME)"

# Dead-lettered dispatch messages back to dispatch (their ledger attempts then say `redrive`): the stack of
# `make run`, or with DEPLOYED=1 the deployed one (DISPATCH_QUEUE_URL from the stack's outputs).
redrive:
	@if [ -z "$(DEPLOYED)" ]; then \
	  test -f .local/stack.env || { echo "no local stack: run 'make run' first (or pass DEPLOYED=1)"; exit 2; }; \
	  set -a; . ./.local/stack.env; set +a; \
	  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local; \
	fi; cargo run --quiet -p collector-admin --bin storeadmin -- redrive $(LIMIT)

# Subscriber queues in the stack of `make run`, for trying subscriptions without an AWS CLI.
queue receive: venv
	@test -f .local/stack.env || { echo "no local stack: run 'make run' first"; exit 2; }
	@set -a; . ./.local/stack.env; set +a; \
	  if [ "$@" = queue ]; then $(VENV)/bin/python scripts/localq.py create "$${NAME:?usage: make queue NAME=my-subscriber}"; \
	  else $(VENV)/bin/python scripts/localq.py receive "$${QUEUE:?usage: make receive QUEUE=<queue URL>}"; fi

clean:
	cargo clean
	rm -rf $(VENV) $(SAM_VENV) .local .aws-sam
