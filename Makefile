# The Media API. `make dev` serves it; `make test` runs the whole suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCALSTACK_VENV := .venv-localstack
LOCALSTACK_PYTHON_VERSION ?= 3.13
PORT ?= 4100
STAGE ?= dev
PYTEST_WORKERS ?= 2
# The database every target uses: DATABASE_URL when set, else the embedded server.
DB_URL = $${DATABASE_URL:-$$($(PY) -m scripts.embedded_db url)}

.PHONY: dev check stop reset import bench-import test lint typecheck migrate token schedules localstack localstack-venv bench assets layer package deploy stream-keys clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# LocalStack needs Python 3.13 and pins that clash with the app's: its own virtualenv.
$(LOCALSTACK_VENV)/.installed:
	bash scripts/localstack_venv.sh $(LOCALSTACK_VENV) $(LOCALSTACK_PYTHON_VERSION)
	touch $@

localstack-venv: $(LOCALSTACK_VENV)/.installed

# Checkov (the template's security scan) pins packages of its own: a virtualenv of its own too.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# The browser code the API serves itself: pinned npm packages, and the tracking SDK built from its source.
VENDORED := chalicelib/web/static/vendor/manifest.json
$(VENDORED): web-assets/package.json web-assets/package-lock.json scripts/vendor_assets.py chalicelib/web/static/sdk/tracker.mjs
	$(PYTHON) -m scripts.vendor_assets

assets: $(VENDORED)

dev: $(VENV)/.installed assets
	PORT=$(PORT) $(PY) -m scripts.dev

# Everything `make dev` started: the server, its emulator and dispatcher, and the embedded PostgreSQL.
stop: $(VENV)/.installed
	@$(PY) -m scripts.dev stop

# Start again from empty: no database, no media, no emulator state (the demo clips are made again).
reset: stop
	rm -rf .data/postgres .data/s3 .data/localstack .data/dev-env.json

# The fast loop (< 60 s): lint, types and the unit tier (no database, no network, no servers).
check: lint typecheck
	$(PY) -m pytest tests/unit -q -p no:xdist

# Every tier (unit, db, api, integration) in one run; see docs/testing.md. Files start in the order
# tests/conftest.py gives them (the longest first), not xdist's (the most tests first).
test: $(VENV)/.installed $(LOCALSTACK_VENV)/.installed $(CHECKOV_VENV)/.installed assets
	DATABASE_URL=$(DB_URL) $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy app.py chalicelib

migrate: $(VENV)/.installed
	DATABASE_URL=$(DB_URL) $(VENV)/bin/alembic upgrade head

# Tracking throughput and analytics latency on 1M views / 5M events (see README "Benchmark").
bench: $(VENV)/.installed
	DATABASE_URL=$(DB_URL) $(PY) -m scripts.bench $(BENCH_ARGS)

token: $(VENV)/.installed
	@$(PY) -m scripts.dev token

# How long `make import` takes: a module database of 1M views / 5M events, imported and folded
# (BENCH_ARGS="--views 10000000 --events 50000000" for 10M; docs/benchmark.md "Import").
bench-import: $(VENV)/.installed
	DATABASE_URL=$(DB_URL) $(PY) -m scripts.bench_import $(BENCH_ARGS)

# The module's library and history (docs/import.md): SOURCE_DATABASE_URL=... [SOURCE_MEDIA_DIR=...] [DRY_RUN=1].
# Beside a running `make dev`, into its database, bucket and Scheduler with no extra environment.
import: $(VENV)/.installed
	@$(PY) -m scripts.import_module

# Pending and recently failed scheduled actions (the module's queue:status).
schedules: $(VENV)/.installed
	@DATABASE_URL=$(DB_URL) $(PY) -m scripts.schedules

# LocalStack on the host, no Docker (Ctrl-C stops it). Then: export AWS_ENDPOINT_URL=<printed endpoint>.
# Loopback only: its default server (twisted) ignores GATEWAY_LISTEN's IPv4 host and binds 0.0.0.0,
# and its DNS server listens on 0.0.0.0:53; hypercorn honours the host and DNS is not needed here.
LOCALSTACK_PORT ?= 4566
LOCALSTACK_LOOPBACK := GATEWAY_SERVER=hypercorn DNS_ADDRESS=0
localstack: $(LOCALSTACK_VENV)/.installed
	@mkdir -p .data/localstack
	@echo "LocalStack endpoint: http://127.0.0.1:$(LOCALSTACK_PORT)  (export AWS_ENDPOINT_URL=http://127.0.0.1:$(LOCALSTACK_PORT))"
	cd .data/localstack && GATEWAY_LISTEN=127.0.0.1:$(LOCALSTACK_PORT) $(LOCALSTACK_LOOPBACK) LOCALSTACK_CLI=0 \
		LOCALSTACK_VOLUME_DIR=$(CURDIR)/.data/localstack/volume FILESYSTEM_ROOT=$(CURDIR)/.data/localstack/fs \
		SERVICES=s3,sqs,sns,scheduler,iam,sts,ssm,secretsmanager EAGER_SERVICE_LOADING=0 \
		exec $(CURDIR)/$(LOCALSTACK_VENV)/bin/python -m localstack.runtime.main

