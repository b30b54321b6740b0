/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The builders: byte-for-byte equal to what scapy makes for the same fields;
 * build -> parse round trips for IPv4 and IPv6 with lib/tcp's options and
 * payload; checksum offload leaves what a port needs to finish the job;
 * errors write nothing; ARP request -> reply and NS -> NA.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "harness.h"
#include "vectors.h"

TestSuite(build, .init = setup, .fini = teardown);
TestSuite(roundtrip, .init = setup, .fini = teardown);
TestSuite(neigh, .init = setup, .fini = teardown);

#define PAYLOAD "hello, teardown!\n"

static const uint8_t SYN_OPTS[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
				   0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
static const uint8_t TS_OPTS[] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x00,
				  0x07, 0xd0, 0x00, 0x00, 0x03, 0xe8};

/* Our side of the connection of vectors.h. */
static struct td_tuple
tuple(uint8_t family)
{
	struct td_tuple t = {.lport = 80, .rport = 40000, .family = family};

	memcpy(t.laddr, family == 4 ? US4 : US6, family == 4 ? 4 : 16);
	memcpy(t.raddr, family == 4 ? PEER4 : PEER6, family == 4 ? 4 : 16);
	return t;
}

static struct td_tcp_out
out(const struct td_tuple *t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
    const uint8_t *opts, uint8_t optlen, uint32_t len)
{
	struct td_tcp_out o = {.tuple = t, .seq = seq, .ack = ack, .flags = flags, .wnd = wnd};

	if (optlen > 0)
		memcpy(o.opts, opts, optlen);
	o.optlen = optlen;
	o.len = len;
	return o;
}

static void
expect_frame(const uint8_t *got, int len, const uint8_t *want, size_t want_len)
{
	cr_assert_eq(len, (int)want_len, "length %d, want %zu", len, want_len);
	for (size_t i = 0; i < want_len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu: %02x, want %02x", i, got[i], want[i]);
}

/* ------------------------------------------------------------------------ */
/* Against scapy                                                              */

Test(build, v4_synack_like_scapy)
{
	struct td_tuple t = tuple(4);
	struct td_net_tmpl tm;
	uint8_t buf[256];

	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	cr_expect_eq(tm.l2_len, 14);
	cr_expect_eq(tm.l3_len, 20);
	cr_expect_eq(tm.hdr_len, 34);
	struct td_tcp_out o = out(&t, 0x0badf00d, 0x12345679, TD_TH_SYN | TD_TH_ACK, 65535,
				  SYN_OPTS, sizeof(SYN_OPTS), 0);
	int n = td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf));
	expect_frame(buf, n, v4_synack_out, sizeof(v4_synack_out));
}

Test(build, options_padded_like_scapy)
{
	struct td_tuple t = tuple(4);
	struct td_net_tmpl tm;
	uint8_t buf[256];
	static const uint8_t opts[] = {0x02, 0x04, 0x05, 0xb4, 0x03, 0x03, 0x07};

	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	struct td_tcp_out o = out(&t, 1, 2, TD_TH_SYN, 1024, opts, sizeof(opts), 0);
	cr_expect_eq(td_net_tcp_payload_off(&tm, sizeof(opts)), 34 + 20 + 8);
	memset(buf, 0xaa, sizeof(buf));
	int n = td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf));
	expect_frame(buf, n, v4_pad_out, sizeof(v4_pad_out));
}

Test(build, v6_data_like_scapy)
{
	struct td_tuple t = tuple(6);
	struct td_net_tmpl tm;
	uint8_t buf[256];

	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	cr_expect_eq(tm.hdr_len, 54);
	struct td_tcp_out o = out(&t, 0xabcdef01, 0x1234568a, TD_TH_PSH | TD_TH_ACK, 502, TS_OPTS,
				  sizeof(TS_OPTS), 17);
	int n = td_net_build_tcp(&tm, &o, (const uint8_t *)PAYLOAD, 0, buf, sizeof(buf));
	expect_frame(buf, n, v6_data_out, sizeof(v6_data_out));

	/* The same with the payload put in place first (no copy). */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + td_net_tcp_payload_off(&tm, o.optlen), PAYLOAD, 17);
	n = td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf));
	expect_frame(buf, n, v6_data_out, sizeof(v6_data_out));
}

