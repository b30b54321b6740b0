/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser: scapy's frames parse to the right fields; every drop reason
 * comes from a crafted frame and is counted under its class; every prefix of
 * a valid frame is TRUNCATED (never a crash, never a read past the end: the
 * harness parses exact-size heap copies, so run this under ASan).
 */
#include <criterion/criterion.h>

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vectors.h"

TestSuite(parse, .init = setup, .fini = teardown);
TestSuite(drops, .init = setup, .fini = teardown);
TestSuite(truncate, .init = setup, .fini = teardown);

/* A private copy of a vector to edit. */
#define COPY(name)                                                                                 \
	uint8_t f[sizeof(name) + 64];                                                              \
	uint32_t len = sizeof(name);                                                               \
	memcpy(f, name, sizeof(name))

/* Start over from another vector in the same buffer. */
#define RECOPY(name)                                                                               \
	do {                                                                                       \
		static_assert(sizeof(name) <= sizeof(f), "fits");                                  \
		len = sizeof(name);                                                                \
		memcpy(f, name, sizeof(name));                                                     \
	} while (0)

/* ------------------------------------------------------------------------ */
/* Accepted frames                                                           */

Test(parse, v4_syn)
{
	struct td_net_pkt pkt;

	cr_assert_eq(parse(v4_syn_in, sizeof(v4_syn_in), &pkt), TD_NET_KIND_TCP);
	const struct td_seg *s = &pkt.seg;
	cr_expect_eq(pkt.family, 4);
	cr_expect_eq(pkt.vlan, 0);
	cr_expect_eq(pkt.l3_off, 14);
	cr_expect_eq(pkt.l4_off, 34);
	cr_expect_arr_eq(pkt.smac, PEER_MAC, 6);
	cr_expect_eq(s->tuple.family, 4);
	cr_expect_arr_eq(s->tuple.laddr, US4, 4, "the destination is the local side");
	cr_expect_arr_eq(s->tuple.raddr, PEER4, 4);
	cr_expect_eq(s->tuple.lport, 80);
	cr_expect_eq(s->tuple.rport, 40000);
	cr_expect_eq(s->seq, 0x12345678);
	cr_expect_eq(s->ack, 0);
	cr_expect_eq(s->flags, TD_TH_SYN);
	cr_expect_eq(s->wnd, 64240);
	cr_expect_eq(s->optlen, 20);
	cr_expect_eq(s->len, 0);
	cr_expect_null(s->data);
	struct td_tcp_opts o;
	cr_assert_eq(td_tcp_opts_parse(s->opts, s->optlen, &o), 0);
	cr_expect_eq(o.has, TD_OPT_MSS | TD_OPT_SACKOK | TD_OPT_TS | TD_OPT_WSCALE);
	cr_expect_eq(o.mss, 1460);
	cr_expect_eq(o.wscale, 7);
	cr_expect_eq(o.ts_val, 1000);
	cr_expect_eq(st.rx[TD_NET_KIND_TCP], 1);
	cr_expect_eq(st.ip4_options, 0);
}

Test(parse, v4_ip_options_and_payload)
{
	struct td_net_pkt pkt;

	cr_assert_eq(parse(v4_ipopt_data_in, sizeof(v4_ipopt_data_in), &pkt), TD_NET_KIND_TCP);
	const struct td_seg *s = &pkt.seg;
	cr_expect_eq(pkt.l4_off, 38, "the 4-byte Router Alert option is skipped");
	cr_expect_eq(s->seq, 0x12345679);
	cr_expect_eq(s->ack, 0xabcdef01);
	cr_expect_eq(s->flags, TD_TH_PSH | TD_TH_ACK);
	cr_expect_eq(s->wnd, 502);
	cr_expect_eq(s->optlen, 12);
	cr_expect_eq(s->len, 17);
	cr_assert_not_null(s->data);
	cr_expect_arr_eq(s->data, "hello, teardown!\n", 17);
	cr_expect_eq(st.ip4_options, 1);
}