# The ffprobe and ffmpeg Lambda layers (x86_64 only) in build/layers/; prints each layer's size and
# every function's total (deployment package + its layers) against Lambda's 250 MB.
layer: $(VENV)/.installed assets
	PYTHON=$(CURDIR)/$(PY) bash infra/layers/build.sh build/layers
	MEDIA_QUEUE_PREFIX=media-api-$(STAGE) $(PY) -m infra.layer_sizes --layers build/layers

# One SAM template for STAGE: Chalice's API and functions merged with infra/template.json, one function
# per endpoint group (infra/api_functions.py), linted (cfn-lint) and scanned (Checkov; every skip says why).
AWS_REGION ?= us-east-1
STACK_NAME ?= media-api-$(STAGE)
PACKAGE_DIR = build/package-$(STAGE)
package: $(VENV)/.installed $(CHECKOV_VENV)/.installed layer
	$(PY) -m infra.render_template --stage $(STAGE) --output build/merge-$(STAGE).json
	rm -rf $(PACKAGE_DIR)
	AWS_DEFAULT_REGION=$(AWS_REGION) MEDIA_QUEUE_PREFIX=media-api-$(STAGE) $(VENV)/bin/chalice package --stage $(STAGE) \
		--merge-template build/merge-$(STAGE).json $(PACKAGE_DIR)
	$(PY) -m infra.api_functions $(PACKAGE_DIR)/sam.json
	cp build/layers/ffprobe-layer-x86_64.zip build/layers/ffmpeg-layer-x86_64.zip $(PACKAGE_DIR)/
	$(PY) -m infra.layer_sizes --layers build/layers --package $(PACKAGE_DIR)
	$(VENV)/bin/cfn-lint $(PACKAGE_DIR)/sam.json
	$(CHECKOV_VENV)/bin/checkov --file $(PACKAGE_DIR)/sam.json --framework cloudformation --compact --quiet --skip-download
	@echo "Packaged $(PACKAGE_DIR)/sam.json (+ deployment.zip, ffprobe-layer-x86_64.zip)"

# A signing key pair for the CloudFront key group of STAGE (ECDSA P-256): infra/stream-keys/<stage>-*.pem.
stream-keys: $(VENV)/.installed
	$(PY) -m scripts.stream_keys $(STAGE)

# Deploy the packaged template. Needs the AWS CLI, credentials, DEPLOY_BUCKET (artifact bucket) and the
# stack parameters: infra/parameters-$(STAGE).properties (Key=Value lines) and/or DEPLOY_PARAMETERS.
DEPLOY_PARAMETERS_FILE ?= infra/parameters-$(STAGE).properties
deploy: package
	@test -n "$(DEPLOY_BUCKET)" || { echo "make deploy needs DEPLOY_BUCKET=<S3 bucket for artifacts>" >&2; exit 1; }
	aws cloudformation package --region $(AWS_REGION) --template-file $(PACKAGE_DIR)/sam.json \
		--s3-bucket $(DEPLOY_BUCKET) --s3-prefix media-api/$(STAGE) --output-template-file $(PACKAGE_DIR)/packaged.yaml
	aws cloudformation deploy --region $(AWS_REGION) --template-file $(PACKAGE_DIR)/packaged.yaml \
		--stack-name $(STACK_NAME) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) $$(test -f $(DEPLOY_PARAMETERS_FILE) && grep -v '^\s*\(#\|$$\)' $(DEPLOY_PARAMETERS_FILE)) $(DEPLOY_PARAMETERS) \
		StreamSigningPublicKey="$$(cat infra/stream-keys/$(STAGE)-public.pem)" \
		StreamSigningPrivateKey="$$(cat infra/stream-keys/$(STAGE)-private.pem)"
	aws cloudformation describe-stacks --region $(AWS_REGION) --stack-name $(STACK_NAME) \
		--query 'Stacks[0].Outputs[?OutputKey==`EndpointURL` || OutputKey==`MediaBucketName`]' --output table

clean:
	rm -rf $(VENV) $(LOCALSTACK_VENV) $(CHECKOV_VENV) .data build web-assets/node_modules chalicelib/web/static/vendor
