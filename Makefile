# ecommerce_api: PGXS build.
#
#   make              build the module
#   make install      install it into the PostgreSQL found by pg_config
#   make test         install what is missing (apt), build, install, and run
#                     make installcheck as an unprivileged user (see .ci/run)
#   make demo         set up a local cluster in ./demo and serve the API on :8000
#   make demo-stop    stop it
#
# Layout: src/ the C module, sql/ the SQL objects, test/ the suites
# (pg_regress, isolation, TAP).

MODULE_big = ecommerce_api
OBJS = \
	src/worker.o \
	src/http.o \
	src/router.o \
	src/gateway.o \
	src/settings.o \
	src/shmem.o \
	src/metrics.o \
	src/ratelimit.o \
	src/connections.o

EXTENSION = ecommerce_api
PGFILEDESC = "ecommerce_api - e-commerce REST API inside PostgreSQL"

# The version of the SQL objects this library serves: the gateway answers 503
# while the database's extension is at another one (ALTER EXTENSION ... UPDATE)
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(srcdir)/ecommerce_api.control)

DATA = $(wildcard sql/ecommerce_api--*.sql)

# Every test/sql/*.sql is a pg_regress script; they run in name order in one
# temporary instance with the library preloaded.  Their results go to test/
# of the build tree: pg_regress takes outputdir/sql/<test>.sql over the
# inputdir's, and ./sql/ holds the extension's SQL.
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

$(OBJS): src/ecommerce_api.h
src/gateway.o: ecommerce_api.control

.PHONY: test demo demo-stop
test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh start

demo-stop:
	bash scripts/demo.sh stop
