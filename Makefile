# ecommerce_api: PGXS build.
#
#   make              build the module and the install script
#   make install      install them into the PostgreSQL found by pg_config
#   make test         install what is missing (apt), build, install, and run
#                     make installcheck as an unprivileged user (see .ci/run)
#   make test-browser the docs pages in headless Chromium (chromium, npm)
#   make fuzz         fuzz for FUZZ_SECONDS per target (fuzz/, test/t/022)
#   make mutation-check  check that the suites catch each kept mutation
#   make demo         set up a local cluster in ./demo and serve the API on :8000
#                     (make demo PORT=8001: another port)
#   make demo-stop    stop it
#   make test-matrix  the whole suite on PostgreSQL 15, 17 and 18, each in a
#                     Debian chroot (scripts/test-matrix.sh; root)
#   make test-package build the Debian package (debian/, pg_buildext), install
#                     it in a clean chroot and serve (scripts/test-package.sh)
#
# Layout: src/ the C module, sql/ the SQL objects (one concern per piece),
# test/ the suites (pg_regress, isolation, TAP).  docs/releasing.md says how
# a version is cut.

MODULE_big = ecommerce_api
OBJS = \
	src/worker.o \
	src/http.o \
	src/answer.o \
	src/body.o \
	src/router.o \
	src/gateway.o \
	src/settings.o \
	src/shmem.o \
	src/metrics.o \
	src/ratelimit.o \
	src/connections.o \
	src/generations.o \
	src/cache.o \
	src/wire.o \
	src/forwarded.o \
	src/idempotency.o \
	src/consistency.o

EXTENSION = ecommerce_api
PGFILEDESC = "ecommerce_api - e-commerce REST API inside PostgreSQL"

# The version of the SQL objects this library serves: the gateway answers 503
# while the database's extension is at another one (ALTER EXTENSION ... UPDATE)
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(srcdir)/ecommerce_api.control)

# The install script of the current version is assembled from these pieces,
# in this order (each may use what the ones before it define).  Each object's
# live definition is in exactly one piece.
SQL_PIECES = \
	sql/conventions.sql \
	sql/schema.sql \
	sql/pgcrypto.sql \
	sql/validation.sql \
	sql/refusals.sql \
	sql/json.sql \
	sql/categories.sql \
	sql/products.sql \
	sql/clients.sql \
	sql/addresses.sql \
	sql/bills.sql \
	sql/orders.sql \
	sql/checkout.sql \
	sql/order_details.sql \
	sql/reviews.sql \
	sql/demo_data.sql \
	sql/openapi.sql \
	sql/docs_page.sql \
	sql/auth.sql \
	sql/change_tracking.sql \
	sql/idempotency.sql

