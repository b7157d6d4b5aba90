# Shared by scripts/*.sh and bench/run.sh: find PostgreSQL, install what is missing.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

# Debian packages the build, the tests and the demo need.
# clang and its runtime build the fuzz targets (fuzz/, libFuzzer + sanitizers);
# pg_auto_failover runs test/t/015_failover.pl.
EAPI_PACKAGES="build-essential postgresql-15 postgresql-server-dev-15 libmicrohttpd-dev libipc-run-perl curl clang libclang-rt-14-dev iproute2 nginx-light postgresql-15-auto-failover"

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
	PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
}

# as_postgres CMD...: run a command as the unprivileged postgres user when we are root.
as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
