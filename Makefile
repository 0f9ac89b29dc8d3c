# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Each installs what it needs (venv, pip, npm) and nothing else is assumed but Python 3.11,
# Node 20 and Java 17.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
STAMP_WEB := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.js

.PHONY: web chromium screenshots deploy-web run test lint unit integration bench sms call email report package openapi token tick outbox install java clean

$(STAMP_PY): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## make web: the web app (web/, its own npm lock) built into web/dist, served at /app/ by `make run`.
$(STAMP_WEB): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: $(STAMP_WEB) $(WEB_SOURCES)
	cd web && npm run build --silent

web: web/dist/index.html

# The browser tests drive Debian's Chromium; nothing downloads a browser.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "The browser tests need Debian's Chromium. Install it with:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y chromium"; exit 1; fi; }

java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "DynamoDB Local needs Java 17. Install it with:"; \
	  echo "  sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless"; \
	  exit 1; }

install: $(STAMP_PY) $(STAMP_NODE) java

## make run: DynamoDB Local (data in .data/), the table, demo data, the API on :8000. Ctrl-C stops.
run: install web
	$(PY) scripts/run_local.py

## make test: lint, architecture contracts, unit tests (moto), integration tests (DynamoDB Local) and
## the browser tests (tests/browser: Playwright driving /usr/bin/chromium against the local stack).
test: install web chromium lint
	$(PY) -m pytest -p no:cacheprovider

lint: $(STAMP_PY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

unit: $(STAMP_PY)
	$(PY) -m pytest -p no:cacheprovider tests/unit

integration: install
	$(PY) -m pytest -p no:cacheprovider tests/integration

## make bench: cold start against the floor, DynamoDB requests per operation.
bench: install
	$(PY) bench/run.py

## make sms FROM=+4520000001 BODY="...": a signed inbound SMS to the running local server.
FROM ?= +4520000001
BODY ?= Hello, I need help choosing an education
sms: $(STAMP_PY)
	$(PY) scripts/sms.py --from "$(FROM)" --body "$(BODY)"

## make call FROM=+4520000001 DIGITS=21 [DIAL=no-answer]: a signed call through the phone menu (first digit: the language).
DIGITS ?=
DIAL ?= completed
call: $(STAMP_PY)
	$(PY) scripts/call.py --from "$(FROM)" --digits "$(DIGITS)" --dial "$(DIAL)"

## make email FILE=path/to/message.eml: a raw message to the local relay endpoint, signed.
FILE ?= tests/email_corpus/01-plain.eml
email: $(STAMP_PY)
	$(PY) scripts/relay_email.py --file "$(FILE)"

## make report WEEK=2026-W47 (or FROM=2026-W01 TO=2026-W47 to backfill, with a progress bar).
WEEK ?=
report: install
	$(PY) scripts/report.py $(if $(WEEK),--week "$(WEEK)") $(if $(FROM),--from "$(FROM)" --to "$(TO)")

## make tick JOB=retry_outbox: run one scheduled function now against the local stack's data.
JOB ?=
tick: $(STAMP_PY)
	@$(PY) scripts/tick.py $(JOB)

## make outbox [N=20] [SHOW=3 or SHOW=<file>.eml]: what the local stack sent (.data/outbox), newest
## last, with case ids; SHOW prints one message whole.
N ?= 20
SHOW ?=
outbox: $(STAMP_PY)
	@$(PY) scripts/outbox.py --last "$(N)" $(if $(SHOW),--show "$(SHOW)")

## make package: the prod stage as one CloudFormation (SAM) template + zip under dist/prod/.
package: $(STAMP_PY)
	$(PY) scripts/package.py

## make openapi: rewrite docs/openapi.json from the routes and schemas/ (a test checks it).
openapi: $(STAMP_PY)
	$(PY) -c "import json, app; from chalicelib.channels.openapi import document; open('docs/openapi.json', 'w').write(json.dumps(document(app.app.routes), indent=2, sort_keys=True) + '\n')"

## make deploy-web STACK=<stack>: the built web app into the deployed stack's bucket (after sam deploy).
STACK ?=
deploy-web: web
	$(PY) scripts/deploy_web.py --stack "$(STACK)"

## make screenshots: docs/screenshots/ (the main pages at 1280x900 and 390x844, demo history).
screenshots: install web chromium
	SCREENSHOTS=docs/screenshots $(PY) -m pytest -p no:cacheprovider -q tests/browser/test_screenshots.py

## make token ROLE=practitioner USER=p-anna: a bearer token for the local stack (alone on stdout).
ROLE ?= practitioner
# USER is also the shell's login name: only a USER given on the command line counts.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),p-anna)
token: $(STAMP_PY)
	@$(PY) scripts/auth_token.py --role "$(ROLE)" --user "$(TOKEN_USER)"

clean:
	rm -rf $(VENV) node_modules web/node_modules web/dist .pytest_cache .ruff_cache
