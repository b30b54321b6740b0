/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_NET_TEST_HARNESS_H
#define TD_NET_TEST_HARNESS_H

/* Shared by the lib/net tests: two interfaces on one link ("us" and "peer",
 * the addresses of vectors.h), per-test counters, and a parse that runs on an
 * exact-size heap copy of the frame, so that AddressSanitizer sees any read
 * past its end. */

#include <stdbool.h>
#include <stdint.h>

#include "td_net.h"

extern const uint8_t US_MAC[6], PEER_MAC[6];
extern const uint8_t US4[4], PEER4[4], US6[16], PEER6[16];

/* Our interface and the peer's; setup() fills both and zeroes the counters. */
extern struct td_net_if nif_us, nif_peer;
extern struct td_net_stats st;
/* The reasons expect_drop() has seen since setup(). */
extern bool drop_seen[TD_NET_DROP_MAX];

void setup(void);
void teardown(void);

/*
 * Parse @p len bytes of @p f as received by @p nif, from a heap copy that
 * lives until the next call or teardown() (pkt->seg pointers point into it).
 * Checks the contract on the way: the result is a kind or a class, a drop's
 * class is its reason's, and exactly one counter moved.
 */
int parse_as(const struct td_net_if *nif, const uint8_t *f, uint32_t len, unsigned rx_flags,
	     struct td_net_pkt *pkt);

/* parse_as() by us, without rx flags. */
int parse(const uint8_t *f, uint32_t len, struct td_net_pkt *pkt);

/* Assert that @p f is dropped for @p reason; records the reason as covered. */
void expect_drop(const uint8_t *f, uint32_t len, enum td_net_drop reason);
void expect_drop_flags(const uint8_t *f, uint32_t len, unsigned rx_flags, enum td_net_drop reason);

/*
 * Recompute the lengths-independent checksums of a frame after a test edited
 * it: the IPv4 header checksum, then the TCP or ICMPv6 checksum over what the
 * IP length says (clamped to @p len). Only reads and writes inside @p len.
 */
void refresh(uint8_t *f, uint32_t len);

/* Offsets in an untagged frame. */
#define L3 14
#define L4_4 (L3 + 20)
#define L4_6 (L3 + 40)

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A fixed-seed generator for the fuzz and property tests. */
static inline uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif /* TD_NET_TEST_HARNESS_H */
