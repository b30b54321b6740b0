/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t US4[4] = {198, 18, 0, 1};
const uint8_t PEER4[4] = {198, 18, 0, 2};
const uint8_t US6[16] = {0x20, 0x01, 0, 0x02, [15] = 0x01};
const uint8_t PEER6[16] = {0x20, 0x01, 0, 0x02, [15] = 0x02};

struct td_net_if nif_us, nif_peer;
struct td_net_stats st;
bool drop_seen[TD_NET_DROP_MAX];

static uint8_t *frame_copy;

void
setup(void)
{
	td_net_if_init(&nif_us, US_MAC);
	cr_assert_eq(td_net_if_add4(&nif_us, US4, 1), 0);
	cr_assert_eq(td_net_if_add6(&nif_us, US6, 1), 0);
	td_net_if_init(&nif_peer, PEER_MAC);
	cr_assert_eq(td_net_if_add4(&nif_peer, PEER4, 1), 0);
	cr_assert_eq(td_net_if_add6(&nif_peer, PEER6, 1), 0);
	memset(&st, 0, sizeof(st));
	memset(drop_seen, 0, sizeof(drop_seen));
}

void
teardown(void)
{
	free(frame_copy);
	frame_copy = NULL;
}

static uint64_t
total(const struct td_net_stats *s)
{
	uint64_t n = td_net_stats_dropped(s);

	for (unsigned i = 0; i < TD_NET_KIND_MAX; i++)
		n += s->rx[i];
	return n;
}

int
parse_as(const struct td_net_if *nif, const uint8_t *f, uint32_t len, unsigned rx_flags,
	 struct td_net_pkt *pkt)
{
	struct td_net_stats before = st;

	free(frame_copy);
	frame_copy = malloc(len);
	cr_assert(len == 0 || frame_copy != NULL);
	if (len > 0)
		memcpy(frame_copy, f, len);
	memset(pkt, 0x5a, sizeof(*pkt));
	int rc = td_net_parse(&st, nif, frame_copy, len, rx_flags, pkt);

	cr_assert_eq(total(&st), total(&before) + 1, "every frame is counted once");
	if (rc >= 0) {
		cr_assert_lt(rc, TD_NET_KIND_MAX);
		cr_assert_eq(pkt->kind, rc);
		cr_assert_eq(st.rx[rc], before.rx[rc] + 1);
	} else {
		cr_assert_lt((unsigned)pkt->drop, TD_NET_DROP_MAX);
		cr_assert_eq(rc, (int)td_net_drop_class(pkt->drop),
			     "%s has class %d, parse said %d", td_net_drop_name(pkt->drop),
			     td_net_drop_class(pkt->drop), rc);
		cr_assert_eq(st.drops[pkt->drop], before.drops[pkt->drop] + 1);
	}
	return rc;
}

int
parse(const uint8_t *f, uint32_t len, struct td_net_pkt *pkt)
{
	return parse_as(&nif_us, f, len, 0, pkt);
}

void
expect_drop_flags(const uint8_t *f, uint32_t len, unsigned rx_flags, enum td_net_drop reason)
{
	struct td_net_pkt pkt;
	int rc = parse_as(&nif_us, f, len, rx_flags, &pkt);

	cr_assert_lt(rc, 0, "expected %s, got kind %d", td_net_drop_name(reason), rc);
	cr_assert_eq(pkt.drop, reason, "expected %s, got %s", td_net_drop_name(reason),
		     td_net_drop_name(pkt.drop));
	drop_seen[reason] = true;
}

void
expect_drop(const uint8_t *f, uint32_t len, enum td_net_drop reason)
{
	expect_drop_flags(f, len, 0, reason);
}

static void
refresh_l4(uint8_t *l4, uint32_t n, uint32_t pseudo, uint8_t proto)
{
	uint32_t off = proto == TD_NET_PROTO_TCP ? 16 : 2;

	if ((proto != TD_NET_PROTO_TCP && proto != TD_NET_PROTO_ICMPV6) || n < off + 2)
		return;
	put16(l4 + off, 0);
	put16(l4 + off, td_net_cksum_finish(td_net_cksum_add(pseudo, l4, n)));
}

void
refresh(uint8_t *f, uint32_t len)
{
	if (len < 14)
		return;
	uint32_t off = 14;
	uint16_t type = get16(f + 12);
	if (type == TD_NET_ETHERTYPE_VLAN) {
		if (len < 18)
			return;
		type = get16(f + 16);
		off = 18;
	}
	uint8_t *ip = f + off;
	uint32_t n = len - off;
	if (type == TD_NET_ETHERTYPE_IPV4 && n >= 20) {
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		if (ihl < 20 || ihl > n)
			return;
		put16(ip + 10, 0);
		put16(ip + 10, td_net_cksum(ip, ihl));
		uint32_t tot = TD_MIN(get16(ip + 2), n);
		if (tot >= ihl)
			refresh_l4(ip + ihl, tot - ihl,
				   td_net_pseudo4(ip + 12, ip + 16, ip[9], tot - ihl), ip[9]);
	} else if (type == TD_NET_ETHERTYPE_IPV6 && n >= 40) {
		uint32_t plen = TD_MIN(get16(ip + 4), n - 40);
		refresh_l4(ip + 40, plen, td_net_pseudo6(ip + 8, ip + 24, ip[6], plen), ip[6]);
	}
}
