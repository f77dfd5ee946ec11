# warren - build, run and test.
#
#   make            build every program into bin/
#   make run        install missing packages, build every program, run the broker (foreground)
#   make test       install missing packages, build, run every test
#   make test-slow  the slow tests (tests/slow/: 66,000 queues through AMQP, minutes)
#   make cluster-shovel-1m  a million-message backlog warren -> RabbitMQ cluster -> warren (minutes)
#   make codegen    regenerate src/amqp/spec.[ch] from the AMQP spec JSON
#   make install    install (PREFIX=/usr/local, DESTDIR=); make deb: build/warren_*.deb (doc/install.md)
#   make fuzz       build the libFuzzer targets (clang)
#   make fuzz-long  run each libFuzzer target for FUZZ_SECONDS (default 1800) under ASan+UBSan
#                   (FUZZ_TARGETS="fuzz_tls ..." some of them; FUZZ_RUNS=N stop at N executions)
#
# Layout: src/amqp (codec, no syscalls) -> src/ev (loop, sockets) -> src/proto
# (the AMQP session) and src/http (front ends) -> src/*.c (the domain)
# -> src/store (disk).  Tools in tools/<name>/ build to bin/.

CC      ?= gcc
VERSION := 0.1.0
SPEC    ?= ../shared/spec/amqp-rabbitmq-0.9.1.json
PYTHON  := /usr/bin/python3

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  ?= -O2 -g
BASE    := -std=c11 -D_GNU_SOURCE -DWARREN_VERSION='"$(VERSION)"' -pthread $(WARN) -Isrc
LDLIBS  := -pthread -lm
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

