/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum against known vectors (RFC 1071, a textbook IPv4
 * header, the frames scapy made in vectors.h) and against a byte-by-byte
 * reference, at every length and alignment; RFC 1624 incremental updates
 * against recomputation.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "harness.h"
#include "vectors.h"

/* The definition, one big-endian word at a time, folded at every step. */
static uint16_t
ref_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
Test(cksum, rfc1071_example)
{
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	cr_expect_eq(td_net_cksum_add(0, b, sizeof(b)), 0xddf2);
	cr_expect_eq(td_net_cksum(b, sizeof(b)), 0x220d);
	/* In even chunks, in any grouping. */
	uint32_t s = 0;
	for (unsigned i = 0; i < sizeof(b); i += 2)
		s = td_net_cksum_add(s, b + i, 2);
	cr_expect_eq(td_net_cksum_fold(s), 0xddf2);
	cr_expect_eq(td_net_cksum_fold(td_net_cksum_add(0, b, 6) + td_net_cksum_add(0, b + 6, 2)),
		     0xddf2);
}

/* A classic IPv4 header (192.168.0.1 -> 192.168.0.199, UDP): checksum b861. */
Test(cksum, ipv4_header)
{
	uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	cr_expect_eq(td_net_cksum_fold(td_net_cksum_add(0, h, sizeof(h))), 0xffff,
		     "a correct header sums to all ones");
	h[10] = h[11] = 0;
	cr_expect_eq(td_net_cksum(h, sizeof(h)), 0xb861);
}

Test(cksum, every_length_and_alignment)
{
	uint8_t buf[300];
	uint64_t seed = 0x1071;

	for (unsigned round = 0; round < 4; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = round == 3 ? 0xff : (uint8_t)xorshift(&seed);
		for (size_t align = 0; align < 8; align++)
			for (size_t len = 0; len + align <= 280; len++)
				cr_assert_eq(td_net_cksum_add(0, buf + align, len),
					     ref_sum(buf + align, len), "len %zu align %zu", len,
					     align);
	}
	/* Nothing but zeros sums to 0; the checksum is then ffff. */
	memset(buf, 0, sizeof(buf));
	cr_expect_eq(td_net_cksum_add(0, buf, 100), 0);
	cr_expect_eq(td_net_cksum(buf, 100), 0xffff);
}

/* The checksum of each scapy frame, recomputed from the pseudo-header and
 * the segment, is the one scapy stored. */
static void
check_l4(const uint8_t *f, uint32_t len, uint32_t l3, bool v6)
{
	uint8_t c[256];

	cr_assert_leq(len, sizeof(c));
	memcpy(c, f, len);
	uint8_t *ip = c + l3;
	uint32_t ihl = v6 ? 40 : (uint32_t)(ip[0] & 15) * 4;
	uint32_t n = v6 ? get16(ip + 4) : get16(ip + 2) - ihl;
	uint8_t proto = v6 ? ip[6] : ip[9];
	uint32_t ph = v6 ? td_net_pseudo6(ip + 8, ip + 24, proto, n)
			 : td_net_pseudo4(ip + 12, ip + 16, proto, n);
	uint8_t *l4 = ip + ihl;
	uint32_t at = proto == TD_NET_PROTO_TCP ? 16 : 2;
	uint16_t want = get16(l4 + at);

	put16(l4 + at, 0);
	cr_expect_eq(td_net_cksum_finish(td_net_cksum_add(ph, l4, n)), want);
	if (!v6) {
		uint16_t ipc = get16(ip + 10);
		put16(ip + 10, 0);
		cr_expect_eq(td_net_cksum(ip, ihl), ipc);
	}
}

Test(cksum, scapy_vectors)
{
	check_l4(v4_syn_in, sizeof(v4_syn_in), L3, false);
	check_l4(v4_ipopt_data_in, sizeof(v4_ipopt_data_in), L3, false);
	check_l4(v6_data_in, sizeof(v6_data_in), L3, true);
	check_l4(v4_synack_out, sizeof(v4_synack_out), L3, false);
	check_l4(v4_vlan_fin_out, sizeof(v4_vlan_fin_out), L3 + 4, false);
	check_l4(ns_in, sizeof(ns_in), L3, true);
	check_l4(ns_dad_in, sizeof(ns_dad_in), L3, true);
	check_l4(na_out, sizeof(na_out), L3, true);
}

/* RFC 1624: updating the field for a changed word gives what recomputing
 * gives, including the sums that are all ones or zero. */
Test(cksum, incremental_update)
{
	uint8_t b[64];
	uint64_t seed = 1624;

	for (unsigned round = 0; round < 20000; round++) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)xorshift(&seed);
		if (round % 7 == 0)
			memset(b, round % 14 ? 0xff : 0, sizeof(b));
		uint16_t ck = td_net_cksum(b, sizeof(b));
		size_t at = (xorshift(&seed) % (sizeof(b) / 4)) * 4;
		uint64_t r = xorshift(&seed);

		if (round & 1) {
			uint16_t from = get16(b + at), to = (uint16_t)r;
			put16(b + at, to);
			ck = td_net_cksum_update16(ck, from, to);
		} else {
			uint32_t from = get32(b + at), to = (uint32_t)r;
			if (round % 4 == 0)
				to = ~from; /* the largest change */
			for (int k = 0; k < 4; k++)
				b[at + k] = (uint8_t)(to >> (24 - 8 * k));
			ck = td_net_cksum_update32(ck, from, to);
		}
		uint16_t full = td_net_cksum(b, sizeof(b));
		/* Both encodings of zero are the same checksum value in ones'
		 * complement; RFC 1624 eqn. 3 produces the one recomputation does
		 * except when every covered word is zero. */
		cr_assert(ck == full || (full == 0xffff && ck == 0) || (full == 0 && ck == 0xffff),
			  "round %u: updated %04x, recomputed %04x", round, ck, full);
	}
}

Test(cksum, pseudo_headers)
{
	/* By hand: 198.18.0.2 -> 198.18.0.1, TCP, 40 bytes. */
	uint32_t want = 0xc612 + 0x0002 + 0xc612 + 0x0001 + 6 + 40;
	cr_expect_eq(td_net_pseudo4(PEER4, US4, 6, 40), td_net_cksum_fold(want));
	/* The length is 32 bits in IPv6. */
	uint32_t s = 0;
	for (int i = 0; i < 16; i += 2)
		s += get16(PEER6 + i) + get16(US6 + i);
	cr_expect_eq(td_net_pseudo6(PEER6, US6, 6, 0x10020), td_net_cksum_fold(s + 6 + 1 + 0x20));
}