Test(parse, v6_payload)
{
	struct td_net_pkt pkt;

	cr_assert_eq(parse(v6_data_in, sizeof(v6_data_in), &pkt), TD_NET_KIND_TCP);
	const struct td_seg *s = &pkt.seg;
	cr_expect_eq(pkt.family, 6);
	cr_expect_eq(pkt.l4_off, 54);
	cr_expect_eq(s->tuple.family, 6);
	cr_expect_arr_eq(s->tuple.laddr, US6, 16);
	cr_expect_arr_eq(s->tuple.raddr, PEER6, 16);
	cr_expect_eq(s->len, 17);
	cr_expect_arr_eq(s->data, "hello, teardown!\n", 17);
	struct td_tcp_opts o;
	cr_assert_eq(td_tcp_opts_parse(s->opts, s->optlen, &o), 0);
	cr_expect_eq(o.has, TD_OPT_TS);
	cr_expect_eq(o.ts_val, 2000);
	cr_expect_eq(o.ts_ecr, 1000);
}

/* Ethernet padding after the datagram is not payload. */
Test(parse, trailing_padding_ignored)
{
	COPY(v4_syn_in);
	struct td_net_pkt pkt;

	memset(f + len, 0xee, 20);
	cr_assert_eq(parse(f, len + 20, &pkt), TD_NET_KIND_TCP);
	cr_expect_eq(pkt.seg.len, 0);
	memcpy(f, v6_data_in, sizeof(v6_data_in));
	memset(f + sizeof(v6_data_in), 0xee, 20);
	cr_assert_eq(parse(f, sizeof(v6_data_in) + 20, &pkt), TD_NET_KIND_TCP);
	cr_expect_eq(pkt.seg.len, 17);
}

Test(parse, arp_request)
{
	struct td_net_pkt pkt;

	cr_assert_eq(parse(arp_req_in, sizeof(arp_req_in), &pkt), TD_NET_KIND_ARP);
	cr_expect_eq(pkt.family, 0);
	cr_expect_eq(pkt.arp.op, TD_NET_ARP_REQUEST);
	cr_expect_arr_eq(pkt.arp.sha, PEER_MAC, 6);
	cr_expect_arr_eq(pkt.arp.spa, PEER4, 4);
	cr_expect_arr_eq(pkt.arp.tpa, US4, 4);
}

/* An announcement (sender = target) for another host still comes up, so the
 * engine can refresh a neighbour entry; a request for someone else does not. */
Test(parse, arp_announcement)
{
	COPY(arp_req_in);
	struct td_net_pkt pkt;

	memcpy(f + L3 + 24, PEER4, 4);
	cr_assert_eq(parse(f, len, &pkt), TD_NET_KIND_ARP);
	f[L3 + 27] = 9;
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
}

Test(parse, neighbour_solicitation)
{
	struct td_net_pkt pkt;

	cr_assert_eq(parse(ns_in, sizeof(ns_in), &pkt), TD_NET_KIND_NS);
	cr_expect_eq(pkt.family, 6);
	cr_expect_arr_eq(pkt.nd.src, PEER6, 16);
	cr_expect_arr_eq(pkt.nd.target, US6, 16);
	cr_expect(pkt.nd.has_lla);
	cr_expect_arr_eq(pkt.nd.lla, PEER_MAC, 6);

	cr_assert_eq(parse(ns_dad_in, sizeof(ns_dad_in), &pkt), TD_NET_KIND_NS);
	cr_expect_not(pkt.nd.has_lla);
	cr_expect_eq(pkt.nd.src[0], 0);
	cr_expect_eq(st.rx[TD_NET_KIND_NS], 2);
}

Test(parse, neighbour_advertisement)
{
	struct td_net_pkt pkt;

	cr_assert_eq(parse(na_in, sizeof(na_in), &pkt), TD_NET_KIND_NA);
	cr_expect_arr_eq(pkt.nd.target, PEER6, 16);
	cr_expect_eq(pkt.nd.flags, TD_NET_NA_SOLICITED | TD_NET_NA_OVERRIDE);
	cr_expect(pkt.nd.has_lla);
	cr_expect_arr_eq(pkt.nd.lla, PEER_MAC, 6);
}