Test(build, vlan_like_scapy)
{
	struct td_tuple t = tuple(4);
	struct td_net_tmpl tm;
	uint8_t buf[256];

	cr_assert_eq(td_net_if_set_vlan(&nif_us, 100), 0);
	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	cr_expect_eq(tm.l2_len, 18);
	struct td_tcp_out o =
		out(&t, 0xfffffff0, 0x80000000, TD_TH_FIN | TD_TH_ACK, 4096, NULL, 0, 0);
	int n = td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf));
	expect_frame(buf, n, v4_vlan_fin_out, sizeof(v4_vlan_fin_out));
}

/* One template serves every connection between the same two addresses:
 * ports come from the descriptor. */
Test(build, template_shared_by_ports)
{
	struct td_tuple t = tuple(4), t2 = tuple(4);
	struct td_net_tmpl tm;
	struct td_net_pkt pkt;
	uint8_t buf[256];

	t2.lport = 8080;
	t2.rport = 1;
	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	struct td_tcp_out o = out(&t2, 5, 6, TD_TH_RST, 0, NULL, 0, 0);
	int n = td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf));
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_TCP);
	cr_expect_eq(pkt.seg.tuple.lport, 1);
	cr_expect_eq(pkt.seg.tuple.rport, 8080);
	cr_expect_eq(pkt.seg.flags, TD_TH_RST);
}

/* ------------------------------------------------------------------------ */
/* Build, then parse on the other side                                        */

static void
roundtrip(uint8_t family, const struct td_tcp_opts *opts, bool syn, uint32_t len)
{
	struct td_tuple t = tuple(family);
	struct td_net_tmpl tm;
	struct td_net_pkt pkt;
	static uint8_t buf[70000], payload[65536];
	uint64_t seed = 42 + len;

	for (uint32_t i = 0; i < len; i++)
		payload[i] = (uint8_t)xorshift(&seed);
	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	struct td_tcp_out o = {
		.tuple = &t,
		.seq = 0xfffffffe,
		.ack = 0x7fffffff,
		.flags = (uint8_t)(syn ? TD_TH_SYN | TD_TH_ACK : TD_TH_ACK | TD_TH_PSH),
		.wnd = 0xfedc,
		.len = len};
	o.optlen = (uint8_t)td_tcp_opts_write(opts, syn, o.opts);
	int n = td_net_build_tcp(&tm, &o, payload, 0, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq((uint32_t)n, td_net_tcp_payload_off(&tm, o.optlen) + len);

	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_TCP,
		     "family %u len %u: %s", family, len, td_net_drop_name(pkt.drop));
	const struct td_seg *s = &pkt.seg;
	cr_expect_eq(s->tuple.family, family);
	cr_expect_arr_eq(s->tuple.laddr, t.raddr, 16, "the peer sees itself as local");
	cr_expect_arr_eq(s->tuple.raddr, t.laddr, 16);
	cr_expect_eq(s->tuple.lport, t.rport);
	cr_expect_eq(s->tuple.rport, t.lport);
	cr_expect_eq(s->seq, o.seq);
	cr_expect_eq(s->ack, o.ack);
	cr_expect_eq(s->flags, o.flags);
	cr_expect_eq(s->wnd, o.wnd);
	cr_expect_eq(s->optlen, o.optlen);
	cr_assert_eq(s->len, len);
	if (len > 0)
		cr_assert_arr_eq(s->data, payload, len);
	struct td_tcp_opts got;
	cr_assert_eq(td_tcp_opts_parse(s->opts, s->optlen, &got), 0);
	cr_expect_eq(got.has, opts->has);
	if (opts->has & TD_OPT_MSS)
		cr_expect_eq(got.mss, opts->mss);
	if (opts->has & TD_OPT_WSCALE)
		cr_expect_eq(got.wscale, opts->wscale);
	if (opts->has & TD_OPT_TS) {
		cr_expect_eq(got.ts_val, opts->ts_val);
		cr_expect_eq(got.ts_ecr, opts->ts_ecr);
	}
	cr_expect_eq(got.nsack, opts->nsack);
	for (unsigned i = 0; i < got.nsack; i++) {
		cr_expect_eq(got.sack[i][0], opts->sack[i][0]);
		cr_expect_eq(got.sack[i][1], opts->sack[i][1]);
	}
}

