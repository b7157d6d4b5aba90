# ecommerce_api: PGXS build.
#
#   make              build the module
#   make install      install it into the PostgreSQL found by pg_config
#   make test         install what is missing (apt), build, install, and run
#                     make installcheck as an unprivileged user (see .ci/run)
#   make demo         set up a local cluster in ./demo and serve the API on :8000
#   make demo-stop    stop it

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
DATA = $(wildcard sql/ecommerce_api--*.sql)
PGFILEDESC = "ecommerce_api - e-commerce REST API inside PostgreSQL"

# Every sql/*.sql other than the extension scripts is a pg_regress script; they
# run in name order in one temporary instance with the library preloaded.
REGRESS = $(sort $(filter-out ecommerce_api--%,$(basename $(notdir $(wildcard sql/*.sql)))))
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=$(srcdir)/t/regress.conf
# Isolation specs (specs/*.spec): interleavings of concurrent API calls.
ISOLATION = stock_rules
ISOLATION_OPTS = --temp-instance=tmp_check_iso --temp-config=$(srcdir)/t/regress.conf
TAP_TESTS = 1

# The version of the SQL objects this library serves: the gateway answers 503
# while the database's extension is at another one (ALTER EXTENSION ... UPDATE)
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(srcdir)/ecommerce_api.control)

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-DEAPI_EXTENSION_VERSION='"$(EXTVERSION)"'
SHLIB_LINK = -lmicrohttpd

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): src/ecommerce_api.h
src/gateway.o: ecommerce_api.control

.PHONY: test demo demo-stop
test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh start

demo-stop:
	bash scripts/demo.sh stop
