/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/engine end to end: two workers on two net_ring ports joined by
 * rte_rings in one process, polled alternately from one thread.
 *
 * Criterion runs each test in a worker process of its own, and the EAL can
 * start once per process, so every test starts the EAL in .init with a file
 * prefix of its own (tdeng<pid>) and stops it in .fini.
 */

/* DPDK headers use POSIX types (ssize_t, cpu_set_t). */
#define _GNU_SOURCE

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "pair.h"

#define SETTLE_US 5000000 /* bound on any exchange in these tests */

static char runtime_dir[256];
static struct pair P;

static void
eal_up(void)
{
	char prefix[64];
	/* --no-shconf and --no-telemetry leave the runtime directory empty,
	 * so that eal_down() can remove it. */
	char *argv[] = {"test_engine",   "--no-huge",   "--no-pci",       "-m", "1024", prefix,
			"--log-level=3", "--no-shconf", "--no-telemetry", NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=tdeng%d", (int)getpid());
	cr_assert_geq(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0,
		      "rte_eal_init");
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
}

static void
eal_down(void)
{
	rte_eal_cleanup();
	rmdir(runtime_dir);
}

static void
pair_up(const struct pair_opts *o)
{
	char err[160] = "";

	cr_assert_eq(pair_create(&P, "te", o, err, sizeof(err)), 0, "pair_create: %s", err);
}

/* Destroy the pair and assert that nothing leaked: every mbuf back in both
 * pools, no connection, TIME-WAIT entry, held or staged frame. */
static void
pair_down_no_leak(void)
{
	struct td_engine_accounting a[2];

	cr_assert_eq(pair_destroy(&P, a), 0,
		     "leak: client mbufs %u conns %u tw %u held %u staged %u; "
		     "server mbufs %u conns %u tw %u held %u staged %u",
		     a[0].mbufs_in_use, a[0].conns_used, a[0].tw_used, a[0].held, a[0].staged,
		     a[1].mbufs_in_use, a[1].conns_used, a[1].tw_used, a[1].held, a[1].staged);
}

static const struct td_tcp_stats *
tcp_stats(int i)
{
	return td_tcp_stack_stats(td_engine_stack(P.side[i].w));
}

/* Run @p n exchanges one after the other (ports 1024 + i) and check each. */
static void
run_exchanges(uint8_t family, unsigned n)
{
	struct pair_opts o;

	pair_opts_default(&o);
	o.family = family;
	pair_up(&o);
	for (unsigned i = 0; i < n; i++) {
		struct td_tuple ct, stt;
		uint16_t port = (uint16_t)(1024 + i);

		pair_tuple(&P, 0, port, &ct, &stt);
		cr_assert_eq(pair_connect(&P, 0, port), 0);
		cr_assert(pair_settle(&P, false, SETTLE_US), "connection %u did not finish", i);
		cr_expect_eq(td_tcp_lookup_state(td_engine_stack(P.side[0].w), &ct),
			     TD_TCP_TIME_WAIT, "client of connection %u not in TIME-WAIT", i);
		cr_expect_eq(td_tcp_lookup_state(td_engine_stack(P.side[1].w), &stt), TD_TCP_CLOSED,
			     "server of connection %u not CLOSED", i);
	}
	cr_expect_eq(P.side[1].done, n);
	cr_expect_eq(P.side[0].failed + P.side[1].failed, 0);
	cr_expect_eq(P.side[0].bad + P.side[1].bad, 0);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(tcp_stats(i)->data_errors, 0);
		cr_expect_gt(tcp_stats(i)->data_verified, 0);
		cr_expect_eq(td_engine_stats(P.side[i].w)->tx_full, 0);
		cr_expect_eq(td_engine_stats(P.side[i].w)->mbuf_alloc_fail, 0);
		cr_expect_eq(td_net_stats_dropped(td_engine_net_stats(P.side[i].w)), 0);
	}
	cr_expect_eq(tcp_stats(0)->state_enter[TD_TCP_TIME_WAIT], n);
	cr_expect_eq(tcp_stats(1)->state_enter[TD_TCP_LAST_ACK], n);

	/* Neighbour resolution: the client asked once, the server answered
	 * and learned the client from the request, without asking itself. */
	const struct td_engine_stats *cs = td_engine_stats(P.side[0].w);
	const struct td_engine_stats *ss = td_engine_stats(P.side[1].w);
	const struct td_engine_neigh *nb = td_engine_neigh_find(P.side[0].w, family, P.srv_addr);

	cr_expect_eq(cs->neigh_requests, 1);
	cr_expect_eq(cs->neigh_resolved, 1);
	cr_expect_geq(cs->neigh_held, 1);
	cr_expect_eq(cs->neigh_hold_drops, 0);
	cr_expect_eq(ss->neigh_learned, 1);
	cr_expect_eq(ss->neigh_requests, 0);
	if (family == 4) {
		cr_expect_eq(ss->arp_replies, 1);
		cr_expect_eq(td_engine_net_stats(P.side[0].w)->rx[TD_NET_KIND_ARP], 1);
	} else {
		cr_expect_eq(ss->na_sent, 1);
		cr_expect_eq(td_engine_net_stats(P.side[0].w)->rx[TD_NET_KIND_NA], 1);
	}
	cr_assert_not_null(nb);
	cr_expect_eq(nb->state, TD_ENGINE_NEIGH_REACHABLE);
	cr_expect_eq(nb->mac[5], 0x02);

	/* TIME-WAIT lasts 2 MSL (200 ms here): wait it out, then every pool
	 * must be full again. */
	cr_assert(pair_settle(&P, true, SETTLE_US), "TIME-WAIT did not expire");
	cr_expect_eq(tcp_stats(0)->ends[TD_TCP_END_TW_EXPIRED], n);
	pair_down_no_leak();
}

