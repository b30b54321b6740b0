/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz-style loops with a fixed seed: random bytes, and valid frames with a
 * few bytes changed (checksums fixed or not, so that the deeper layers are
 * reached too). The parser must never crash or read past the frame (run
 * under ASan), and must keep its contract on every input.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "harness.h"
#include "vectors.h"

TestSuite(fuzz, .init = setup, .fini = teardown);

/* The result's pointers stay inside the frame and add up. */
static void
check_result(int rc, const struct td_net_pkt *pkt, uint32_t len)
{
	if (rc != TD_NET_KIND_TCP)
		return;
	const struct td_seg *s = &pkt->seg;
	cr_assert_leq((uint32_t)pkt->l4_off + 20 + s->optlen + s->len, len);
	cr_assert_eq(s->opts == NULL, s->optlen == 0);
	cr_assert_eq(s->data == NULL, s->len == 0);
	cr_assert(s->tuple.family == 4 || s->tuple.family == 6);
	cr_assert(s->tuple.lport != 0 && s->tuple.rport != 0);
}

Test(fuzz, random_bytes)
{
	uint8_t f[256];
	uint64_t seed = 0x7d7d7d7d;
	struct td_net_pkt pkt;

	for (unsigned i = 0; i < 100000; i++) {
		uint32_t len = (uint32_t)(xorshift(&seed) % sizeof(f));
		for (uint32_t k = 0; k < len; k++)
			f[k] = (uint8_t)xorshift(&seed);
		/* Mostly to us, with a known EtherType, so the IP layers see
		 * random bytes too. */
		if (len >= 14 && i % 8 != 0) {
			static const uint16_t types[] = {0x0800, 0x86dd, 0x0806, 0x8100};
			unsigned t = (i >> 3) % 4;
			memcpy(f, US_MAC, 6);
			f[6] &= 0xfe;
			put16(f + 12, types[t]);
			if (len >= 18 && t == 3) {
				f[14] &= 0xf0; /* a priority tag: VLAN 0 */
				f[15] = 0;
				put16(f + 16, types[(i >> 5) % 3]);
			}
		}
		int rc = parse(f, len, &pkt);
		check_result(rc, &pkt, len);
	}
	cr_expect_eq(td_net_stats_dropped(&st) + st.rx[0] + st.rx[1] + st.rx[2] + st.rx[3], 100000);
}

Test(fuzz, mutated_frames)
{
	static const struct {
		const uint8_t *f;
		uint32_t len;
	} seeds[] = {
		{v4_syn_in, sizeof(v4_syn_in)},   {v4_ipopt_data_in, sizeof(v4_ipopt_data_in)},
		{v6_data_in, sizeof(v6_data_in)}, {arp_req_in, sizeof(arp_req_in)},
		{ns_in, sizeof(ns_in)},           {ns_dad_in, sizeof(ns_dad_in)},
		{na_in, sizeof(na_in)},
	};
	uint8_t f[256];
	uint64_t seed = 0xfeedface;
	struct td_net_pkt pkt;
	uint64_t accepted = 0;

	for (unsigned i = 0; i < 200000; i++) {
		unsigned which = (unsigned)(xorshift(&seed) % TD_ARRAY_SIZE(seeds));
		uint32_t len = seeds[which].len;
		memcpy(f, seeds[which].f, len);
		unsigned nflips = 1 + (unsigned)(xorshift(&seed) % 4);
		for (unsigned k = 0; k < nflips; k++) {
			uint32_t at = (uint32_t)(xorshift(&seed) % len);
			f[at] = (i & 8) ? (uint8_t)xorshift(&seed)
					: f[at] ^ (uint8_t)(1u << (k & 7));
		}
		/* Sometimes cut or extend it. */
		if (i % 5 == 0)
			len = (uint32_t)(xorshift(&seed) % (len + 1));
		else if (i % 5 == 1) {
			uint32_t more = (uint32_t)(xorshift(&seed) % 64);
			memset(f + len, (int)i, more);
			len += more;
		}
		if (i & 1)
			refresh(f, len);
		int rc = parse(f, len, &pkt);
		check_result(rc, &pkt, len);
		accepted += rc >= 0;
	}
	cr_expect_gt(accepted, 1000, "mutations that keep a frame valid are accepted");
}