AMQP_SRC   := $(wildcard src/amqp/*.c)
EV_SRC     := $(wildcard src/ev/*.c)
STORE_SRC  := $(wildcard src/store/*.c)
CORE_SRC   := $(filter-out src/main.c,$(wildcard src/*.c))
HTTP_SRC   := $(wildcard src/http/*.c)
# the dashboard's files, compiled in as arrays (scripts/embed_www.py)
WWW_FILES  := $(sort $(wildcard src/http/www/*))
WWW_SRC    := build/gen/www.c
PROTO_SRC  := $(wildcard src/proto/*.c)
BROKER_SRC := $(AMQP_SRC) $(EV_SRC) $(STORE_SRC) $(CORE_SRC) $(PROTO_SRC) $(HTTP_SRC) $(WWW_SRC)
# the HTTP API's libraries (Debian's libmicrohttpd-dev, libjansson-dev)
HTTP_LIBS  := -lmicrohttpd -ljansson
# the password hashes of the users (auth.c): OpenSSL's libcrypto (libssl-dev)
# TLS (src/tls.c): OpenSSL 3's libssl (libssl-dev)
CRYPTO_LIBS := -lssl -lcrypto

obj = $(patsubst %.c,build/$(1)/%.o,$(2))

AMQP_OBJ      := $(call obj,rel,$(AMQP_SRC))
BROKER_OBJ    := $(call obj,rel,$(BROKER_SRC))
BROKER_OBJ_SAN := $(call obj,san,$(BROKER_SRC))

TUTORIAL_COMMON := $(filter-out tools/tutorial/new_task.c tools/tutorial/worker.c,$(wildcard tools/tutorial/*.c))
PERF_SRC    := $(wildcard tools/perf/*.c)
CHECK_SRC   := $(wildcard tools/check-store/*.c)
RMQC_SRC    := $(wildcard tools/bench/rabbitmq_c_load.c)
CTL_SRC     := $(wildcard tools/warrenctl/*.c)

PROGRAMS := bin/warren bin/warren-asan
ifneq ($(wildcard tools/tutorial/new_task.c),)
PROGRAMS += bin/new_task
endif
ifneq ($(wildcard tools/tutorial/worker.c),)
PROGRAMS += bin/worker
endif
ifneq ($(PERF_SRC),)
PROGRAMS += bin/warren-perf
endif
ifneq ($(CHECK_SRC),)
PROGRAMS += bin/warren-check-store
endif
ifneq ($(wildcard tools/bench/roundtrip.c),)
PROGRAMS += bin/warren-roundtrip
endif
ifneq ($(RMQC_SRC),)
PROGRAMS += bin/warren-bench-rabbitmq-c
endif
ifneq ($(CTL_SRC),)
PROGRAMS += bin/warrenctl
endif

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRC))
UNIT_HELP := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all run test test-slow deps codegen codegen-check unit pytest fuzz fuzz-run fuzz-long clean crash-loop power-cut
.PHONY: cluster-shovel-1m
all: $(PROGRAMS)

deps:
	@sh scripts/install-deps.sh

# Every program, not only the broker: the README goes on with bin/worker
# and bin/new_task in another terminal.
run: deps
	@$(MAKE) --no-print-directory all
	./bin/warren --data-dir ./data $(ARGS)

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(FAULT_LIB)
	@$(MAKE) --no-print-directory codegen-check unit fuzz-run pytest

# the list of files too, so that removing one rebuilds the arrays
WWW_LIST := build/gen/www.list
$(shell mkdir -p build/gen && echo '$(WWW_FILES)' | cmp -s - $(WWW_LIST) || echo '$(WWW_FILES)' > $(WWW_LIST))
$(WWW_SRC): scripts/embed_www.py $(WWW_FILES) $(WWW_LIST)
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/embed_www.py $@ $(WWW_FILES)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) -MMD -MP -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(SANFLAGS) -MMD -MP -c $< -o $@

bin/warren: build/rel/src/main.o $(BROKER_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(HTTP_LIBS) $(CRYPTO_LIBS) $(LDLIBS)

bin/warren-asan: build/san/src/main.o $(BROKER_OBJ_SAN)
	@mkdir -p bin
	$(CC) $(SANFLAGS) -o $@ $^ $(HTTP_LIBS) $(CRYPTO_LIBS) $(LDLIBS)

bin/new_task: build/rel/tools/tutorial/new_task.o $(call obj,rel,$(TUTORIAL_COMMON))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ -lrabbitmq $(LDLIBS)

bin/worker: build/rel/tools/tutorial/worker.o $(call obj,rel,$(TUTORIAL_COMMON))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ -lrabbitmq $(LDLIBS)

bin/warren-perf: $(call obj,rel,$(PERF_SRC)) $(AMQP_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ -lssl -lcrypto $(LDLIBS)

# A plain rabbitmq-c client, to compare warren-perf with (doc/benchmarks.md).
bin/warren-bench-rabbitmq-c: $(call obj,rel,$(RMQC_SRC))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ -lrabbitmq $(LDLIBS)

bin/warren-check-store: $(call obj,rel,$(CHECK_SRC) src/store/segment.c src/store/crc32c.c src/store/dirlock.c) $(AMQP_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# rabbitmqctl's verbs over the HTTP API (Debian's libcurl4-openssl-dev, libjansson-dev);
# its shovel verb speaks AMQP (rabbitmq-c, librabbitmq-dev)
bin/warrenctl: $(call obj,rel,$(CTL_SRC))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ -lcurl -ljansson -lrabbitmq $(LDLIBS)

bin/warren-roundtrip: build/rel/tools/bench/roundtrip.o
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: cmocka, built with the sanitizers, linked through an archive
# of everything but main, so each test pulls in only what it uses.
UNIT_LIB := build/san/libwarren.a
$(UNIT_LIB): $(BROKER_OBJ_SAN)
	rm -f $@ && ar rcs $@ $^

build/tests/%: tests/unit/%.c $(UNIT_HELP) $(UNIT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(SANFLAGS) -Itests/unit -o $@ $< $(UNIT_HELP) $(UNIT_LIB) -lcmocka $(HTTP_LIBS) $(CRYPTO_LIBS) $(LDLIBS)

# An LD_PRELOAD shim that makes the store's writes and syncs fail on
# demand (tests/fault/failio.c), for the fault-injection tests.  Plain
# `make` builds it too, so every test that preloads it finds it built.
FAULT_LIB := $(if $(wildcard tests/fault/failio.c),build/failio.so)
all: $(FAULT_LIB)
build/failio.so: tests/fault/failio.c
	@mkdir -p build
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

pytest: all $(FAULT_LIB)
	$(PYTHON) -m pytest -q -p no:cacheprovider tests

# Too slow for `make test` (their files are not named test_*.py, so the
# suite does not collect them).
test-slow: all
	$(PYTHON) -m pytest -q -p no:cacheprovider -s tests/slow/slow_*.py

codegen:
	$(PYTHON) codegen/amqp_codegen.py $(SPEC) src/amqp

# Fails when the committed codec differs from what the generator makes now.
# Without the spec JSON nothing can be checked: in CI (CI set and not
# false or 0, as CI services and .ci/run set it), where ../shared/spec/ is
# provided, that fails; elsewhere it says SKIPPED and succeeds.
codegen-check:
	@if [ -f "$(SPEC)" ]; then \
	    rm -rf build/codegen && mkdir -p build/codegen && \
	    $(PYTHON) codegen/amqp_codegen.py $(SPEC) build/codegen && \
	    { diff -u src/amqp/spec.h build/codegen/spec.h && diff -u src/amqp/spec.c build/codegen/spec.c || \
	      { echo "codegen-check: FAILED: src/amqp/spec.[ch] differ from what codegen/amqp_codegen.py makes (make codegen)" >&2; \
	        exit 1; }; } && \
	    echo "codegen-check: generated codec is up to date"; \
	elif [ -n "$(CI)" ] && [ "$(CI)" != false ] && [ "$(CI)" != 0 ]; then \
	    echo "codegen-check: FAILED: the AMQP spec $(SPEC) is missing, so the generated codec cannot be checked (CI=$(CI); give its path with SPEC=...)" >&2; \
	    exit 1; \
	else \
	    echo "codegen-check: SKIPPED: $(SPEC) not found, the generated codec was not checked (give SPEC=...; in CI this fails)"; \
	fi

FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

# A target links the codec and what its fuzz_<name>_SRC names (and
# fuzz_<name>_LIBS), e.g. the HTTP API's route matching.
fuzz_fuzz_http_route_SRC := src/http/routes.c src/http/page.c src/util.c
fuzz_fuzz_http_body_SRC := src/http/body.c src/http/json.c
fuzz_fuzz_http_body_LIBS := -ljansson
# the TLS server side through memory BIOs (src/tls.c, OpenSSL)
fuzz_fuzz_tls_SRC := src/tls.c src/log.c
fuzz_fuzz_tls_LIBS := -lssl -lcrypto
fuzz_fuzz_props_SRC := src/http/body.c src/http/json.c
fuzz_fuzz_props_LIBS := -ljansson
fuzz_fuzz_sasl_SRC := src/proto/sasl.c src/error.c

# Targets that need more of the broker (config, the store's recovery, the
# whole HTTP server on an in-process broker) link an archive of everything
# but main and the codec, compiled for libFuzzer's coverage.
FUZZ_LIB := build/fz/libwarren.a
FUZZ_LIB_LIBS := $(HTTP_LIBS) $(CRYPTO_LIBS) $(LDLIBS)
$(FUZZ_LIB): $(call obj,fz,$(filter-out $(AMQP_SRC),$(BROKER_SRC)))
	rm -f $@ && ar rcs $@ $^
build/fz/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(BASE) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -MMD -MP -c $< -o $@
fuzz_fuzz_config_SRC := $(FUZZ_LIB)
fuzz_fuzz_config_LIBS := $(FUZZ_LIB_LIBS)
fuzz_fuzz_store_SRC := $(FUZZ_LIB)
fuzz_fuzz_store_LIBS := $(FUZZ_LIB_LIBS)
fuzz_fuzz_http_request_SRC := $(FUZZ_LIB)
fuzz_fuzz_http_request_LIBS := $(FUZZ_LIB_LIBS)

.SECONDEXPANSION:
build/fuzz/%: tests/fuzz/%.c $(AMQP_SRC) $$(fuzz_$$*_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(fuzz_$*_LIBS)

fuzz: $(FUZZ_BIN)

# A short run of every fuzz target over its seed corpus: a smoke test that
# the decoders survive random input; the long runs are `make fuzz-long`.
FUZZ_SECONDS ?= 10
fuzz-run: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do \
	    n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	    seeds=""; [ -d tests/fuzz/corpus/$$n ] && seeds=tests/fuzz/corpus/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 -artifact_prefix=build/fuzz/ build/fuzz/corpus/$$n $$seeds \
	        > build/fuzz/$$n.log 2>&1 || { tail -n 40 build/fuzz/$$n.log; exit 1; }; \
	    tail -n 1 build/fuzz/$$n.log; \
	done

# The long runs: every target (or those named in FUZZ_TARGETS) for
# FUZZ_SECONDS each (1800 unless given), or until FUZZ_RUNS executions if
# that comes first, FUZZ_JOBS at a time (1 unless given), niced, each from
# its seed corpus and what earlier runs found (build/fuzz/corpus/); the
# executions of each are in build/fuzz/long/<target>.log and summed up at
# the end.
fuzz-long: FUZZ_SECONDS := $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),1800)
FUZZ_JOBS ?= 1
FUZZ_RUNS ?= -1
FUZZ_TARGETS ?= $(notdir $(FUZZ_BIN))
FUZZ_LONG := $(addprefix build/fuzz/,$(FUZZ_TARGETS))
fuzz-long: $(FUZZ_LONG)
	@mkdir -p build/fuzz/long
	@printf '%s\n' $(FUZZ_LONG) | xargs -P $(FUZZ_JOBS) -I{} sh -c 'f={}; n=$$(basename $$f); \
	    mkdir -p build/fuzz/corpus/$$n; seeds=""; [ -d tests/fuzz/corpus/$$n ] && seeds=tests/fuzz/corpus/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    nice -n 10 $$f -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) -print_final_stats=1 -artifact_prefix=build/fuzz/long/$$n- \
	        build/fuzz/corpus/$$n $$seeds > build/fuzz/long/$$n.log 2>&1 || { tail -n 40 build/fuzz/long/$$n.log; exit 255; }'
	@for f in $(FUZZ_LONG); do n=$$(basename $$f); \
	    printf '%-22s %12s executions, %s/s\n' $$n \
	        "$$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/long/$$n.log)" \
	        "$$(sed -n 's/^stat::average_exec_per_sec: *//p' build/fuzz/long/$$n.log)"; \
	done

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)