Test(roundtrip, ipv4_and_ipv6_with_options_and_payload)
{
	struct td_tcp_opts syn = {.has = TD_OPT_MSS | TD_OPT_WSCALE | TD_OPT_SACKOK | TD_OPT_TS,
				  .mss = 1440,
				  .wscale = 9,
				  .ts_val = 0xdeadbeef,
				  .ts_ecr = 0x01020304};
	struct td_tcp_opts data = {.has = TD_OPT_TS | TD_OPT_SACK,
				   .ts_val = 77,
				   .ts_ecr = 66,
				   .nsack = 3,
				   .sack = {{100, 200}, {300, 400}, {0xfffffff0, 5}}};
	struct td_tcp_opts none = {0};
	static const uint32_t lens[] = {0, 1, 2, 3, 17, 536, 1460, 9000, 65535 - 20 - 60};

	for (uint8_t family = 4; family <= 6; family += 2) {
		roundtrip(family, &syn, true, 0);
		for (unsigned i = 0; i < TD_ARRAY_SIZE(lens); i++) {
			roundtrip(family, &data, false, lens[i]);
			roundtrip(family, &none, false, lens[i]);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Offload, limits, errors                                                    */

/* What a port does with the offload flags: the IPv4 header checksum over the
 * header with the field 0; the TCP checksum over the segment, starting from
 * the pseudo-header sum the builder left in the field. */
static void
finish_like_a_port(uint8_t *f, const struct td_net_tmpl *tm, uint32_t len)
{
	uint8_t *ip = f + tm->l2_len, *th = f + tm->hdr_len;

	if (tm->family == 4) {
		cr_assert_eq(get16(ip + 10), 0, "IP checksum left 0 for the port");
		put16(ip + 10, td_net_cksum(ip, 20));
	}
	put16(th + 16, td_net_cksum_finish(td_net_cksum_add(0, th, len - tm->hdr_len)));
}

Test(build, checksum_offload)
{
	static uint8_t full[2000], off[2000];

	for (uint8_t family = 4; family <= 6; family += 2) {
		struct td_tuple t = tuple(family);
		struct td_net_tmpl tm;
		cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
		for (uint32_t len = 0; len < 1500; len += 97) {
			uint8_t pl[1500];
			memset(pl, (int)len, len);
			struct td_tcp_out o =
				out(&t, len, ~len, TD_TH_ACK, 1000, TS_OPTS, sizeof(TS_OPTS), len);
			int n = td_net_build_tcp(&tm, &o, pl, 0, full, sizeof(full));
			int m = td_net_build_tcp(&tm, &o, pl,
						 TD_NET_TX_NO_IP_CKSUM | TD_NET_TX_NO_TCP_CKSUM,
						 off, sizeof(off));
			cr_assert_eq(n, m);
			/* The field holds the pseudo-header sum with the TCP length. */
			uint32_t l4 = (uint32_t)n - tm.hdr_len;
			uint8_t *ip = off + tm.l2_len;
			uint32_t ph = family == 4 ? td_net_pseudo4(ip + 12, ip + 16, 6, l4)
						  : td_net_pseudo6(ip + 8, ip + 24, 6, l4);
			cr_assert_eq(get16(off + tm.hdr_len + 16), ph);
			finish_like_a_port(off, &tm, (uint32_t)n);
			cr_assert_arr_eq(off, full, (size_t)n, "family %u len %u", family, len);
		}
	}
}

Test(build, errors_write_nothing)
{
	struct td_tuple t = tuple(4), bad = tuple(4);
	struct td_net_tmpl tm;
	uint8_t buf[2000], ref[2000];
	struct td_tcp_out o = out(&t, 1, 2, TD_TH_ACK, 3, TS_OPTS, sizeof(TS_OPTS), 100);

	bad.family = 5;
	cr_expect_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &bad), -TD_EINVAL);
	cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
	memset(buf, 0xa5, sizeof(buf));
	memcpy(ref, buf, sizeof(buf));
	uint32_t need = td_net_tcp_payload_off(&tm, o.optlen) + o.len;
	cr_expect_eq(td_net_build_tcp(&tm, &o, buf, 0, buf + 1000, need - 1), -TD_ENOSPC);
	o.optlen = 41;
	cr_expect_eq(td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf)), -TD_EINVAL);
	o.optlen = 0;
	o.len = 65535 - 20 - 20 + 1; /* the IPv4 total length would be 65536 */
	cr_expect_eq(td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf)), -TD_EINVAL);
	o.len = 0x10000000;
	cr_expect_eq(td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf)), -TD_EINVAL);
	cr_expect_arr_eq(buf, ref, sizeof(buf));

	uint8_t small[TD_NET_ND_FRAME_MAX];
	struct td_net_pkt pkt;
	cr_assert_eq(parse(arp_req_in, sizeof(arp_req_in), &pkt), TD_NET_KIND_ARP);
	cr_expect_eq(td_net_build_arp_reply(&nif_us, &pkt, small, 41), -TD_ENOSPC);
	cr_expect_eq(td_net_build_arp_request(&nif_us, US4, PEER4, small, 41), -TD_ENOSPC);
	cr_assert_eq(parse(ns_in, sizeof(ns_in), &pkt), TD_NET_KIND_NS);
	cr_expect_eq(td_net_build_na(&nif_us, &pkt, small, 85), -TD_ENOSPC);
	cr_expect_eq(td_net_build_ns(&nif_us, US6, PEER6, NULL, small, 85), -TD_ENOSPC);
	/* Replies only to what asked for one of our addresses. */
	cr_expect_eq(td_net_build_arp_reply(&nif_us, &pkt, small, sizeof(small)), -TD_EINVAL);
	cr_assert_eq(parse(arp_req_in, sizeof(arp_req_in), &pkt), TD_NET_KIND_ARP);
	cr_expect_eq(td_net_build_na(&nif_us, &pkt, small, sizeof(small)), -TD_EINVAL);
	pkt.arp.op = TD_NET_ARP_REPLY;
	cr_expect_eq(td_net_build_arp_reply(&nif_us, &pkt, small, sizeof(small)), -TD_EINVAL);
	pkt.arp.op = TD_NET_ARP_REQUEST;
	pkt.arp.tpa[3] = 9;
	cr_expect_eq(td_net_build_arp_reply(&nif_us, &pkt, small, sizeof(small)), -TD_EINVAL);
}