/* What we send parses on the other side. */
Test(parse, our_frames_as_the_peer_sees_them)
{
	struct td_net_pkt pkt;

	cr_expect_eq(parse_as(&nif_peer, v4_synack_out, sizeof(v4_synack_out), 0, &pkt),
		     TD_NET_KIND_TCP);
	cr_expect_eq(parse_as(&nif_peer, v6_data_out, sizeof(v6_data_out), 0, &pkt),
		     TD_NET_KIND_TCP);
	cr_expect_eq(parse_as(&nif_peer, arp_reply_out, sizeof(arp_reply_out), 0, &pkt),
		     TD_NET_KIND_ARP);
	cr_expect_eq(parse_as(&nif_peer, arp_req_out, sizeof(arp_req_out), 0, &pkt),
		     TD_NET_KIND_ARP);
	cr_expect_eq(parse_as(&nif_peer, ns_out, sizeof(ns_out), 0, &pkt), TD_NET_KIND_NS);
	cr_expect_eq(parse_as(&nif_peer, na_out, sizeof(na_out), 0, &pkt), TD_NET_KIND_NA);
	cr_expect_eq(parse_as(&nif_peer, na_dad_out, sizeof(na_dad_out), 0, &pkt), TD_NET_KIND_NA);
	/* The peer is on VLAN 100 for this one. */
	cr_assert_eq(td_net_if_set_vlan(&nif_peer, 100), 0);
	cr_expect_eq(parse_as(&nif_peer, v4_vlan_fin_out, sizeof(v4_vlan_fin_out), 0, &pkt),
		     TD_NET_KIND_TCP);
	cr_expect_eq(pkt.vlan, 100);
	cr_expect_eq(pkt.l3_off, 18);
	cr_expect_eq(pkt.seg.flags, TD_TH_FIN | TD_TH_ACK);
}

/* A port that verified checksums lets the parser skip them; one that found
 * them bad makes it drop. */
Test(parse, rx_checksum_flags)
{
	COPY(v4_ipopt_data_in);
	struct td_net_pkt pkt;

	f[len - 1] ^= 0x40; /* payload: TCP checksum now wrong */
	expect_drop(f, len, TD_NET_DROP_BAD_TCP_CHECKSUM);
	cr_expect_eq(parse_as(&nif_us, f, len, TD_NET_RX_L4_CKSUM_GOOD, &pkt), TD_NET_KIND_TCP);
	f[L3 + 10] ^= 1; /* IP checksum now wrong too */
	expect_drop_flags(f, len, TD_NET_RX_L4_CKSUM_GOOD, TD_NET_DROP_BAD_IP_CHECKSUM);
	cr_expect_eq(
		parse_as(&nif_us, f, len, TD_NET_RX_L4_CKSUM_GOOD | TD_NET_RX_IP_CKSUM_GOOD, &pkt),
		TD_NET_KIND_TCP);
	expect_drop_flags(v4_syn_in, sizeof(v4_syn_in), TD_NET_RX_IP_CKSUM_BAD,
			  TD_NET_DROP_BAD_IP_CHECKSUM);
	expect_drop_flags(v4_syn_in, sizeof(v4_syn_in), TD_NET_RX_L4_CKSUM_BAD,
			  TD_NET_DROP_BAD_TCP_CHECKSUM);
	expect_drop_flags(v6_data_in, sizeof(v6_data_in), TD_NET_RX_L4_CKSUM_BAD,
			  TD_NET_DROP_BAD_TCP_CHECKSUM);
}

