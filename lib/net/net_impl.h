/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_NET_IMPL_H
#define TD_NET_IMPL_H

/* Private to lib/net: big-endian loads and stores that need no alignment, and
 * address classification shared by the parser and the builders. */

#include <string.h>

#include "td_net.h"

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An IPv4 address no host may send from: 0/8 ("this network"), 127/8
 * (loopback), 224/4 (multicast) and everything above it, the limited
 * broadcast included (RFC 1122 3.2.1.3). */
static inline bool
ip4_martian(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static inline bool
ip6_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool
ip6_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static inline bool
ip6_loopback(const uint8_t *a)
{
	static const uint8_t one[16] = {[15] = 1};

	return memcmp(a, one, 16) == 0;
}

/* ff02::1, all nodes on the link (RFC 4291 2.7.1). */
static inline bool
ip6_all_nodes(const uint8_t *a)
{
	static const uint8_t all[16] = {0xff, 0x02, [15] = 1};

	return memcmp(a, all, 16) == 0;
}

/* ff02::1:ff00:0/104, a solicited-node multicast address (RFC 4291 2.7.1). */
static inline bool
ip6_solicited_node(const uint8_t *a)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	return memcmp(a, pfx, 13) == 0;
}

/* Write the solicited-node multicast address of @p target. */
static inline void
ip6_make_solicited_node(uint8_t *dst, const uint8_t *target)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	memcpy(dst, pfx, 13);
	memcpy(dst + 13, target + 13, 3);
}

/* True if one of our IPv6 addresses has the solicited-node group of @p a. */
bool net_ours6_group(const struct td_net_if *nif, const uint8_t *a);

#endif /* TD_NET_IMPL_H */