# The long crash runs (tests/crash/crashloop.py; `make pytest` runs a few
# rounds of each): ROUNDS rounds of kill -9 under confirmed load, and CUTS
# simulated power cuts (unsynced writes thrown away, through build/failio.so).
# SEED=n repeats a run.
ROUNDS ?= 1000
CUTS ?= 200
crash-loop: bin/warren bin/warren-check-store
	$(PYTHON) tests/crash/crashloop.py --checkpoints --rounds $(ROUNDS) $(if $(SEED),--seed $(SEED))

power-cut: bin/warren bin/warren-check-store $(FAULT_LIB)
	$(PYTHON) tests/crash/crashloop.py --power-cut --checkpoints --rounds $(CUTS) $(if $(SEED),--seed $(SEED))

# ---------------------------------------------------------------- install, deb
# `make install` (PREFIX=/usr/local, DESTDIR for staging) and `make deb`
# (a Debian package from a staged tree, scripts/mkdeb.sh): doc/install.md.
# The warren user is made by the package's postinst, not here.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
STATEDIR   ?= $(if $(filter /usr,$(PREFIX)),/var/lib/warren,$(PREFIX)/var/lib/warren)
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALL_SBIN := bin/warren bin/warrenctl bin/warren-check-store
INSTALL_BIN  := bin/new_task bin/worker bin/warren-perf
PKG_SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g'