/* Ranges: a load generator's many addresses. */
Test(parse, address_ranges)
{
	struct td_net_if nif;
	const uint8_t a4[4] = {198, 18, 1, 250}, a6[16] = {0x20, 0x01, 0, 2, [14] = 0xff, 0xf0};

	td_net_if_init(&nif, US_MAC);
	cr_assert_eq(td_net_if_add4(&nif, a4, 1000), 0);
	cr_assert_eq(td_net_if_add6(&nif, a6, 0x20), 0);
	cr_expect(td_net_ours4(&nif, (uint8_t[]){198, 18, 1, 250}));
	cr_expect(td_net_ours4(&nif, (uint8_t[]){198, 18, 5, 225}), "1.250 + 999 = 5.225");
	cr_expect_not(td_net_ours4(&nif, (uint8_t[]){198, 18, 5, 226}));
	cr_expect_not(td_net_ours4(&nif, (uint8_t[]){198, 18, 1, 249}));
	cr_expect(td_net_ours6(&nif, (uint8_t[16]){0x20, 0x01, 0, 2, [13] = 1, 0x00, 0x0f}));
	cr_expect_not(td_net_ours6(&nif, (uint8_t[16]){0x20, 0x01, 0, 2, [13] = 1, 0x00, 0x10}));
	cr_expect_not(td_net_ours6(&nif, (uint8_t[16]){0x20, 0x01, 0, 3, [14] = 0xff, 0xf0}));

	/* An NS to the solicited-node group of an address in the range. */
	uint8_t f[sizeof(ns_in)];
	struct td_net_pkt pkt;
	memcpy(f, ns_in, sizeof(f));
	f[L3 + 24 + 13] = 0x01;
	f[L3 + 24 + 14] = 0x00;
	f[L3 + 24 + 15] = 0x05;
	memcpy(f + L4_6 + 8, f + L3 + 24, 16);
	memcpy(f + L4_6 + 8, a6, 13);
	refresh(f, sizeof(f));
	cr_expect_eq(parse_as(&nif, f, sizeof(f), 0, &pkt), TD_NET_KIND_NS);

	/* Bad ranges. */
	cr_expect_eq(td_net_if_add4(&nif, a4, 0), -TD_EINVAL);
	cr_expect_eq(td_net_if_add4(&nif, (uint8_t[]){126, 255, 255, 255}, 2), -TD_EINVAL);
	cr_expect_eq(td_net_if_add4(&nif, (uint8_t[]){223, 255, 255, 255}, 2), -TD_EINVAL);
	cr_expect_eq(td_net_if_add4(&nif, (uint8_t[]){0, 0, 0, 1}, 1), -TD_EINVAL);
	cr_expect_eq(td_net_if_add4(&nif, (uint8_t[]){224, 0, 0, 1}, 1), -TD_EINVAL);
	cr_expect_eq(td_net_if_add6(&nif, (uint8_t[16]){0}, 5), -TD_EINVAL);
	cr_expect_eq(td_net_if_add6(&nif, (uint8_t[16]){[15] = 1}, 1), -TD_EINVAL);
	cr_expect_eq(td_net_if_add6(&nif, (uint8_t[16]){0xff, 2, [15] = 1}, 1), -TD_EINVAL);
	cr_expect_eq(td_net_if_add6(&nif, (uint8_t[16]){0x20, [12] = 0xff, 0xff, 0xff, 0xff}, 2),
		     -TD_EINVAL);
	cr_expect_eq(td_net_if_set_vlan(&nif, 4095), -TD_EINVAL);
	for (int i = 1; i < TD_NET_MAX_RANGES; i++)
		cr_assert_eq(td_net_if_add4(&nif, (uint8_t[]){10, 0, 0, (uint8_t)i}, 1), 0);
	cr_expect_eq(td_net_if_add4(&nif, (uint8_t[]){10, 0, 1, 0}, 1), -TD_ENOSPC);
}

/* ------------------------------------------------------------------------ */
/* Every drop reason from a crafted frame                                    */

static void
cases_eth(void)
{
	COPY(v4_syn_in);

	expect_drop(f, 0, TD_NET_DROP_TRUNCATED_ETH);
	expect_drop(f, 13, TD_NET_DROP_TRUNCATED_ETH);
	f[5] = 9;
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_MAC);
	memset(f, 0xff, 6); /* TCP in a broadcast (RFC 1122 3.3.6) */
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_MAC);
	memcpy(f, US_MAC, 6);
	f[6] = 0x01;
	expect_drop(f, len, TD_NET_DROP_BAD_ETH_SRC);
	f[6] = 0x02;
	put16(f + 12, 0x88cc); /* LLDP */
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_ETHERTYPE);
	put16(f + 12, 0x0040); /* an 802.3 length */
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_ETHERTYPE);

	/* VLANs. */
	uint8_t g[sizeof(v4_vlan_fin_out)];
	memcpy(g, v4_vlan_fin_out, sizeof(g));
	memcpy(g, US_MAC, 6);
	memcpy(g + 6, PEER_MAC, 6);
	expect_drop(g, 15, TD_NET_DROP_TRUNCATED_ETH);
	expect_drop(g, 17, TD_NET_DROP_TRUNCATED_ETH);
	expect_drop(g, sizeof(g), TD_NET_DROP_WRONG_VLAN); /* tagged, we are not */
	cr_assert_eq(td_net_if_set_vlan(&nif_us, 100), 0);
	expect_drop(v4_syn_in, sizeof(v4_syn_in), TD_NET_DROP_WRONG_VLAN); /* untagged */
	put16(g + 14, 0xe065); /* priority 7, VLAN 101 */
	expect_drop(g, sizeof(g), TD_NET_DROP_WRONG_VLAN);
	put16(g + 14, 0xe064);                /* priority 7, VLAN 100: ours */
	put16(g + 16, TD_NET_ETHERTYPE_VLAN); /* a second tag */
	expect_drop(g, sizeof(g), TD_NET_DROP_UNSUPPORTED_ETHERTYPE);
	cr_assert_eq(td_net_if_set_vlan(&nif_us, 0), 0);
	/* A priority tag (VLAN 0) is untagged. */
	put16(g + 14, 0xe000);
	put16(g + 16, TD_NET_ETHERTYPE_IPV4);
	memcpy(g + 18 + 12, PEER4, 4);
	memcpy(g + 18 + 16, US4, 4);
	put16(g + 18 + 20, 40000);
	put16(g + 18 + 22, 80);
	refresh(g, sizeof(g));
	struct td_net_pkt pkt;
	cr_expect_eq(parse(g, sizeof(g), &pkt), TD_NET_KIND_TCP);
}

