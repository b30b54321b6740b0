#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The engine over the virtual PMDs: one td_bench_engine client and one
# server, two processes (one lcore each: -l 0 and -l 1), on one link, for a
# few seconds; both JSON lines must show conns > 0, data_errors 0 and
# leak false (and no failed or bad exchange).
#
#   links.sh BENCH LINK [SECONDS [CONCURRENCY]]
#
# BENCH is td_bench_engine; LINK is one of
#   af_packet  a veth pair between two netns made here (--no-huge)
#   memif      net_memif server and client over a unix socket (--no-huge)
#   vhost      net_vhost (server, started first) <-> net_virtio_user
#              (client), hugepages and --single-file-segments on both
#   tap        two net_tap ports in one netns made here, joined by tc
#              mirred redirects (--no-huge)
#
# Needs root; without it, or without hugepages for vhost, it prints one
# line saying why and exits 77 (meson: SKIP). Network safety
# (../../../shared/NETWORK.md): addresses from 198.18.0.0/15 only, netns
# and sockets made here and removed by the trap, every process bounded by
# timeout(1), and only the PIDs started here are ever killed.

set -u

BENCH=${1:?usage: links.sh BENCH LINK [SECONDS [CONCURRENCY]]}
LINK=${2:?usage: links.sh BENCH LINK [SECONDS [CONCURRENCY]]}
DUR=${3:-3}
CONC=${4:-64}
# Client: DUR + at most 8 s of drain; server: DUR + at most 15 s of grace.
LIMIT=$((DUR + 30))

TAG=$$
NS_A=td-eng-a-$TAG
NS_B=td-eng-b-$TAG
NS_T=td-eng-t-$TAG
IF_A=tdea$TAG
IF_B=tdeb$TAG
TAP_S=tdts$TAG
TAP_C=tdtc$TAG
SOCK=/tmp/td-eng-$LINK-$TAG.sock
OUT=$(mktemp -d /tmp/td-eng-links.XXXXXX)
SRV_IP=198.18.0.2
CLI_IP=198.18.0.1
PIDS=()
HP_FILE=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HP_OLD=""
HP_MOUNTED=0

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "$NS_A" "$NS_B" "$NS_T"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -f "$SOCK"
	rm -rf "$OUT"
	# DPDK's runtime files of the two prefixes used here.
	rm -rf /var/run/dpdk/tdl-*-"$TAG" 2>/dev/null
	rm -f /dev/hugepages/tdl-*-"$TAG"map_* 2>/dev/null
	if [ "$HP_MOUNTED" = 1 ]; then
		umount /dev/hugepages 2>/dev/null
	fi
	if [ -n "$HP_OLD" ]; then
		echo "$HP_OLD" >"$HP_FILE" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() {
	echo "links.sh: $LINK: SKIP: $*"
	exit 77
}

fail() {
	echo "links.sh: $LINK: FAIL: $*"
	exit 1
}

[ "${TD_SKIP_LINKS:-0}" = 0 ] || skip "TD_SKIP_LINKS is set"
[ "$(id -u)" = 0 ] || skip "needs root (netns, veth, tap, hugepages)"
[ -x "$BENCH" ] || fail "no executable $BENCH"

EAL_COMMON=(--no-pci --log-level=3 --no-telemetry)
NOHUGE=(--no-huge -m 512)
ARGS_COMMON=(--duration "$DUR" --concurrency "$CONC" --request 64 --response 64 --json)

# hugepages: reserve 2 MB pages for two processes of 512 MB each, and mount
# hugetlbfs when nothing is mounted; both are undone by the trap.
hugepages() {
	[ -w "$HP_FILE" ] || skip "no 2 MB hugepages on this kernel"
	local have
	have=$(cat "$HP_FILE")
	if [ "$have" -lt 600 ]; then
		HP_OLD=$have
		echo 1024 >"$HP_FILE" 2>/dev/null
		[ "$(cat "$HP_FILE")" -ge 600 ] ||
			skip "could not reserve 600 hugepages of 2 MB (got $(cat "$HP_FILE"))"
	fi
	if ! grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null ||
			skip "could not mount hugetlbfs on /dev/hugepages"
		HP_MOUNTED=1
	fi
}

