/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "net_impl.h"

void
td_net_if_init(struct td_net_if *nif, const uint8_t mac[6])
{
	memset(nif, 0, sizeof(*nif));
	memcpy(nif->mac, mac, 6);
	nif->ttl = 64;
}

int
td_net_if_add4(struct td_net_if *nif, const uint8_t first[4], uint32_t count)
{
	uint32_t a = rd32(first);

	if (count == 0 || a + (count - 1) < a)
		return -TD_EINVAL;
	uint8_t last[4];
	wr32(last, a + (count - 1));
	/* 0/8, 127/8 and 224/4 and above leave two spans of host addresses,
	 * 1.0.0.0 - 126.255.255.255 and 128.0.0.0 - 223.255.255.255: a range
	 * is good when both its ends are in the same span. */
	if (ip4_martian(first) || ip4_martian(last) || (first[0] < 127) != (last[0] < 127))
		return -TD_EINVAL;
	if (nif->n4 >= TD_NET_MAX_RANGES)
		return -TD_ENOSPC;
	memcpy(nif->ip4[nif->n4].first, first, 4);
	nif->ip4[nif->n4].count = count;
	nif->n4++;
	return 0;
}

int
td_net_if_add6(struct td_net_if *nif, const uint8_t first[16], uint32_t count)
{
	static const uint8_t zero[12];
	uint32_t lo = rd32(first + 12);

	if (count == 0 || lo + (count - 1) < lo)
		return -TD_EINVAL;
	/* Only the last 32 bits count up, so the first 12 bytes classify the
	 * whole range; :: and ::1 are the only addresses to keep out below. */
	if (ip6_multicast(first) || (memcmp(first, zero, 12) == 0 && lo <= 1))
		return -TD_EINVAL;
	if (nif->n6 >= TD_NET_MAX_RANGES)
		return -TD_ENOSPC;
	memcpy(nif->ip6[nif->n6].first, first, 16);
	nif->ip6[nif->n6].count = count;
	nif->n6++;
	return 0;
}

int
td_net_if_set_vlan(struct td_net_if *nif, uint16_t vid)
{
	if (vid > 4094)
		return -TD_EINVAL;
	nif->vlan = vid;
	return 0;
}

bool
td_net_ours4(const struct td_net_if *nif, const uint8_t a[4])
{
	uint32_t v = rd32(a);

	for (unsigned i = 0; i < nif->n4; i++)
		if (v - rd32(nif->ip4[i].first) < nif->ip4[i].count)
			return true;
	return false;
}

bool
td_net_ours6(const struct td_net_if *nif, const uint8_t a[16])
{
	uint32_t v = rd32(a + 12);

	for (unsigned i = 0; i < nif->n6; i++) {
		const struct td_net_range6 *r = &nif->ip6[i];
		if (v - rd32(r->first + 12) < r->count && memcmp(a, r->first, 12) == 0)
			return true;
	}
	return false;
}

/* The solicited-node group carries the low 24 bits of an address. In a range
 * first + k, k < count, the smallest k whose address has the low 24 bits x is
 * (x - first) mod 2^24, so the group is ours when that k is below count. The
 * upper 104 bits of the target are checked later, against the NS target. */
bool
net_ours6_group(const struct td_net_if *nif, const uint8_t *a)
{
	uint32_t x = rd32(a + 12) & 0xffffff;

	for (unsigned i = 0; i < nif->n6; i++) {
		const struct td_net_range6 *r = &nif->ip6[i];
		if (((x - rd32(r->first + 12)) & 0xffffff) < r->count)
			return true;
	}
	return false;
}

/* Names, texts and classes of the drop reasons, from the one map. */
static const char *const drop_names[] = {
#define TD_NET_DROP_NAME(name, cls, text) #name,
	TD_NET_DROP_MAP(TD_NET_DROP_NAME)
#undef TD_NET_DROP_NAME
};
static const char *const drop_texts[] = {
#define TD_NET_DROP_TEXT(name, cls, text) text,
	TD_NET_DROP_MAP(TD_NET_DROP_TEXT)
#undef TD_NET_DROP_TEXT
};
static const int8_t drop_classes[] = {
#define TD_NET_DROP_CLASS(name, cls, text) TD_NET_CLASS_##cls,
	TD_NET_DROP_MAP(TD_NET_DROP_CLASS)
#undef TD_NET_DROP_CLASS
};
static_assert(TD_ARRAY_SIZE(drop_names) == TD_NET_DROP_MAX, "one name per drop reason");
static_assert(TD_ARRAY_SIZE(drop_classes) == TD_NET_DROP_MAX, "one class per drop reason");

const char *
td_net_drop_name(enum td_net_drop d)
{
	return (unsigned)d < TD_NET_DROP_MAX ? drop_names[d] : "?";
}

const char *
td_net_drop_text(enum td_net_drop d)
{
	return (unsigned)d < TD_NET_DROP_MAX ? drop_texts[d] : "?";
}

enum td_net_class
td_net_drop_class(enum td_net_drop d)
{
	return (unsigned)d < TD_NET_DROP_MAX ? (enum td_net_class)drop_classes[d]
					     : TD_NET_CLASS_INVALID;
}

const char *
td_net_kind_name(enum td_net_kind k)
{
	switch (k) {
	case TD_NET_KIND_TCP:
		return "TCP";
	case TD_NET_KIND_ARP:
		return "ARP";
	case TD_NET_KIND_NS:
		return "NS";
	case TD_NET_KIND_NA:
		return "NA";
	case TD_NET_KIND_MAX:
		break;
	}
	return "?";
}

void
td_net_stats_add(struct td_net_stats *sum, const struct td_net_stats *s)
{
	for (unsigned i = 0; i < TD_NET_KIND_MAX; i++)
		sum->rx[i] += s->rx[i];
	for (unsigned i = 0; i < TD_NET_DROP_MAX; i++)
		sum->drops[i] += s->drops[i];
	sum->ip4_options += s->ip4_options;
}

uint64_t
td_net_stats_dropped(const struct td_net_stats *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < TD_NET_DROP_MAX; i++)
		n += s->drops[i];
	return n;
}
