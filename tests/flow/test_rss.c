/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Both directions of a flow on one queue: the software Toeplitz hash
 * (rte_softrss() through td_flow_rss_hash()) with the symmetric key gives the
 * same hash, hence the same queue, for a flow and its reverse. The hash
 * itself is checked against Microsoft's RSS verification suite, so that the
 * order of addresses and ports is the NIC's. No EAL needed.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "td_flow.h"

/* The key of Microsoft's "Verifying the RSS Hash Calculation", also the
 * default of many NICs. */
static const uint8_t ms_key[TD_FLOW_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return rte_cpu_to_be_32((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

Test(rss, matches_the_microsoft_verification_suite)
{
	struct td_flow_key k;
	/* Received segment: source 66.9.149.187:2794, destination
	 * 161.142.100.80:1766, so remote = source, local = destination. */
	td_flow_key_v4(&k, ip4(161, 142, 100, 80), ip4(66, 9, 149, 187), rte_cpu_to_be_16(1766),
		       rte_cpu_to_be_16(2794));
	cr_expect_eq(td_flow_rss_hash(&k, ms_key), 0x51ccc178);

	/* Source 3ffe:2501:200:1fff::7 port 2794, destination
	 * 3ffe:2501:200:3::1 port 1766. */
	const uint8_t src[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff,
				 0,    0,    0,    0,    0,    0,    0,    7};
	const uint8_t dst[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03,
				 0,    0,    0,    0,    0,    0,    0,    1};
	td_flow_key_v6(&k, dst, src, rte_cpu_to_be_16(1766), rte_cpu_to_be_16(2794));
	cr_expect_eq(td_flow_rss_hash(&k, ms_key), 0x40207d3d);
}

Test(rss, symmetric_key_is_6d5a_repeated)
{
	uint8_t key[52];

	td_flow_rss_key_symmetric(key, sizeof(key));
	for (size_t i = 0; i < sizeof(key); i += 2) {
		cr_expect_eq(key[i], 0x6d);
		cr_expect_eq(key[i + 1], 0x5a);
	}
}

static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
random_key(struct td_flow_key *k, uint8_t family, uint64_t *rng)
{
	uint64_t a = next(rng), b = next(rng);

	if (family == TD_FLOW_V6) {
		uint8_t l[16], r[16];

		for (unsigned i = 0; i < 16; i++) {
			l[i] = (uint8_t)(next(rng) >> 32);
			r[i] = (uint8_t)(next(rng) >> 32);
		}
		td_flow_key_v6(k, l, r, (uint16_t)a, (uint16_t)b);
		return;
	}
	td_flow_key_v4(k, (uint32_t)a, (uint32_t)(a >> 32), (uint16_t)b, (uint16_t)(b >> 16));
}

/* A redirection table of 128 entries over 4 queues, as a port spreads it by
 * default (entry i -> queue i % 4). */
static void
reta_default(uint16_t *reta)
{
	for (unsigned i = 0; i < 128; i++)
		reta[i] = (uint16_t)(i % 4);
}

static void
both_directions_same_queue(uint8_t family)
{
	uint8_t key[TD_FLOW_RSS_KEY_LEN];
	uint16_t reta[128];
	uint64_t rng = 0x1234567887654321ull;
	unsigned differ_ms = 0, queues[4] = {0};

	td_flow_rss_key_symmetric(key, sizeof(key));
	reta_default(reta);
	for (unsigned i = 0; i < 10000; i++) {
		struct td_flow_key k, rev;
		uint32_t h, hr;

		random_key(&k, family, &rng);
		td_flow_key_reverse(&k, &rev);
		h = td_flow_rss_hash(&k, key);
		hr = td_flow_rss_hash(&rev, key);
		cr_assert_eq(h, hr, "flow %u: %#x one way, %#x the other", i, h, hr);
		cr_assert_eq(td_flow_rss_queue(h, reta, 128), td_flow_rss_queue(hr, reta, 128));
		queues[td_flow_rss_queue(h, reta, 128)]++;
		differ_ms += td_flow_rss_hash(&k, ms_key) != td_flow_rss_hash(&rev, ms_key);
	}
	/* The property is the key's: the usual key is not symmetric. */
	cr_expect_gt(differ_ms, 9900, "the Microsoft key gave the same hash %u times",
		     10000 - differ_ms);
	/* And the symmetric key still spreads flows over every queue. */
	for (unsigned q = 0; q < 4; q++)
		cr_expect_gt(queues[q], 2000, "queue %u got %u of 10000 flows", q, queues[q]);
}

Test(rss, ipv4_both_directions_same_queue)
{
	both_directions_same_queue(TD_FLOW_V4);
}

Test(rss, ipv6_both_directions_same_queue)
{
	both_directions_same_queue(TD_FLOW_V6);
}