static void
cases_arp(void)
{
	COPY(arp_req_in);

	expect_drop(f, L3 + 27, TD_NET_DROP_TRUNCATED_ARP);
	f[L3 + 1] = 6; /* IEEE 802 hardware */
	expect_drop(f, len, TD_NET_DROP_BAD_ARP);
	f[L3 + 1] = 1;
	f[L3 + 5] = 16; /* protocol address length */
	expect_drop(f, len, TD_NET_DROP_BAD_ARP);
	f[L3 + 5] = 4;
	f[L3 + 7] = 3; /* RARP request */
	expect_drop(f, len, TD_NET_DROP_BAD_ARP);
	f[L3 + 7] = 1;
	f[L3 + 8] = 0x01; /* multicast sender */
	expect_drop(f, len, TD_NET_DROP_BAD_ARP);
	f[L3 + 8] = 0x02;
	memset(f + L3 + 14, 0xff, 4); /* broadcast sender address */
	expect_drop(f, len, TD_NET_DROP_BAD_ARP);
	memcpy(f + L3 + 14, PEER4, 4);
	f[L3 + 27] = 3; /* who has 198.18.0.3 */
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
}

static void
cases_ip4(void)
{
	COPY(v4_syn_in);
	uint8_t *ip = f + L3;

	expect_drop(f, L3 + 19, TD_NET_DROP_TRUNCATED_IP);
	ip[0] = 0x65;
	expect_drop(f, len, TD_NET_DROP_BAD_IP_VERSION);
	ip[0] = 0x44;
	expect_drop(f, len, TD_NET_DROP_BAD_IP_HDR_LEN);
	ip[0] = 0x4f; /* 60-byte header, longer than the frame's 60 - 14 bytes */
	expect_drop(f, L3 + 50, TD_NET_DROP_TRUNCATED_IP);
	ip[0] = 0x45;
	put16(ip + 2, 19);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_IP_TOTAL_LEN);
	put16(ip + 2, (uint16_t)(len - L3 + 1));
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_IP);
	put16(ip + 2, (uint16_t)(len - L3));
	refresh(f, len);
	ip[10] ^= 0x80;
	expect_drop(f, len, TD_NET_DROP_BAD_IP_CHECKSUM);

	static const uint8_t martians[][4] = {
		{224, 0, 0, 1}, {255, 255, 255, 255}, {127, 0, 0, 1}, {0, 0, 0, 0}, {0, 1, 2, 3}};
	for (unsigned i = 0; i < TD_ARRAY_SIZE(martians); i++) {
		memcpy(ip + 12, martians[i], 4);
		refresh(f, len);
		expect_drop(f, len, TD_NET_DROP_BAD_IP_SRC);
	}
	memcpy(ip + 12, PEER4, 4);
	ip[19] = 3;
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
	memset(ip + 16, 0xff, 4); /* broadcast */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
	memcpy(ip + 16, US4, 4);
	put16(ip + 6, 0x2000); /* more fragments */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_IP_FRAGMENT);
	put16(ip + 6, 0x4001); /* DF, but an offset */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_IP_FRAGMENT);
	put16(ip + 6, 0x4000);
	ip[9] = 17; /* UDP */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_L4);
	ip[9] = 1; /* ICMP */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_L4);
}

