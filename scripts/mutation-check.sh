#!/usr/bin/env bash
# make mutation-check: do the suites catch the bugs they are meant to catch?
#
# Each test/mutations/NN-name.patch is one deliberate bug (a past bug fixed,
# or a rule broken on purpose).  Its header names it and the suites that
# cover it:
#
#   Mutation: the CORS allow-list echoes any origin
#   Suites: tap:test/t/040_http_edges.pl regress:auth isolation
#
# ("regress" alone: every pg_regress script.)
#
# One at a time, in a scratch copy of the tree, a mutation is applied, the
# copy is built (warnings are errors, as in make test), installed into a
# private relocated copy of PostgreSQL (scripts/private-pg.sh: the installed
# one is never touched) and the named suites run.  A mutation is caught when
# they fail; it survives when they pass.  Prints a table, and fails if any
# mutation survived, did not apply or did not build.
#
#   MUTATIONS="03 07" make mutation-check    only these (by number or name)
#   MUTATION_PG=/path                        where the private PostgreSQL goes
#   MUTATION_TIMEOUT=900                     seconds for one mutation's suites
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ensure_packages patch
top=$PWD
pgc=$(bash scripts/private-pg.sh "${MUTATION_PG:-/tmp/ecommerce_api-mutation-pg}")
timeout_s=${MUTATION_TIMEOUT:-900}
work=$(mktemp -d /tmp/ecommerce_api-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT

header() { sed -n "s/^$2: *//p" "$1" | head -n 1; }

# The unmutated tree, built once: each mutation starts from a copy of it
# (timestamps kept), so make rebuilds only what the mutation touched.
base=$work/base
mkdir -p "$base"
tar --exclude=./.git --exclude=./demo --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
    --exclude=./tmp_check --exclude=./tmp_check_regress --exclude=./tmp_check_iso \
    --exclude=./output_iso --exclude=./test/results --exclude='./mutation-*.log' -cf - . | tar -C "$base" -xf -
make -C "$base" -s PG_CONFIG="$pgc" COPT=-Werror >/dev/null

rows=()
bad=0
start_all=$SECONDS
for patch in test/mutations/*.patch; do
	name=$(basename "$patch" .patch)
	if [ -n "${MUTATIONS:-}" ]; then
		wanted=0
		for m in $MUTATIONS; do [[ $name == "$m"* ]] && wanted=1; done
		[ $wanted -eq 1 ] || continue
	fi
	what=$(header "$patch" Mutation)
	suites=$(header "$patch" Suites)
	regress= prove= kinds=
	for s in $suites; do
		case $s in
			regress:*) regress+=" ${s#regress:}"; [[ $kinds == *regress* ]] || kinds+=" regress" ;;
			tap:*) prove+=" ${s#tap:}"; [[ $kinds == *tap* ]] || kinds+=" tap" ;;
			regress) [[ $kinds == *regress* ]] || kinds+=" regress" ;;
			isolation) kinds+=" isolation" ;;
			*) echo "$patch: unknown suite $s" >&2; exit 2 ;;
		esac
	done
	tests=$(echo $suites | sed 's#tap:test/t/##g; s#regress:#sql/#g')

	tree=$work/$name
	cp -a "$base" "$tree"
	log=$work/$name.log
	t0=$SECONDS
	echo "--- $name: $what ($tests)" >&2
	if ! patch -d "$tree" -p1 --batch --forward -s < "$patch" > "$log" 2>&1; then
		verdict="DOES NOT APPLY"; bad=1
	elif ! make -C "$tree" -s PG_CONFIG="$pgc" COPT=-Werror >> "$log" 2>&1; then
		verdict="DOES NOT BUILD"; bad=1
	else
		status=0
		(cd "$tree" && SUITES="$kinds" REGRESS_TESTS="${regress# }" PROVE_TESTS="${prove# }" \
			PG_CONFIG="$pgc" timeout "$timeout_s" bash scripts/test.sh) >> "$log" 2>&1 || status=$?
		if [ $status -eq 0 ]; then
			verdict="SURVIVED"; bad=1
		elif [ $status -eq 124 ]; then
			verdict="caught: timed out after ${timeout_s}s"
		else
			# the first failing check: a pg_regress/isolation test, or a TAP assertion
			caught=$(grep -m1 -oE "^(test| ) *[a-z_0-9]+ +\.\.\. FAILED|^not ok [0-9]+ +- +[a-z_0-9]+" "$log" \
				| sed -E 's/^(test|not ok [0-9]+ +-)? *([a-z_0-9]+).*/sql\/\2/' || true)
			tapfile=$(grep -m1 -oE "^test/t/[^ ]+ \(Wstat" "$log" | sed 's#test/t/##; s# (Wstat##' || true)
			assertion=$(grep -m1 -oE "Failed test '.*'|Failed test at .*" "$log" | sed "s/^Failed test //; s/^'//; s/'$//" || true)
			if [ -n "$tapfile" ]; then
				caught="$tapfile: ${assertion:0:70}"
			fi
			verdict="caught by ${caught:-a failing suite (see the log)}"
		fi
	fi
	[[ $verdict == caught* ]] || cp "$log" "$top/mutation-$name.log"
	rows+=("$(printf '%-36s | %-18s | %s (%ds)' "$name" "$tests" "$verdict" $((SECONDS - t0)))")
	echo "    ${rows[-1]}" >&2
	rm -rf "$tree"
done

echo
printf '%-36s | %-18s | %s\n' "mutation" "tests run" "caught by"
printf '%s\n' "$(printf -- '-%.0s' {1..120})"
printf '%s\n' "${rows[@]}"
echo "($((SECONDS - start_all)) s in all)"
if [ $bad -ne 0 ]; then
	echo "FAILED: a mutation survived, did not apply or did not build (logs: mutation-*.log)"
	exit 1
fi
echo "every mutation was caught"
