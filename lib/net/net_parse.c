/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "net_impl.h"

/* The helpers return a kind (>= 0) or DROP(reason), a negative number that
 * td_net_parse() turns into the reason's class after counting it. Every
 * length is checked before the bytes it covers are read, and the lengths
 * only shrink on the way in: Ethernet gets the frame, IP what follows the
 * Ethernet header, TCP and ICMPv6 what the IP length says. */
#define DROP(reason) (-1 - (int)TD_NET_DROP_##reason)

/* What the layers pass down besides the bytes. */
struct rx {
	const struct td_net_if *nif;
	struct td_net_pkt *pkt;
	unsigned flags;   /* TD_NET_RX_* */
	bool l2_group;    /* the frame went to a broadcast or multicast MAC address */
	bool ip4_options; /* the IPv4 header had options, to count if accepted */
};

/* RFC 9293 3.1. The tuple is written from our point of view, as lib/tcp
 * looks connections up: the destination is the local side. */
static int
parse_tcp(struct rx *rx, const uint8_t *p, uint32_t n, uint32_t pseudo)
{
	struct td_seg *s = &rx->pkt->seg;

	if (n < TD_NET_TCP_LEN)
		return DROP(TRUNCATED_TCP);
	uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < TD_NET_TCP_LEN)
		return DROP(BAD_TCP_DATA_OFFSET);
	if (doff > n)
		return DROP(TRUNCATED_TCP);
	uint16_t sport = rd16(p), dport = rd16(p + 2);
	if (sport == 0 || dport == 0)
		return DROP(BAD_TCP_PORT);
	if (rx->flags & TD_NET_RX_L4_CKSUM_BAD)
		return DROP(BAD_TCP_CHECKSUM);
	if (!(rx->flags & TD_NET_RX_L4_CKSUM_GOOD) &&
	    td_net_cksum_fold(td_net_cksum_add(pseudo, p, n)) != 0xffff)
		return DROP(BAD_TCP_CHECKSUM);

	s->tuple.lport = dport;
	s->tuple.rport = sport;
	s->seq = rd32(p + 4);
	s->ack = rd32(p + 8);
	s->flags = p[13];
	s->wnd = rd16(p + 14);
	s->optlen = (uint8_t)(doff - TD_NET_TCP_LEN);
	s->opts = s->optlen ? p + TD_NET_TCP_LEN : NULL;
	s->len = n - doff;
	s->data = s->len ? p + doff : NULL;
	return TD_NET_KIND_TCP;
}

/* RFC 4861 4.3, 4.4 and the validity checks of 7.1.1 and 7.1.2. */
static int
parse_nd(struct rx *rx, const uint8_t *ip, const uint8_t *p, uint32_t n)
{
	struct td_net_nd *nd = &rx->pkt->nd;
	const uint8_t *src = ip + 8, *dst = ip + 24;

	if (n < 4)
		return DROP(TRUNCATED_ICMP);
	uint8_t type = p[0];
	if (type != TD_NET_ND_NS && type != TD_NET_ND_NA)
		return DROP(UNSUPPORTED_ICMP);
	if (n < TD_NET_ND_LEN)
		return DROP(TRUNCATED_ICMP);
	if (td_net_cksum_fold(td_net_cksum_add(td_net_pseudo6(src, dst, TD_NET_PROTO_ICMPV6, n), p,
					       n)) != 0xffff)
		return DROP(BAD_ICMP_CHECKSUM);
	/* A hop limit of 255 proves the sender is on the link. */
	if (ip[7] != 255)
		return DROP(BAD_ND_HOP_LIMIT);
	const uint8_t *target = p + 8;
	if (p[1] != 0 || ip6_multicast(target))
		return DROP(BAD_ND);

	nd->has_lla = false;
	/* An option whose type and length, or whose declared length, do not
	 * fit in the message is truncated; a length of 0 is invalid. */
	for (uint32_t off = TD_NET_ND_LEN; off < n;) {
		if (n - off < 2)
			return DROP(TRUNCATED_ICMP);
		uint32_t olen = (uint32_t)p[off + 1] * 8;
		if (olen == 0)
			return DROP(BAD_ND);
		if (olen > n - off)
			return DROP(TRUNCATED_ICMP);
		/* Source link-layer address in an NS, target's in an NA; other
		 * options (nonce, ...) are skipped. */
		uint8_t want = type == TD_NET_ND_NS ? 1 : 2;
		if (p[off] == want) {
			memcpy(nd->lla, p + off + 2, 6);
			nd->has_lla = true;
		}
		off += olen;
	}

	bool unspec = ip6_unspecified(src);
	if (type == TD_NET_ND_NS) {
		/* Duplicate address detection: from ::, to the solicited-node
		 * group, and without a link-layer address. */
		if (unspec && (!ip6_solicited_node(dst) || nd->has_lla))
			return DROP(BAD_ND);
		if (!td_net_ours6(rx->nif, target))
			return DROP(NOT_OUR_IP);
		nd->flags = 0;
	} else {
		nd->flags = p[4] & (TD_NET_NA_ROUTER | TD_NET_NA_SOLICITED | TD_NET_NA_OVERRIDE);
		if (unspec || (ip6_multicast(dst) && (nd->flags & TD_NET_NA_SOLICITED)))
			return DROP(BAD_ND);
	}
	memcpy(nd->src, src, 16);
	memcpy(nd->dst, dst, 16);
	memcpy(nd->target, target, 16);
	return type == TD_NET_ND_NS ? TD_NET_KIND_NS : TD_NET_KIND_NA;
}