/* The largest segments the IP length fields allow. */
Test(build, largest_segments)
{
	static uint8_t buf[70000];
	struct td_net_pkt pkt;

	for (uint8_t family = 4; family <= 6; family += 2) {
		struct td_tuple t = tuple(family);
		struct td_net_tmpl tm;
		cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);
		uint32_t max = 65535 - 20 - (family == 4 ? 20 : 0);
		struct td_tcp_out o = out(&t, 1, 2, TD_TH_ACK, 3, NULL, 0, max);
		memset(buf, 0x33, sizeof(buf));
		int n = td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf));
		cr_assert_eq(n, (int)(tm.hdr_len + 20 + max));
		cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_TCP);
		cr_expect_eq(pkt.seg.len, max);
		o.len = max + 1;
		cr_expect_eq(td_net_build_tcp(&tm, &o, NULL, 0, buf, sizeof(buf)), -TD_EINVAL);
	}
}

/* ------------------------------------------------------------------------ */
/* ARP and neighbour discovery                                                */

Test(neigh, arp_request_to_reply)
{
	struct td_net_pkt pkt;
	uint8_t buf[TD_NET_ARP_FRAME_MAX];

	cr_assert_eq(parse(arp_req_in, sizeof(arp_req_in), &pkt), TD_NET_KIND_ARP);
	int n = td_net_build_arp_reply(&nif_us, &pkt, buf, sizeof(buf));
	expect_frame(buf, n, arp_reply_out, sizeof(arp_reply_out));
	/* The requester learns our address from it. */
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_ARP);
	cr_expect_eq(pkt.arp.op, TD_NET_ARP_REPLY);
	cr_expect_arr_eq(pkt.arp.sha, US_MAC, 6);
	cr_expect_arr_eq(pkt.arp.spa, US4, 4);
}

Test(neigh, arp_request_for_resolution)
{
	struct td_net_pkt pkt;
	uint8_t buf[TD_NET_ARP_FRAME_MAX];

	int n = td_net_build_arp_request(&nif_us, US4, PEER4, buf, sizeof(buf));
	expect_frame(buf, n, arp_req_out, sizeof(arp_req_out));
	/* The peer answers with our builder too; we parse its reply. */
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_ARP);
	uint8_t rep[TD_NET_ARP_FRAME_MAX];
	int m = td_net_build_arp_reply(&nif_peer, &pkt, rep, sizeof(rep));
	cr_assert_gt(m, 0);
	cr_assert_eq(parse(rep, (uint32_t)m, &pkt), TD_NET_KIND_ARP);
	cr_expect_eq(pkt.arp.op, TD_NET_ARP_REPLY);
	cr_expect_arr_eq(pkt.arp.sha, PEER_MAC, 6);
	cr_expect_arr_eq(pkt.arp.spa, PEER4, 4);
}