static void
cases_ip6(void)
{
	COPY(v6_data_in);
	uint8_t *ip = f + L3;

	expect_drop(f, L3 + 39, TD_NET_DROP_TRUNCATED_IP);
	ip[0] = 0x40;
	expect_drop(f, len, TD_NET_DROP_BAD_IP_VERSION);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(len - L4_6 + 1));
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_IP);
	put16(ip + 4, (uint16_t)(len - L4_6));
	ip[8] = 0xff; /* multicast source */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_IP_SRC);
	memset(ip + 8, 0, 16);
	ip[23] = 1; /* ::1 */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_IP_SRC);
	ip[23] = 0; /* :: is only for duplicate address detection */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_IP_SRC);
	memcpy(ip + 8, PEER6, 16);
	ip[39] = 3;
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
	/* TCP to all nodes: a group we are in, but not for TCP. */
	memcpy(ip + 24, (uint8_t[16]){0xff, 0x02, [15] = 1}, 16);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
	memcpy(f, (uint8_t[]){0x33, 0x33, 0, 0, 0, 1}, 6);
	memcpy(ip + 24, US6, 16);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_MAC);
	memcpy(f, US_MAC, 6);

	ip[6] = 44;
	expect_drop(f, len, TD_NET_DROP_IP_FRAGMENT);
	static const uint8_t ext[] = {0, 43, 50, 51, 60, 135, 139, 140, 253, 254};
	for (unsigned i = 0; i < sizeof(ext); i++) {
		ip[6] = ext[i];
		expect_drop(f, len, TD_NET_DROP_IP6_EXT_HEADER);
	}
	ip[6] = 17;
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_L4);
	ip[6] = 59; /* No Next Header */
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_L4);
}

static void
cases_tcp(void)
{
	COPY(v4_ipopt_data_in);
	uint8_t *ip = f + L3, *th = f + L3 + 24;

	/* The IP datagram ends inside the TCP header. */
	put16(ip + 2, 24 + 19);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_TCP);
	put16(ip + 2, (uint16_t)(len - L3));
	th[12] = 0x40;
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_TCP_DATA_OFFSET);
	th[12] = 0xf0; /* 60 bytes: more than the 49 there are */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_TCP);
	th[12] = 0x80;
	put16(th, 0);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_TCP_PORT);
	put16(th, 40000);
	put16(th + 2, 0);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_TCP_PORT);
	put16(th + 2, 80);
	refresh(f, len);
	th[16] ^= 0x01;
	expect_drop(f, len, TD_NET_DROP_BAD_TCP_CHECKSUM);

	RECOPY(v6_data_in);
	f[len - 1] ^= 0x01;
	expect_drop(f, len, TD_NET_DROP_BAD_TCP_CHECKSUM);
	put16(f + L3 + 4, 10);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_TCP);
}