/* RFC 8200 3 and 4: only TCP and ICMPv6 directly after the fixed header. */
static int
parse_ip6(struct rx *rx, const uint8_t *p, uint32_t n)
{
	if (n < TD_NET_IP6_LEN)
		return DROP(TRUNCATED_IP);
	if (p[0] >> 4 != 6)
		return DROP(BAD_IP_VERSION);
	uint32_t plen = rd16(p + 4);
	if (plen > n - TD_NET_IP6_LEN)
		return DROP(TRUNCATED_IP);
	const uint8_t *src = p + 8, *dst = p + 24;
	if (ip6_multicast(src) || ip6_loopback(src))
		return DROP(BAD_IP_SRC);
	bool unicast = td_net_ours6(rx->nif, dst);
	if (!unicast && !ip6_all_nodes(dst) &&
	    !(ip6_solicited_node(dst) && net_ours6_group(rx->nif, dst)))
		return DROP(NOT_OUR_IP);

	rx->pkt->family = 6;
	switch (p[6]) {
	case TD_NET_PROTO_TCP:
		if (!unicast)
			return DROP(NOT_OUR_IP);
		if (rx->l2_group)
			return DROP(NOT_OUR_MAC);
		if (ip6_unspecified(src))
			return DROP(BAD_IP_SRC);
		memset(&rx->pkt->seg.tuple, 0, sizeof(rx->pkt->seg.tuple));
		memcpy(rx->pkt->seg.tuple.laddr, dst, 16);
		memcpy(rx->pkt->seg.tuple.raddr, src, 16);
		rx->pkt->seg.tuple.family = 6;
		return parse_tcp(rx, p + TD_NET_IP6_LEN, plen,
				 td_net_pseudo6(src, dst, TD_NET_PROTO_TCP, plen));
	case TD_NET_PROTO_ICMPV6:
		return parse_nd(rx, p, p + TD_NET_IP6_LEN, plen);
	case 44: /* Fragment */
		return DROP(IP_FRAGMENT);
	case 0:   /* Hop-by-Hop Options */
	case 43:  /* Routing */
	case 50:  /* Encapsulating Security Payload */
	case 51:  /* Authentication */
	case 60:  /* Destination Options */
	case 135: /* Mobility */
	case 139: /* Host Identity Protocol */
	case 140: /* Shim6 */
	case 253: /* experiments (RFC 3692) */
	case 254:
		return DROP(IP6_EXT_HEADER);
	default:
		return DROP(UNSUPPORTED_L4);
	}
}

/* RFC 791 3.1. Options are skipped: the header length is all we need. */
static int
parse_ip4(struct rx *rx, const uint8_t *p, uint32_t n)
{
	if (n < TD_NET_IP4_LEN)
		return DROP(TRUNCATED_IP);
	if (p[0] >> 4 != 4)
		return DROP(BAD_IP_VERSION);
	uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
	if (ihl < TD_NET_IP4_LEN)
		return DROP(BAD_IP_HDR_LEN);
	if (ihl > n)
		return DROP(TRUNCATED_IP);
	uint32_t total = rd16(p + 2);
	if (total < ihl)
		return DROP(BAD_IP_TOTAL_LEN);
	if (total > n)
		return DROP(TRUNCATED_IP);
	if (rx->flags & TD_NET_RX_IP_CKSUM_BAD)
		return DROP(BAD_IP_CHECKSUM);
	if (!(rx->flags & TD_NET_RX_IP_CKSUM_GOOD) &&
	    td_net_cksum_fold(td_net_cksum_add(0, p, ihl)) != 0xffff)
		return DROP(BAD_IP_CHECKSUM);
	const uint8_t *src = p + 12, *dst = p + 16;
	if (ip4_martian(src))
		return DROP(BAD_IP_SRC);
	if (!td_net_ours4(rx->nif, dst))
		return DROP(NOT_OUR_IP);
	/* More fragments, or a fragment offset: a piece of a larger datagram. */
	if (rd16(p + 6) & 0x3fff)
		return DROP(IP_FRAGMENT);
	if (p[9] != TD_NET_PROTO_TCP)
		return DROP(UNSUPPORTED_L4);
	/* RFC 1122 3.3.6: a unicast datagram in a link-layer broadcast. */
	if (rx->l2_group)
		return DROP(NOT_OUR_MAC);

	rx->pkt->family = 4;
	rx->pkt->l4_off = (uint16_t)(rx->pkt->l3_off + ihl);
	rx->ip4_options = ihl > TD_NET_IP4_LEN;
	struct td_tuple *tu = &rx->pkt->seg.tuple;
	memset(tu, 0, sizeof(*tu));
	memcpy(tu->laddr, dst, 4);
	memcpy(tu->raddr, src, 4);
	tu->family = 4;
	return parse_tcp(rx, p + ihl, total - ihl,
			 td_net_pseudo4(src, dst, TD_NET_PROTO_TCP, total - ihl));
}