# The upgrade script of the version in progress is assembled from a
# template that names the pieces' objects it restates (see
# scripts/assemble-upgrade.pl), so each object is written once.
UPGRADE_TEMPLATES = $(notdir $(wildcard $(srcdir)/sql/upgrades/*.sql.in))
UPGRADES_built = $(UPGRADE_TEMPLATES:.sql.in=.sql)

DATA_built = ecommerce_api--$(EXTVERSION).sql $(UPGRADES_built)
# The scripts of released versions, frozen as shipped (upgrades start from
# them): those of sql/released/ and the upgrade scripts in sql/upgrades/.
DATA = $(patsubst $(srcdir)/%,%,$(sort $(wildcard $(srcdir)/sql/released/*.sql $(srcdir)/sql/upgrades/*.sql)))

# Every test/sql/*.sql is a pg_regress script; they run in name order in one
# temporary instance with the library preloaded.  Their results go to test/
# of the build tree: pg_regress takes outputdir/sql/<test>.sql over the
# inputdir's, and ./sql/ holds the pieces, some of the same names.
REGRESS = $(sort $(basename $(notdir $(wildcard $(srcdir)/test/sql/*.sql))))
REGRESS_OPTS = --inputdir=$(srcdir)/test --outputdir=test \
	--temp-instance=tmp_check_regress --temp-config=$(srcdir)/test/regress.conf
# Isolation specs (test/specs/*.spec): interleavings of concurrent API calls.
ISOLATION = $(sort $(basename $(notdir $(wildcard $(srcdir)/test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=$(srcdir)/test --temp-instance=tmp_check_iso --temp-config=$(srcdir)/test/regress.conf
TAP_TESTS = 1
EXTRA_CLEAN = test/results test/regression.diffs test/regression.out tmp_check_regress tmp_check_iso

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-DEAPI_EXTENSION_VERSION='"$(EXTVERSION)"'
SHLIB_LINK = -lmicrohttpd

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# TAP (test/t): prove runs in $(srcdir) (prove_installcheck in PGXS's
# Makefile.global), so PROVE_TESTS is relative to it; PROVE_FLAGS is set
# (emptied) by Makefile.global, hence after the include.
PROVE_TESTS ?= test/t/*.pl
PROVE_FLAGS += -I $(abspath $(srcdir))/test/t

# An out-of-tree build (make -f ../Makefile VPATH=.., as pg_buildext runs it)
# writes src/*.o into a build directory that has no src/: make it first.  Not
# a rule with the folder as target, which VPATH would find in the source tree.
ifneq ($(strip $(VPATH)),)
$(shell mkdir -p $(sort $(dir $(OBJS))))
endif

$(OBJS): src/ecommerce_api.h src/http.h src/cache.h src/wire.h src/forwarded.h src/compat.h
src/gateway.o: ecommerce_api.control

# The install script: generated, git-ignored; edit the pieces.
ecommerce_api--$(EXTVERSION).sql: $(addprefix $(srcdir)/,$(SQL_PIECES)) $(srcdir)/ecommerce_api.control $(firstword $(MAKEFILE_LIST))
	{ printf '%s\n' '\echo Use "CREATE EXTENSION ecommerce_api" to load this file. \quit' \
	    '-- ecommerce_api $(EXTVERSION): generated by make from sql/*.sql, do not edit.' \
	    '-- Edit the pieces (SQL_PIECES in the Makefile); docs/releasing.md says how.'; \
	  for f in $(addprefix $(srcdir)/,$(SQL_PIECES)); do printf '\n\n'; cat $$f; done; } > $@.tmp
	mv $@.tmp $@

$(UPGRADES_built): %.sql: $(srcdir)/sql/upgrades/%.sql.in $(addprefix $(srcdir)/,$(SQL_PIECES)) $(srcdir)/scripts/assemble-upgrade.pl
	perl $(srcdir)/scripts/assemble-upgrade.pl $(srcdir) $< > $@.tmp
	mv $@.tmp $@

.PHONY: test test-browser test-matrix test-package mutation-check demo demo-stop fuzz
test:
	bash scripts/test.sh

# GET /docs and /docs/static in headless Chromium (test/t/024_docs_browser.pl);
# installs chromium and test/browser's npm packages first
test-browser:
	bash scripts/test-browser.sh

# Fuzzing, long: every coverage-guided target of fuzz/ for FUZZ_SECONDS each,
# then the end-to-end mutation fuzzer (test/t/022_http_fuzz.pl) for as long,
# up to 300000 requests.  make test runs both briefly.
FUZZ_SECONDS ?= 600
fuzz:
	$(MAKE) -C fuzz PG_CONFIG=$(PG_CONFIG) run FUZZ_SECONDS=$(FUZZ_SECONDS)
	EAPI_FUZZ_SECONDS=$(FUZZ_SECONDS) EAPI_FUZZ_REQUESTS=300000 \
		SUITES=tap PROVE_TESTS=test/t/022_http_fuzz.pl bash scripts/test.sh

# Apply each test/mutations/*.patch to a scratch copy and check that the
# suites it names fail (docs/testing.md)
mutation-check:
	bash scripts/mutation-check.sh

test-matrix:
	bash scripts/test-matrix.sh $(MATRIX)

test-package:
	bash scripts/test-package.sh $(PACKAGE_VERSIONS)

# make demo PORT=8001
PORT ?= 8000
demo:
	PORT='$(PORT)' bash scripts/demo.sh start

demo-stop:
	bash scripts/demo.sh stop
