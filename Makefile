# DailyDigest. `make demo` and `make test` are all a fresh machine needs.
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift

.PHONY: demo test build release bench bench-web bench-admin clean

demo: ## Install what is missing, build, and run a whole night's send into var/demo/outbox
	@scripts/setup
	@$(SWIFT) build
	@scripts/demo .build/debug/digest

test: ## Install the test servers (smtp-sink, aiosmtpd) and run the whole test suite
	@scripts/setup --test
	@$(SWIFT) build --product digest
	@$(SWIFT) build --build-tests
	@# At most 6 tests at once: the suite starts real servers (digest serve, Chromium, PostgreSQL) inside and
	@# beside one test process whose Swift concurrency has a thread per core; unbounded, on 2 cores, in-process
	@# servers waited a minute for a thread (2026-12-03, 558 tests: 247 s passing at 6, 268 s with 5 time-outs).
	@SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$${DIGEST_TEST_WIDTH:-6} $(SWIFT) test --skip-build

build:
	@$(SWIFT) build

release:
	@scripts/setup
	@$(SWIFT) build -c release

bench: ## digest send against Postfix's smtp-source to smtp-sink on 127.0.0.1; see BENCHMARKS.md
	@scripts/setup --test
	@$(SWIFT) build -c release
	@scripts/bench

bench-web: ## digest serve (release) under wrk: GET /subscribe and GET /r/TOKEN (clicks) req/s, p99 and server CPU per request at 1/16/64 connections, sign-ups/s
	@scripts/setup --test
	@$(SWIFT) build -c release --product digest
	@scripts/bench-web

bench-admin: ## The admin figures on 100,000 readers and 90 nights (9M ledger rows): Store queries and admin URLs p50/p95, SQLite and PostgreSQL
	@scripts/setup --test
	@$(SWIFT) build -c release --product digest
	@$(SWIFT) build -c release --product digest-bench
	@scripts/bench-admin

clean:
	rm -rf .build var
