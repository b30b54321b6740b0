/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK's headers use POSIX names (ssize_t, strnlen) that -std=c11 hides. */
#define _POSIX_C_SOURCE 200809L

#include <assert.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_thash.h>

#include "td_flow.h"

static_assert(TD_FLOW_RSS_KEY_LEN >= (RTE_THASH_V6_L4_LEN + 1) * 4,
	      "Toeplitz over an IPv6 TCP tuple reads one key word past the tuple");

void
td_flow_rss_key_symmetric(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (i & 1) ? 0x5a : 0x6d;
}

/* An IPv6 address as rte_softrss() wants it: 32-bit words in CPU order (what
 * rte_thash_load_v6_addrs() does from a header). */
static void
load_v6(uint8_t *dst, const uint8_t *addr)
{
	for (unsigned i = 0; i < 16; i += 4) {
		uint32_t w;

		memcpy(&w, addr + i, 4);
		w = rte_be_to_cpu_32(w);
		memcpy(dst + i, &w, 4);
	}
}

uint32_t
td_flow_rss_hash(const struct td_flow_key *k, const uint8_t *rss_key)
{
	union rte_thash_tuple t;
	uint32_t key[TD_FLOW_RSS_KEY_LEN / 4];

	/* rte_softrss() reads the key as 32-bit words: copy it so that any
	 * byte buffer will do. */
	memcpy(key, rss_key, sizeof(key));
	memset(&t, 0, sizeof(t));
	if (k->family == TD_FLOW_V6) {
		load_v6(t.v6.src_addr, k->v6.raddr);
		load_v6(t.v6.dst_addr, k->v6.laddr);
		t.v6.sport = rte_be_to_cpu_16(k->v6.rport);
		t.v6.dport = rte_be_to_cpu_16(k->v6.lport);
		return rte_softrss((uint32_t *)&t, RTE_THASH_V6_L4_LEN, (const uint8_t *)key);
	}
	t.v4.src_addr = rte_be_to_cpu_32(k->v4.raddr);
	t.v4.dst_addr = rte_be_to_cpu_32(k->v4.laddr);
	t.v4.sport = rte_be_to_cpu_16(k->v4.rport);
	t.v4.dport = rte_be_to_cpu_16(k->v4.lport);
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, (const uint8_t *)key);
}