/* RFC 826, for Ethernet hardware and IPv4 protocol addresses only. */
static int
parse_arp(struct rx *rx, const uint8_t *p, uint32_t n)
{
	struct td_net_arp *a = &rx->pkt->arp;

	if (n < TD_NET_ARP_LEN)
		return DROP(TRUNCATED_ARP);
	uint16_t op = rd16(p + 6);
	if (rd16(p) != 1 || rd16(p + 2) != TD_NET_ETHERTYPE_IPV4 || p[4] != 6 || p[5] != 4 ||
	    (op != TD_NET_ARP_REQUEST && op != TD_NET_ARP_REPLY))
		return DROP(BAD_ARP);
	const uint8_t *sha = p + 8, *spa = p + 14, *tha = p + 18, *tpa = p + 24;
	/* A sender address of 0 is a probe (RFC 5227), which we answer. */
	if ((sha[0] & 1) || (spa[0] >= 224))
		return DROP(BAD_ARP);
	bool announce = memcmp(spa, tpa, 4) == 0 && rd32(spa) != 0;
	if (!announce && !td_net_ours4(rx->nif, tpa))
		return DROP(NOT_OUR_IP);

	rx->pkt->family = 0;
	a->op = op;
	memcpy(a->sha, sha, 6);
	memcpy(a->spa, spa, 4);
	memcpy(a->tha, tha, 6);
	memcpy(a->tpa, tpa, 4);
	return TD_NET_KIND_ARP;
}

/* IEEE 802.3 and 802.1Q: one tag at most. The VLAN must be the interface's,
 * where a priority tag (VLAN ID 0) counts as untagged. */
static int
parse_eth(struct rx *rx, const uint8_t *f, uint32_t len)
{
	struct td_net_pkt *pkt = rx->pkt;

	if (len < TD_NET_ETH_LEN)
		return DROP(TRUNCATED_ETH);
	rx->l2_group = f[0] & 1;
	if (!rx->l2_group && memcmp(f, rx->nif->mac, 6) != 0)
		return DROP(NOT_OUR_MAC);
	if (f[6] & 1)
		return DROP(BAD_ETH_SRC);
	uint16_t type = rd16(f + 12);
	uint32_t off = TD_NET_ETH_LEN;
	uint16_t vlan = 0;
	if (type == TD_NET_ETHERTYPE_VLAN) {
		if (len < TD_NET_ETH_LEN + TD_NET_VLAN_LEN)
			return DROP(TRUNCATED_ETH);
		vlan = rd16(f + 14) & 0x0fff;
		type = rd16(f + 16);
		off += TD_NET_VLAN_LEN;
	}
	if (vlan != rx->nif->vlan)
		return DROP(WRONG_VLAN);

	memcpy(pkt->smac, f + 6, 6);
	pkt->vlan = vlan;
	pkt->l3_off = (uint16_t)off;
	switch (type) {
	case TD_NET_ETHERTYPE_IPV4:
		return parse_ip4(rx, f + off, len - off);
	case TD_NET_ETHERTYPE_IPV6:
		pkt->l4_off = (uint16_t)(off + TD_NET_IP6_LEN);
		return parse_ip6(rx, f + off, len - off);
	case TD_NET_ETHERTYPE_ARP:
		pkt->l4_off = 0;
		return parse_arp(rx, f + off, len - off);
	default:
		return DROP(UNSUPPORTED_ETHERTYPE);
	}
}

int
td_net_parse(struct td_net_stats *st, const struct td_net_if *nif, const uint8_t *frame,
	     uint32_t len, unsigned rx_flags, struct td_net_pkt *pkt)
{
	struct rx rx = {.nif = nif, .pkt = pkt, .flags = rx_flags};
	int rc = parse_eth(&rx, frame, len);

	if (rc < 0) {
		enum td_net_drop d = (enum td_net_drop)(-1 - rc);
		pkt->drop = d;
		st->drops[d]++;
		return td_net_drop_class(d);
	}
	pkt->kind = (uint8_t)rc;
	st->rx[rc]++;
	st->ip4_options += rx.ip4_options;
	return rc;
}