TestSuite(engine, .init = eal_up, .fini = eal_down, .timeout = 60);

Test(engine, one_connection_ipv4)
{
	run_exchanges(4, 1);
}

Test(engine, one_connection_ipv6_nd)
{
	run_exchanges(6, 1);
}

Test(engine, hundred_connections_in_a_row)
{
	run_exchanges(4, 100);
}

/* Many at once: 500 connections opened together from 4 client addresses,
 * so bursts are full and templates are shared. */
Test(engine, concurrent_connections)
{
	struct pair_opts o;

	pair_opts_default(&o);
	o.clients = 4;
	pair_up(&o);
	for (uint32_t i = 0; i < 500; i++)
		cr_assert_eq(pair_connect(&P, i % 4, (uint16_t)(2000 + i)), 0);
	cr_assert(pair_settle(&P, false, SETTLE_US));
	cr_expect_eq(P.side[1].done, 500);
	cr_expect_eq(P.side[0].failed + P.side[1].failed + P.side[0].bad + P.side[1].bad, 0);
	cr_expect_eq(tcp_stats(0)->data_errors + tcp_stats(1)->data_errors, 0);
	/* The client asked once, from its first address: the server learned
	 * that one from the request and resolved the three others itself. */
	const struct td_engine_stats *ss = td_engine_stats(P.side[1].w);

	cr_expect_eq(ss->neigh_learned, 1);
	cr_expect_eq(ss->neigh_resolved, 3);
	cr_expect_eq(ss->neigh_hold_drops + ss->neigh_table_full, 0);
	cr_assert(pair_settle(&P, true, SETTLE_US));
	pair_down_no_leak();
}

/* Inject frames on the client's port with rte_eth_tx_burst(): the server
 * parses and drops them under their reasons, without a crash or a leak. */
static void
inject(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(P.mp[0]);

	cr_assert_not_null(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	cr_assert_eq(rte_eth_tx_burst(P.ports[0], 0, &m, 1), 1);
}

Test(engine, malformed_frames_dropped_and_counted)
{
	struct pair_opts o;
	uint8_t f[64];

	pair_opts_default(&o);
	pair_up(&o);
	/* Ethernet to the server, IPv4 with total length 40, but only 30
	 * bytes of IP: truncated inside the datagram. */
	memset(f, 0, sizeof(f));
	memcpy(f, (uint8_t[]){0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00}, 14);
	memcpy(f + 14, (uint8_t[]){0x45, 0, 0,   40, 0, 0, 0x40, 0,  64, 6,
				   0,    0, 198, 18, 1, 1, 198,  18, 0,  2},
	       20);
	inject(f, 14 + 30);
	inject(f, 10); /* inside the Ethernet header */
	inject(f, 0);  /* empty */
	for (int i = 0; i < 4; i++)
		pair_poll(&P);

	const struct td_net_stats *ns = td_engine_net_stats(P.side[1].w);

	cr_expect_eq(ns->drops[TD_NET_DROP_TRUNCATED_IP], 1);
	cr_expect_eq(ns->drops[TD_NET_DROP_TRUNCATED_ETH], 2);
	cr_expect_eq(td_net_stats_dropped(ns), 3);
	cr_expect_eq(td_engine_stats(P.side[1].w)->rx_pkts, 3);

	/* The pair still works afterwards. */
	cr_assert_eq(pair_connect(&P, 0, 4000), 0);
	cr_assert(pair_settle(&P, true, SETTLE_US));
	cr_expect_eq(P.side[1].done, 1);
	pair_down_no_leak();
}

/* A third host on the wire asks for the server's address (answered, and
 * learned) and for an address nobody here owns (dropped by reason). */
Test(engine, arp_from_a_stranger)
{
	const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x03};
	const uint8_t sip[4] = {198, 18, 0, 9}, other[4] = {198, 18, 0, 77};
	struct td_net_if stranger;
	struct pair_opts o;
	uint8_t f[TD_NET_ARP_FRAME_MAX];
	int len;

	pair_opts_default(&o);
	pair_up(&o);
	td_net_if_init(&stranger, smac);
	cr_assert_eq(td_net_if_add4(&stranger, sip, 1), 0);
	len = td_net_build_arp_request(&stranger, sip, P.srv_addr, f, sizeof(f));
	cr_assert_gt(len, 0);
	inject(f, (uint16_t)len);
	len = td_net_build_arp_request(&stranger, sip, other, f, sizeof(f));
	cr_assert_gt(len, 0);
	inject(f, (uint16_t)len);
	for (int i = 0; i < 4; i++)
		pair_poll(&P);

	const struct td_engine_stats *ss = td_engine_stats(P.side[1].w);
	const struct td_engine_neigh *nb = td_engine_neigh_find(P.side[1].w, 4, sip);

	cr_expect_eq(ss->arp_replies, 1);
	cr_expect_eq(ss->neigh_learned, 1);
	cr_assert_not_null(nb);
	cr_expect_eq(memcmp(nb->mac, smac, 6), 0);
	cr_expect_eq(td_engine_net_stats(P.side[1].w)->drops[TD_NET_DROP_NOT_OUR_IP], 1);
	/* The reply went to the stranger's MAC: the client ignores it. */
	cr_expect_eq(td_engine_net_stats(P.side[0].w)->drops[TD_NET_DROP_NOT_OUR_MAC], 1);
	cr_expect_null(td_engine_neigh_find(P.side[0].w, 4, sip));
	pair_down_no_leak();
}

