#!/usr/bin/env bash
# private-pg.sh DIR: a private, relocated copy of the PostgreSQL that
# $PG_CONFIG (default: the system's 15) belongs to, in DIR, so that
# "make install" of a scratch build (make mutation-check) never touches the
# installed one.  PostgreSQL finds its files relative to its binaries, so the
# copy works where it lies.  Made once; prints the PG_CONFIG to use.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

dir=${1:?usage: private-pg.sh DIR}
bindir=$("$PG_CONFIG" --bindir)		# e.g. /usr/lib/postgresql/15/bin
pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
includedir=$("$PG_CONFIG" --includedir)	# /usr/include/postgresql
if [ ! -x "$dir$bindir/pg_config" ]; then
	mkdir -p "$dir$(dirname "$(dirname "$bindir")")" "$dir$(dirname "$sharedir")" "$dir$(dirname "$includedir")"
	cp -a "$(dirname "$bindir")" "$dir$(dirname "$(dirname "$bindir")")/"
	[ -d "$dir$pkglibdir" ] || cp -a "$pkglibdir" "$dir$(dirname "$pkglibdir")/"
	cp -a "$sharedir" "$dir$(dirname "$sharedir")/"
	cp -a "$includedir" "$dir$(dirname "$includedir")/"
fi
echo "$dir$bindir/pg_config"