static void
cases_nd(void)
{
	COPY(ns_in);
	uint8_t *ip = f + L3, *p = f + L4_6;
	uint32_t plen = len - L4_6;

	/* Echo request: ICMPv6 we do not answer. */
	p[0] = 128;
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_UNSUPPORTED_ICMP);
	p[0] = TD_NET_ND_NS;
	put16(ip + 4, 3);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_ICMP);
	put16(ip + 4, 20);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_ICMP);
	put16(ip + 4, (uint16_t)plen);
	refresh(f, len);
	p[2] ^= 0x10;
	expect_drop(f, len, TD_NET_DROP_BAD_ICMP_CHECKSUM);
	refresh(f, len);
	ip[7] = 64;
	expect_drop(f, len, TD_NET_DROP_BAD_ND_HOP_LIMIT);
	ip[7] = 255;
	p[1] = 1; /* code */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_ND);
	p[1] = 0;
	p[8] = 0xff; /* multicast target */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_ND);
	p[8] = 0x20;
	p[25] = 0; /* option length 0 */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_ND);
	p[25] = 2; /* 16 bytes: past the end */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_TRUNCATED_ICMP);
	p[25] = 1;
	/* One byte after the option: not even an option header. */
	f[len] = 0;
	put16(ip + 4, (uint16_t)(plen + 1));
	refresh(f, len + 1);
	expect_drop(f, len + 1, TD_NET_DROP_TRUNCATED_ICMP);
	put16(ip + 4, (uint16_t)plen);
	/* Duplicate address detection with a link-layer address. */
	memset(ip + 8, 0, 16);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_ND);
	/* ... or to a unicast destination. */
	memcpy(ip + 24, US6, 16);
	put16(ip + 4, 24);
	refresh(f, L4_6 + 24);
	expect_drop(f, L4_6 + 24, TD_NET_DROP_BAD_ND);
	/* A unicast NS for an address that is not ours. */
	memcpy(ip + 8, PEER6, 16);
	p[8 + 15] = 3;
	refresh(f, L4_6 + 24);
	expect_drop(f, L4_6 + 24, TD_NET_DROP_NOT_OUR_IP);
	/* An NS to the solicited-node group of an address that is not ours. */
	RECOPY(ns_in);
	f[L3 + 24 + 15] = 3;
	f[L4_6 + 8 + 15] = 3;
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);

	RECOPY(na_in);
	/* A solicited advertisement to all nodes. */
	memcpy(f + L3 + 24, (uint8_t[16]){0xff, 0x02, [15] = 1}, 16);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_ND);
	f[L4_6 + 4] = TD_NET_NA_OVERRIDE;
	refresh(f, len);
	struct td_net_pkt pkt;
	cr_expect_eq(parse(f, len, &pkt), TD_NET_KIND_NA, "unsolicited to all nodes is fine");
	/* An advertisement from the unspecified address. */
	memset(f + L3 + 8, 0, 16);
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_BAD_ND);
	/* ICMPv6 for another group than ours. */
	RECOPY(ns_in);
	f[L3 + 24 + 1] = 0x05; /* site-local scope */
	refresh(f, len);
	expect_drop(f, len, TD_NET_DROP_NOT_OUR_IP);
}

Test(drops, ethernet)
{
	cases_eth();
}
Test(drops, arp)
{
	cases_arp();
}
Test(drops, ipv4)
{
	cases_ip4();
}
Test(drops, ipv6)
{
	cases_ip6();
}
Test(drops, tcp)
{
	cases_tcp();
}
Test(drops, neighbour_discovery)
{
	cases_nd();
}

/* The cases above, together, produce every reason of the map, and the map's
 * naming matches its classes. */
Test(drops, every_reason_has_a_case)
{
	cases_eth();
	cases_arp();
	cases_ip4();
	cases_ip6();
	cases_tcp();
	cases_nd();
	for (unsigned d = 0; d < TD_NET_DROP_MAX; d++) {
		const char *name = td_net_drop_name(d);
		cr_expect(drop_seen[d], "no crafted frame is dropped as %s", name);
		cr_expect_eq(strncmp(name, "TRUNCATED_", 10) == 0,
			     td_net_drop_class(d) == TD_NET_CLASS_TRUNCATED, "%s", name);
		cr_expect_gt(strlen(td_net_drop_text(d)), 10);
		cr_expect_gt(st.drops[d], 0);
	}
	cr_expect_str_eq(td_net_drop_name(TD_NET_DROP_MAX), "?");
	cr_expect_str_eq(td_net_kind_name(TD_NET_KIND_NA), "NA");
	struct td_net_stats sum = {0};
	td_net_stats_add(&sum, &st);
	td_net_stats_add(&sum, &st);
	cr_expect_eq(td_net_stats_dropped(&sum), 2 * td_net_stats_dropped(&st));
}

/* ------------------------------------------------------------------------ */
/* Truncation at every length                                                */

/* Every prefix of a valid frame is TRUNCATED, and at the reason of the
 * header it ends in; the whole frame is accepted as @p kind. */
static void
every_prefix(const uint8_t *f, uint32_t len, uint32_t l2, enum td_net_drop l3_reason, int kind)
{
	struct td_net_pkt pkt;

	for (uint32_t n = 0; n < len; n++) {
		int rc = parse(f, n, &pkt);
		cr_assert_eq(rc, TD_NET_CLASS_TRUNCATED, "prefix %u of %u: %d (%s)", n, len, rc,
			     td_net_drop_name(pkt.drop));
		cr_assert_eq(pkt.drop, n < l2 ? TD_NET_DROP_TRUNCATED_ETH : l3_reason,
			     "prefix %u: %s", n, td_net_drop_name(pkt.drop));
	}
	cr_assert_eq(parse(f, len, &pkt), kind);
}

