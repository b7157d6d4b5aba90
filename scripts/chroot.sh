# Shared by scripts/test-matrix.sh and scripts/test-package.sh: cached Debian
# chroots, one per suite, made with debootstrap from the mirror this machine's
# apt already uses.  Sourced; needs root.
#
#   $EAPI_CHROOTS/SUITE       debootstrap --variant=minbase, never changed after
#   $EAPI_CHROOTS/SUITE-dev   a copy of it with the build and test packages
#
# Every mount made here is recorded and undone by chroot_umount_all (call it
# from an EXIT trap), so a failing suite does not leave /proc mounted.

EAPI_CHROOTS=${EAPI_CHROOTS:-/var/cache/ecommerce_api/chroots}

# The Debian suite whose own PostgreSQL is each major version.
suite_of() {
	case $1 in
		15) echo bookworm ;;
		17) echo trixie ;;
		18) echo sid ;;
		*) echo "no Debian suite ships PostgreSQL $1 as its own (15, 17, 18)" >&2; return 1 ;;
	esac
}

# The mirror the host's apt sources name (deb822 or one-line), else Debian's.
debian_mirror() {
	if [ -n "${EAPI_MIRROR:-}" ]; then echo "$EAPI_MIRROR"; return; fi
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/*$|\1|p' | head -n 1)
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n 's|^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*/debian\)/*[[:space:]].*|\2|p' | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

CHROOT_MOUNTS=()

# chroot_mount DIR SUITE: /proc, a tmpfs /dev/shm for POSIX shared memory,
# and the suite's downloaded packages, kept for its next chroot.
chroot_mount() {
	local dir=$1 suite=$2
	mount -t proc proc "$dir/proc"
	CHROOT_MOUNTS+=("$dir/proc")
	mkdir -p "$dir/dev/shm"
	mount -t tmpfs -o mode=1777 shm "$dir/dev/shm"
	CHROOT_MOUNTS+=("$dir/dev/shm")
	mkdir -p "$EAPI_CHROOTS/$suite.debs/partial" "$dir/var/cache/apt/archives"
	mount --bind "$EAPI_CHROOTS/$suite.debs" "$dir/var/cache/apt/archives"
	CHROOT_MOUNTS+=("$dir/var/cache/apt/archives")
}

chroot_umount_all() {
	local i m
	for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${CHROOT_MOUNTS[i]}
		mountpoint -q "$m" 2>/dev/null || continue
		# a server still running in the chroot keeps /proc busy: detach it
		umount "$m" 2>/dev/null || umount -l "$m" || echo "could not unmount $m" >&2
	done
	CHROOT_MOUNTS=()
}

# in_chroot DIR CMD...: run CMD in DIR with a clean environment.
in_chroot() {
	local dir=$1; shift
	chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"
}

# base_chroot SUITE: the cached minbase chroot, made if missing.  Prints its path.
base_chroot() {
	local suite=$1 dir=$EAPI_CHROOTS/$1
	if [ ! -x "$dir/bin/sh" ]; then
		command -v debootstrap >/dev/null || {
			apt-get update -q >/dev/null
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
		}
		mkdir -p "$EAPI_CHROOTS"
		rm -rf "$dir.tmp"
		echo "debootstrap $suite from $(debian_mirror) (log: $dir.log)" >&2
		if ! debootstrap --variant=minbase "$suite" "$dir.tmp" "$(debian_mirror)" >"$dir.log" 2>&1; then
			tail -n 20 "$dir.log" >&2
			return 1
		fi
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# prepare_chroot DIR PACKAGE...: what a Debian install needs to run servers
# (no services started by package scripts, no cluster of Debian's own,
# localhost), then whichever of the packages is not installed yet.
prepare_chroot() {
	local dir=$1; shift
	local missing
	printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	mkdir -p "$dir/etc/postgresql-common"
	echo "create_main_cluster = false" > "$dir/etc/postgresql-common/createcluster.conf"
	[ -s "$dir/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$dir/etc/hosts"
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	missing=$(in_chroot "$dir" dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>&1 |
		awk '$1 != "ii" { print $NF }' | sed 's/\.$//')
	[ -z "$missing" ] && return 0
	echo "installing in $dir: $(echo $missing)" >&2
	in_chroot "$dir" apt-get update -q >/dev/null
	in_chroot "$dir" apt-get install -y -q --no-install-recommends "$@" >"$dir.apt.log" 2>&1 || {
		tail -n 30 "$dir.apt.log" >&2
		return 1
	}
}

# dev_chroot SUITE PACKAGE...: the suite's build chroot, a copy of the base
# with the packages installed, mounted, locked against another run using it,
# in $CHROOT_DIR.  (Not called as $(...): the mounts must be recorded here.)
dev_chroot() {
	local suite=$1; shift
	local base dir=$EAPI_CHROOTS/$suite-dev
	mkdir -p "$EAPI_CHROOTS"
	exec {CHROOT_LOCK}>"$EAPI_CHROOTS/.$suite.lock"
	flock "$CHROOT_LOCK"
	base=$(base_chroot "$suite") || return 1
	if [ ! -x "$dir/bin/sh" ]; then
		rm -rf "$dir.tmp"
		cp -a "$base" "$dir.tmp"
		mv "$dir.tmp" "$dir"
	fi
	chroot_mount "$dir" "$suite"
	prepare_chroot "$dir" "$@" || return 1
	CHROOT_DIR=$dir
}

# chroot_release: unmount what dev_chroot mounted and let another run have it.
chroot_release() {
	chroot_umount_all
	if [ -n "${CHROOT_LOCK:-}" ]; then
		exec {CHROOT_LOCK}>&-
		CHROOT_LOCK=
	fi
}