# wait_for TEST... : up to 5 s for a condition (a socket, an interface).
wait_for() {
	for _ in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# start_server NETNS-PREFIX... -- EAL ARGS: the server in the background.
start_server() {
	timeout -k 2 "$LIMIT" "$@" -- --role server --local-ip "$SRV_IP" --remote-ip "$CLI_IP" \
		"${ARGS_COMMON[@]}" >"$OUT/server" 2>"$OUT/server.err" &
	PIDS+=($!)
	SRV_PID=$!
}

start_client() {
	timeout -k 2 "$LIMIT" "$@" -- --role client --local-ip "$CLI_IP" --remote-ip "$SRV_IP" \
		--clients 16 "${ARGS_COMMON[@]}" >"$OUT/client" 2>"$OUT/client.err" &
	PIDS+=($!)
	CLI_PID=$!
}

field() { # field FILE NAME: a number or true/false from the JSON line
	sed -n "s/.*\"$2\":\([0-9a-z.]*\).*/\1/p" "$1" | head -1
}

check() {
	local rc_s rc_c bad=0
	wait "$CLI_PID"
	rc_c=$?
	wait "$SRV_PID"
	rc_s=$?
	PIDS=()
	for side in server client; do
		local f=$OUT/$side line
		line=$(grep '^{' "$f" | head -1)
		echo "$LINK $side: ${line:-<no JSON line>}"
		grep 'net drop' "$f.err" | sed "s/^/  $side: /"
		if [ -z "$line" ]; then
			sed 's/^/  stderr: /' "$f.err" | tail -20
			bad=1
			continue
		fi
		[ "$(field "$f" data_errors)" = 0 ] || { echo "  $side: data_errors != 0"; bad=1; }
		[ "$(field "$f" leak)" = false ] || { echo "  $side: leak"; bad=1; }
		[ "$(field "$f" conns)" -gt 0 ] 2>/dev/null || { echo "  $side: conns = 0"; bad=1; }
		[ "$(field "$f" failed)" = 0 ] || { echo "  $side: failed != 0"; bad=1; }
		[ "$(field "$f" bad)" = 0 ] || { echo "  $side: bad != 0"; bad=1; }
	done
	echo "$LINK: exit status server $rc_s, client $rc_c"
	if [ "$bad" != 0 ] || [ "$rc_s" != 0 ] || [ "$rc_c" != 0 ]; then
		for side in server client; do
			sed "s/^/  $side stderr: /" "$OUT/$side.err" | tail -20
		done
		fail "see above"
	fi
	echo "links.sh: $LINK: PASS"
}

case "$LINK" in
af_packet)
	ip netns add "$NS_A" || skip "cannot create a netns here"
	ip netns add "$NS_B" || fail "ip netns add $NS_B"
	ip link add "$IF_A" type veth peer name "$IF_B" || skip "cannot create a veth pair here"
	ip link set "$IF_A" netns "$NS_A" || fail "$IF_A to $NS_A"
	ip link set "$IF_B" netns "$NS_B" || fail "$IF_B to $NS_B"
	for p in "$NS_A:$IF_A" "$NS_B:$IF_B"; do
		ns=${p%%:*} dev=${p#*:}
		# No address, no IPv6: the kernel of the netns must not answer on it.
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$dev" up
		ip netns exec "$ns" ethtool -K "$dev" tx off rx off gro off gso off tso off \
			>/dev/null 2>&1
	done
	start_server ip netns exec "$NS_B" "$BENCH" -l 1 "${NOHUGE[@]}" "${EAL_COMMON[@]}" \
		--file-prefix=tdl-s-"$TAG" --vdev=net_af_packet0,iface="$IF_B",qpairs=1
	sleep 1
	start_client ip netns exec "$NS_A" "$BENCH" -l 0 "${NOHUGE[@]}" "${EAL_COMMON[@]}" \
		--file-prefix=tdl-c-"$TAG" --vdev=net_af_packet0,iface="$IF_A",qpairs=1
	check
	;;
memif)
	start_server "$BENCH" -l 1 "${NOHUGE[@]}" "${EAL_COMMON[@]}" --file-prefix=tdl-s-"$TAG" \
		--vdev=net_memif0,role=server,socket="$SOCK",socket-abstract=no
	wait_for test -S "$SOCK" || fail "the memif server made no socket $SOCK"
	start_client "$BENCH" -l 0 "${NOHUGE[@]}" "${EAL_COMMON[@]}" --file-prefix=tdl-c-"$TAG" \
		--vdev=net_memif0,role=client,socket="$SOCK",socket-abstract=no
	check
	;;
vhost)
	hugepages
	# The vhost side first: it creates the socket.
	start_server "$BENCH" -l 1 -m 512 --single-file-segments "${EAL_COMMON[@]}" \
		--file-prefix=tdl-s-"$TAG" --vdev=net_vhost0,iface="$SOCK",queues=1
	wait_for test -S "$SOCK" || fail "net_vhost made no socket $SOCK"
	start_client "$BENCH" -l 0 -m 512 --single-file-segments "${EAL_COMMON[@]}" \
		--file-prefix=tdl-c-"$TAG" --vdev=net_virtio_user0,path="$SOCK",queues=1
	check
	;;
tap)
	# Both taps live in one netns, joined by tc mirred redirects in both
	# directions: a wire. (A bridge does not do: net_tap gives the kernel
	# interface the port's own MAC, so the bridge takes frames to that MAC
	# as its own and never forwards them.) Nothing there has an address or
	# IPv6, so the kernel adds no frames of its own.
	ip netns add "$NS_T" || skip "cannot create a netns here"
	ip netns exec "$NS_T" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$NS_T" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$NS_T" link set lo up
	start_server ip netns exec "$NS_T" "$BENCH" -l 1 "${NOHUGE[@]}" "${EAL_COMMON[@]}" \
		--file-prefix=tdl-s-"$TAG" --vdev=net_tap0,iface="$TAP_S"
	wait_for ip -n "$NS_T" link show "$TAP_S" >/dev/null 2>&1 || fail "no $TAP_S"
	start_client ip netns exec "$NS_T" "$BENCH" -l 0 "${NOHUGE[@]}" "${EAL_COMMON[@]}" \
		--file-prefix=tdl-c-"$TAG" --vdev=net_tap0,iface="$TAP_C"
	wait_for ip -n "$NS_T" link show "$TAP_C" >/dev/null 2>&1 || fail "no $TAP_C"
	for p in "$TAP_S:$TAP_C" "$TAP_C:$TAP_S"; do
		from=${p%%:*} to=${p#*:}
		tc -n "$NS_T" qdisc add dev "$from" ingress 2>/dev/null
		tc -n "$NS_T" filter add dev "$from" parent ffff: protocol all u32 match u32 0 0 \
			action mirred egress redirect dev "$to" || fail "tc redirect $from -> $to"
	done
	check
	;;
*)
	echo "links.sh: unknown link $LINK: expected af_packet, memif, vhost or tap"
	exit 2
	;;
esac