.PHONY: install deb
install: $(INSTALL_SBIN) $(INSTALL_BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/warren $(DESTDIR)$(UNITDIR)
	install -m 0755 $(INSTALL_SBIN) $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(PKG_SUBST) packaging/warren.service.in > $(DESTDIR)$(UNITDIR)/warren.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/warren.service
	@# an operator's config is never overwritten
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/warren/warren.conf ]; then \
	    $(PKG_SUBST) packaging/warren.conf.in > $(DESTDIR)$(SYSCONFDIR)/warren/warren.conf; \
	    chmod 0644 $(DESTDIR)$(SYSCONFDIR)/warren/warren.conf; fi
	@# without the package's postinst (no DESTDIR: a real install) the directory is made here
	if [ -z "$(DESTDIR)" ]; then install -d -m 0700 $(STATEDIR); fi

deb: $(INSTALL_SBIN) $(INSTALL_BIN)
	sh scripts/mkdeb.sh $(VERSION)
# A 1,000,000-message persistent backlog moved from warren into a 3-node
# RabbitMQ cluster by rabbitmq_shovel and back by `warrenctl shovel`
# (tests/cluster/test_cluster_shovel.py; `make test` moves a few thousand).
# Figures in doc/benchmarks.md and doc/scaling.md.  COUNT=n for another size.
COUNT ?= 1000000
cluster-shovel-1m: bin/warren bin/warrenctl
	nice -n 10 $(PYTHON) tests/cluster/test_cluster_shovel.py --count $(COUNT)