/* RFC 5227 probe: sender address 0; the reply defends our address. */
Test(neigh, arp_probe_answered)
{
	uint8_t f[sizeof(arp_req_in)], buf[TD_NET_ARP_FRAME_MAX];
	struct td_net_pkt pkt;

	memcpy(f, arp_req_in, sizeof(f));
	memset(f + L3 + 14, 0, 4);
	cr_assert_eq(parse(f, sizeof(f), &pkt), TD_NET_KIND_ARP);
	int n = td_net_build_arp_reply(&nif_us, &pkt, buf, sizeof(buf));
	cr_assert_eq(n, 42);
	cr_expect_arr_eq(buf, PEER_MAC, 6);
	cr_expect_eq(get32(buf + L3 + 24), 0);
}

Test(neigh, arp_on_vlan)
{
	uint8_t buf[TD_NET_ARP_FRAME_MAX];
	struct td_net_pkt pkt;

	cr_assert_eq(td_net_if_set_vlan(&nif_us, 7), 0);
	cr_assert_eq(td_net_if_set_vlan(&nif_peer, 7), 0);
	int n = td_net_build_arp_request(&nif_us, US4, PEER4, buf, sizeof(buf));
	cr_assert_eq(n, TD_NET_ARP_FRAME_MAX);
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_ARP);
	cr_expect_eq(pkt.vlan, 7);
	cr_expect_eq(pkt.l3_off, 18);
}

Test(neigh, ns_to_na)
{
	struct td_net_pkt pkt;
	uint8_t buf[TD_NET_ND_FRAME_MAX];

	cr_assert_eq(parse(ns_in, sizeof(ns_in), &pkt), TD_NET_KIND_NS);
	int n = td_net_build_na(&nif_us, &pkt, buf, sizeof(buf));
	expect_frame(buf, n, na_out, sizeof(na_out));
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_NA);
	cr_expect_arr_eq(pkt.nd.target, US6, 16);
	cr_expect_arr_eq(pkt.nd.lla, US_MAC, 6);
	cr_expect_eq(pkt.nd.flags, TD_NET_NA_SOLICITED | TD_NET_NA_OVERRIDE);
}

Test(neigh, dad_ns_to_all_nodes_na)
{
	struct td_net_pkt pkt;
	uint8_t buf[TD_NET_ND_FRAME_MAX];

	cr_assert_eq(parse(ns_dad_in, sizeof(ns_dad_in), &pkt), TD_NET_KIND_NS);
	int n = td_net_build_na(&nif_us, &pkt, buf, sizeof(buf));
	expect_frame(buf, n, na_dad_out, sizeof(na_dad_out));
}

/* A unicast NS (reachability) without the option: answered to the frame's
 * source address. */
Test(neigh, unicast_ns_without_option)
{
	struct td_net_pkt pkt;
	uint8_t buf[TD_NET_ND_FRAME_MAX];

	int n = td_net_build_ns(&nif_peer, PEER6, US6, US_MAC, buf, sizeof(buf));
	cr_assert_eq(n, 86);
	/* Drop the option, as a node may. */
	put16(buf + L3 + 4, 24);
	refresh(buf, (uint32_t)n - 8);
	cr_assert_eq(parse(buf, (uint32_t)n - 8, &pkt), TD_NET_KIND_NS);
	cr_assert_not(pkt.nd.has_lla);
	cr_expect_arr_eq(pkt.nd.dst, US6, 16);
	n = td_net_build_na(&nif_us, &pkt, buf, sizeof(buf));
	cr_assert_eq(n, 86);
	cr_expect_arr_eq(buf, PEER_MAC, 6);
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_NA);
}

Test(neigh, ns_for_resolution)
{
	struct td_net_pkt pkt;
	uint8_t buf[TD_NET_ND_FRAME_MAX];

	int n = td_net_build_ns(&nif_us, US6, PEER6, NULL, buf, sizeof(buf));
	expect_frame(buf, n, ns_out, sizeof(ns_out));
	/* The peer answers with our builder; we learn its address. */
	cr_assert_eq(parse_as(&nif_peer, buf, (uint32_t)n, 0, &pkt), TD_NET_KIND_NS);
	uint8_t na[TD_NET_ND_FRAME_MAX];
	int m = td_net_build_na(&nif_peer, &pkt, na, sizeof(na));
	cr_assert_gt(m, 0);
	cr_assert_eq(parse(na, (uint32_t)m, &pkt), TD_NET_KIND_NA);
	cr_expect_arr_eq(pkt.nd.target, PEER6, 16);
	cr_expect(pkt.nd.has_lla);
	cr_expect_arr_eq(pkt.nd.lla, PEER_MAC, 6);
}
