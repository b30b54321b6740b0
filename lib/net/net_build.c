/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "net_impl.h"

static const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Ethernet header, with the interface's 802.1Q tag when it has one
 * (priority 0). Returns its length. */
static uint32_t
put_eth(uint8_t *b, const struct td_net_if *nif, const uint8_t *dmac, uint16_t type)
{
	memcpy(b, dmac, 6);
	memcpy(b + 6, nif->mac, 6);
	if (nif->vlan == 0) {
		wr16(b + 12, type);
		return TD_NET_ETH_LEN;
	}
	wr16(b + 12, TD_NET_ETHERTYPE_VLAN);
	wr16(b + 14, nif->vlan);
	wr16(b + 16, type);
	return TD_NET_ETH_LEN + TD_NET_VLAN_LEN;
}

static uint32_t
l2_len(const struct td_net_if *nif)
{
	return TD_NET_ETH_LEN + (nif->vlan ? TD_NET_VLAN_LEN : 0);
}

/* IPv6 header without flow label or traffic class. */
static void
put_ip6(uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint8_t hops,
	uint16_t plen)
{
	wr32(ip, 0x60000000u);
	wr16(ip + 4, plen);
	ip[6] = proto;
	ip[7] = hops;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

int
td_net_tmpl_init(struct td_net_tmpl *t, const struct td_net_if *nif, const uint8_t dmac[6],
		 const struct td_tuple *tu)
{
	if (tu->family != 4 && tu->family != 6)
		return -TD_EINVAL;
	memset(t, 0, sizeof(*t));
	uint16_t type = tu->family == 4 ? TD_NET_ETHERTYPE_IPV4 : TD_NET_ETHERTYPE_IPV6;
	uint32_t l2 = put_eth(t->hdr, nif, dmac, type);
	uint8_t *ip = t->hdr + l2;
	uint8_t ttl = nif->ttl ? nif->ttl : 64;

	if (tu->family == 4) {
		/* Total length, identification and checksum stay 0 here: the
		 * builder writes the first and last, and the second is 0 for an
		 * atomic datagram (RFC 6864 4.1). ip_sum covers the rest. */
		ip[0] = 0x45;
		wr16(ip + 6, 0x4000); /* DF */
		ip[8] = ttl;
		ip[9] = TD_NET_PROTO_TCP;
		memcpy(ip + 12, tu->laddr, 4);
		memcpy(ip + 16, tu->raddr, 4);
		t->l3_len = TD_NET_IP4_LEN;
		t->ip_sum = td_net_cksum_add(0, ip, TD_NET_IP4_LEN);
		t->ph_sum = td_net_pseudo4(tu->laddr, tu->raddr, TD_NET_PROTO_TCP, 0);
	} else {
		put_ip6(ip, tu->laddr, tu->raddr, TD_NET_PROTO_TCP, ttl, 0);
		t->l3_len = TD_NET_IP6_LEN;
		t->ph_sum = td_net_pseudo6(tu->laddr, tu->raddr, TD_NET_PROTO_TCP, 0);
	}
	t->l2_len = (uint8_t)l2;
	t->hdr_len = (uint8_t)(l2 + t->l3_len);
	t->family = tu->family;
	return 0;
}

/* The pseudo-header length is added to the template's sum, and the TCP
 * header, options and payload are summed in one pass over the contiguous
 * segment: the payload is read once more, for the checksum only, which is
 * the price of not keeping per-connection payload sums. */
int
td_net_build_tcp(const struct td_net_tmpl *t, const struct td_tcp_out *o, const uint8_t *payload,
		 unsigned tx_flags, uint8_t *buf, uint32_t cap)
{
	uint32_t optlen = o->optlen;

	if (optlen > 40 || o->len > 65535)
		return -TD_EINVAL;
	uint32_t thl = TD_NET_TCP_LEN + ((optlen + 3u) & ~3u);
	uint32_t l4 = thl + o->len;
	if (l4 + (t->family == 4 ? TD_NET_IP4_LEN : 0) > 65535)
		return -TD_EINVAL;
	uint32_t total = t->hdr_len + l4;
	if (total > cap)
		return -TD_ENOSPC;

	memcpy(buf, t->hdr, t->hdr_len);
	uint8_t *ip = buf + t->l2_len;
	uint8_t *th = buf + t->hdr_len;
	if (t->family == 4) {
		uint16_t tot = (uint16_t)(TD_NET_IP4_LEN + l4);
		wr16(ip + 2, tot);
		if (!(tx_flags & TD_NET_TX_NO_IP_CKSUM))
			wr16(ip + 10, td_net_cksum_finish(t->ip_sum + tot));
	} else {
		wr16(ip + 4, (uint16_t)l4);
	}

	wr16(th, o->tuple->lport);
	wr16(th + 2, o->tuple->rport);
	wr32(th + 4, o->seq);
	wr32(th + 8, o->ack);
	th[12] = (uint8_t)(thl / 4 << 4);
	th[13] = o->flags;
	wr16(th + 14, o->wnd);
	wr16(th + 16, 0);
	wr16(th + 18, 0);
	memcpy(th + TD_NET_TCP_LEN, o->opts, optlen);
	memset(th + TD_NET_TCP_LEN + optlen, 0, thl - TD_NET_TCP_LEN - optlen);
	if (payload != NULL && o->len > 0)
		memcpy(th + thl, payload, o->len);

	uint32_t sum = t->ph_sum + l4;
	if (tx_flags & TD_NET_TX_NO_TCP_CKSUM)
		wr16(th + 16, td_net_cksum_fold(sum));
	else
		wr16(th + 16, td_net_cksum_finish(td_net_cksum_add(sum, th, l4)));
	return (int)total;
}

/* RFC 826: Ethernet hardware, IPv4 protocol addresses. */
static int
put_arp(const struct td_net_if *nif, uint16_t op, const uint8_t *dmac, const uint8_t *spa,
	const uint8_t *tha, const uint8_t *tpa, uint8_t *buf, uint32_t cap)
{
	uint32_t total = l2_len(nif) + TD_NET_ARP_LEN;

	if (total > cap)
		return -TD_ENOSPC;
	uint8_t *a = buf + put_eth(buf, nif, dmac, TD_NET_ETHERTYPE_ARP);
	wr16(a, 1);
	wr16(a + 2, TD_NET_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, nif->mac, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return (int)total;
}

int
td_net_build_arp_request(const struct td_net_if *nif, const uint8_t spa[4], const uint8_t tpa[4],
			 uint8_t *buf, uint32_t cap)
{
	static const uint8_t unknown[6];

	return put_arp(nif, TD_NET_ARP_REQUEST, mac_broadcast, spa, unknown, tpa, buf, cap);
}

int
td_net_build_arp_reply(const struct td_net_if *nif, const struct td_net_pkt *req, uint8_t *buf,
		       uint32_t cap)
{
	const struct td_net_arp *a = &req->arp;

	if (req->kind != TD_NET_KIND_ARP || a->op != TD_NET_ARP_REQUEST ||
	    !td_net_ours4(nif, a->tpa))
		return -TD_EINVAL;
	return put_arp(nif, TD_NET_ARP_REPLY, a->sha, a->tpa, a->sha, a->spa, buf, cap);
}

/* An NS or NA with one link-layer address option (ours), hop limit 255
 * (RFC 4861 7.1). @p word is the 32 bits after the checksum: reserved in an
 * NS, flags in an NA. */
static int
put_nd(const struct td_net_if *nif, uint8_t type, uint32_t word, const uint8_t *dmac,
       const uint8_t *src, const uint8_t *dst, const uint8_t *target, uint8_t *buf, uint32_t cap)
{
	const uint32_t icmp_len = TD_NET_ND_LEN + TD_NET_ND_OPT_LEN;
	uint32_t total = l2_len(nif) + TD_NET_IP6_LEN + icmp_len;

	if (total > cap)
		return -TD_ENOSPC;
	uint8_t *ip = buf + put_eth(buf, nif, dmac, TD_NET_ETHERTYPE_IPV6);
	uint8_t *p = ip + TD_NET_IP6_LEN;
	put_ip6(ip, src, dst, TD_NET_PROTO_ICMPV6, 255, (uint16_t)icmp_len);
	p[0] = type;
	p[1] = 0;
	wr16(p + 2, 0);
	wr32(p + 4, word);
	memcpy(p + 8, target, 16);
	p[24] = type == TD_NET_ND_NS ? 1 : 2; /* source or target link-layer address */
	p[25] = 1;                            /* in units of 8 bytes */
	memcpy(p + 26, nif->mac, 6);
	uint32_t ph = td_net_pseudo6(ip + 8, ip + 24, TD_NET_PROTO_ICMPV6, icmp_len);
	wr16(p + 2, td_net_cksum_finish(td_net_cksum_add(ph, p, icmp_len)));
	return (int)total;
}

int
td_net_build_ns(const struct td_net_if *nif, const uint8_t src[16], const uint8_t target[16],
		const uint8_t *dmac, uint8_t *buf, uint32_t cap)
{
	uint8_t dst[16], mac[6];

	if (dmac == NULL) {
		/* RFC 2464 7: 33:33 and the last 32 bits of the IPv6 group. */
		ip6_make_solicited_node(dst, target);
		mac[0] = 0x33;
		mac[1] = 0x33;
		memcpy(mac + 2, dst + 12, 4);
	} else {
		memcpy(dst, target, 16);
		memcpy(mac, dmac, 6);
	}
	return put_nd(nif, TD_NET_ND_NS, 0, mac, src, dst, target, buf, cap);
}

int
td_net_build_na(const struct td_net_if *nif, const struct td_net_pkt *ns, uint8_t *buf,
		uint32_t cap)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	const struct td_net_nd *nd = &ns->nd;
	uint8_t src[16], dst[16], mac[6];
	uint32_t flags = TD_NET_NA_OVERRIDE;

	if (ns->kind != TD_NET_KIND_NS || !td_net_ours6(nif, nd->target))
		return -TD_EINVAL;
	memcpy(src, nd->target, 16);
	if (ip6_unspecified(nd->src)) {
		memcpy(dst, all_nodes, 16);
		memcpy(mac, all_nodes_mac, 6);
	} else {
		flags |= TD_NET_NA_SOLICITED;
		memcpy(dst, nd->src, 16);
		memcpy(mac, nd->has_lla ? nd->lla : ns->smac, 6);
	}
	return put_nd(nif, TD_NET_ND_NA, flags << 24, mac, src, dst, src, buf, cap);
}
