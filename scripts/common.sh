# Shared by scripts/*.sh and bench/run.sh: find PostgreSQL, install what is missing.

# PostgreSQL: $PG_CONFIG if set, else the installed one (the newest if several),
# else 15, Debian 12's own, which ensure_packages installs.
if [ -z "${PG_CONFIG:-}" ]; then
	PG_CONFIG=$(ls -d /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sort -t/ -k5 -n | tail -n 1)
	PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
fi
# its major version: from the Debian path (.../postgresql/17/bin/pg_config),
# else from pg_config itself (a relocated or source-built copy)
PG_MAJOR=$(echo "$PG_CONFIG" | sed -n 's|.*/postgresql/\([0-9][0-9]*\)/bin/pg_config$|\1|p')
if [ -z "$PG_MAJOR" ] && [ -x "$PG_CONFIG" ]; then
	PG_MAJOR=$("$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9][0-9]*\).*/\1/p')
fi
PG_MAJOR=${PG_MAJOR:-15}

# Debian packages the build, the tests and the demo need.
# clang and its runtime build the fuzz targets (fuzz/, libFuzzer + sanitizers);
# pg_auto_failover runs test/t/015_failover.pl.
EAPI_PACKAGES="build-essential postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libmicrohttpd-dev libipc-run-perl curl clang libclang-rt-dev iproute2 nginx-light postgresql-$PG_MAJOR-auto-failover"

# ensure_packages [extra package...]: apt-get install whatever is not installed yet.
ensure_packages() {
	local missing=() p
	for p in $EAPI_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	# no cluster of Debian's own on 5432: ours live in folders of the checkout
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		mkdir -p /etc/postgresql-common
		echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
	fi
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
	[ -x "$PG_CONFIG" ] || PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
}

# as_postgres CMD...: run a command as the unprivileged postgres user when we are root.
as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