/* A peer that never answers ARP: segments are held up to the limit, the
 * request is repeated, then the resolution fails and the held frames are
 * freed (nothing leaks). The server's port is simply never polled. */
Test(engine, unresolved_neighbour_gives_up)
{
	struct pair_opts o;
	const struct td_engine_stats *cs;
	uint64_t end;

	pair_opts_default(&o);
	pair_up(&o);
	for (uint16_t i = 0; i < TD_ENGINE_NEIGH_HOLD + 3; i++)
		cr_assert_eq(pair_connect(&P, 0, (uint16_t)(5000 + i)), 0);
	cs = td_engine_stats(P.side[0].w);
	cr_expect_eq(cs->neigh_held, TD_ENGINE_NEIGH_HOLD);
	cr_expect_eq(cs->neigh_hold_drops, 3);
	end = td_engine_now_us(P.side[0].w) +
	      (uint64_t)TD_ENGINE_NEIGH_RETRY_US * (TD_ENGINE_NEIGH_TRIES + 1);
	while (td_engine_now_us(P.side[0].w) < end)
		td_engine_poll(P.side[0].w);
	cr_expect_eq(cs->neigh_requests, TD_ENGINE_NEIGH_TRIES);
	cr_expect_eq(cs->neigh_failed, 1);
	cr_expect_eq(cs->neigh_hold_drops, 3 + TD_ENGINE_NEIGH_HOLD);
	cr_expect_null(td_engine_neigh_find(P.side[0].w, 4, P.srv_addr));
	/* Nothing is held any more; the only mbufs out of the client's pool
	 * are its requests, still in the wire to the server. */
	struct td_engine_accounting a;

	cr_expect_eq(td_engine_account(P.side[0].w, &a), -TD_EBUSY);
	cr_expect_eq(a.held, 0);
	cr_expect_eq(a.staged, 0);
	cr_expect_eq(a.mbufs_in_use, TD_ENGINE_NEIGH_TRIES);
	cr_expect_eq(a.conns_used, TD_ENGINE_NEIGH_HOLD + 3); /* still in SYN-SENT */
	pair_destroy(&P, NULL);
}

/* mbuf exhaustion: a client pool of 64 mbufs for 150 connections opened at
 * once. Allocations fail and are counted, the segments are lost as on the
 * wire, TCP retransmits them, and every exchange still completes. */
Test(engine, mbuf_exhaustion_is_counted_and_recovered, .timeout = 120)
{
	struct pair_opts o;

	pair_opts_default(&o);
	o.mbufs = 64;
	pair_up(&o);
	for (uint32_t i = 0; i < 150; i++)
		cr_assert_eq(pair_connect(&P, 0, (uint16_t)(6000 + i)), 0);
	cr_assert(pair_settle(&P, false, 60000000), "exchanges did not complete");
	cr_expect_gt(td_engine_stats(P.side[0].w)->mbuf_alloc_fail, 0);
	cr_expect_gt(tcp_stats(0)->syn_retransmits, 0);
	cr_expect_eq(P.side[1].done, 150);
	cr_expect_eq(P.side[0].failed + P.side[1].failed + P.side[0].bad + P.side[1].bad, 0);
	cr_expect_eq(tcp_stats(0)->data_errors + tcp_stats(1)->data_errors, 0);
	cr_assert(pair_settle(&P, true, SETTLE_US));
	pair_down_no_leak();
}

Test(engine, port_setup_reports_software_checksums_on_ring)
{
	struct pair_opts o;

	pair_opts_default(&o);
	pair_up(&o);
	cr_expect_eq(P.side[0].w->tx_flags, 0, "net_ring offers no checksum offload");
	cr_expect_eq(P.side[0].w->rx_ol_mask, 0);
	pair_down_no_leak();
}