Test(truncate, every_prefix)
{
	every_prefix(v4_syn_in, sizeof(v4_syn_in), 14, TD_NET_DROP_TRUNCATED_IP, TD_NET_KIND_TCP);
	every_prefix(v4_ipopt_data_in, sizeof(v4_ipopt_data_in), 14, TD_NET_DROP_TRUNCATED_IP,
		     TD_NET_KIND_TCP);
	every_prefix(v6_data_in, sizeof(v6_data_in), 14, TD_NET_DROP_TRUNCATED_IP, TD_NET_KIND_TCP);
	every_prefix(arp_req_in, sizeof(arp_req_in), 14, TD_NET_DROP_TRUNCATED_ARP,
		     TD_NET_KIND_ARP);
	every_prefix(ns_in, sizeof(ns_in), 14, TD_NET_DROP_TRUNCATED_IP, TD_NET_KIND_NS);
	every_prefix(na_in, sizeof(na_in), 14, TD_NET_DROP_TRUNCATED_IP, TD_NET_KIND_NA);
	cr_assert_eq(td_net_if_set_vlan(&nif_us, 100), 0);
	uint8_t g[sizeof(v4_vlan_fin_out)];
	memcpy(g, v4_vlan_fin_out, sizeof(g));
	memcpy(g, US_MAC, 6);
	memcpy(g + 6, PEER_MAC, 6);
	memcpy(g + 18 + 12, PEER4, 4);
	memcpy(g + 18 + 16, US4, 4);
	put16(g + 18 + 20, 40000);
	put16(g + 18 + 22, 80);
	refresh(g, sizeof(g));
	every_prefix(g, sizeof(g), 18, TD_NET_DROP_TRUNCATED_IP, TD_NET_KIND_TCP);
}

/*
 * The same cut with the IP length telling the truth (lengths and checksums
 * fixed after the cut): the datagram is complete but its TCP or ICMPv6 part
 * is not. Cuts inside the TCP header are TRUNCATED_TCP; cuts in the payload
 * leave a valid, shorter segment. Cuts inside an ND message or option are
 * TRUNCATED_ICMP, except exactly after the fixed part (options are optional).
 */
static void
every_l4_cut(const uint8_t *v, uint32_t len, bool v6)
{
	uint8_t f[256];
	uint32_t l4 = v6 ? L4_6 : L3 + (uint32_t)(v[L3] & 15) * 4;
	bool tcp = (v6 ? v[L3 + 6] : v[L3 + 9]) == TD_NET_PROTO_TCP;
	uint32_t doff = tcp ? (uint32_t)(v[l4 + 12] >> 4) * 4 : 0;
	struct td_net_pkt pkt;

	for (uint32_t n = l4; n < len; n++) {
		memcpy(f, v, n);
		if (v6)
			put16(f + L3 + 4, (uint16_t)(n - L4_6));
		else
			put16(f + L3 + 2, (uint16_t)(n - L3));
		refresh(f, n);
		int rc = parse(f, n, &pkt);
		uint32_t k = n - l4;
		if (tcp && k >= doff) {
			cr_assert_eq(rc, TD_NET_KIND_TCP, "cut at %u: %s", k,
				     rc < 0 ? td_net_drop_name(pkt.drop) : "");
			cr_assert_eq(pkt.seg.len, k - doff);
		} else if (!tcp && k == TD_NET_ND_LEN) {
			cr_assert_geq(rc, 0, "an NS or NA without options");
			cr_assert_not(pkt.nd.has_lla);
		} else {
			cr_assert_eq(rc, TD_NET_CLASS_TRUNCATED, "cut at %u: %d", k, rc);
			cr_assert_eq(pkt.drop,
				     tcp ? TD_NET_DROP_TRUNCATED_TCP : TD_NET_DROP_TRUNCATED_ICMP,
				     "cut at %u: %s", k, td_net_drop_name(pkt.drop));
		}
	}
}

Test(truncate, every_l4_cut_with_consistent_lengths)
{
	every_l4_cut(v4_syn_in, sizeof(v4_syn_in), false);
	every_l4_cut(v4_ipopt_data_in, sizeof(v4_ipopt_data_in), false);
	every_l4_cut(v6_data_in, sizeof(v6_data_in), true);
	every_l4_cut(ns_in, sizeof(ns_in), true);
	every_l4_cut(na_in, sizeof(na_in), true);
}
