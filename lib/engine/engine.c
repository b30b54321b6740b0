/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore loop: RX, parse, ARP/ND, lib/tcp, TX (td_engine.h).
 */

/* DPDK headers use POSIX types (ssize_t, cpu_set_t). */
#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "td_engine.h"

/* Frames ahead whose first cache line is prefetched while one is parsed. */
#define PREFETCH_DIST 4

/* ------------------------------------------------------------------------ */
/* TX staging                                                                */

uint16_t
td_engine_flush(struct td_worker *w)
{
	uint16_t n = w->ntx;
	uint16_t sent;

	if (n == 0)
		return 0;
	sent = rte_eth_tx_burst(w->port_id, w->queue_id, w->tx, n);
	/* TX full policy: what the port does not take is lost, as on a
	 * congested wire; TCP retransmits. */
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&w->tx[sent], (unsigned)(n - sent));
		w->stats.tx_full += (uint64_t)(n - sent);
	}
	w->stats.tx_pkts += sent;
	w->ntx = 0;
	return sent;
}

static inline void
stage(struct td_worker *w, struct rte_mbuf *m)
{
	if (unlikely(w->ntx == TD_ENGINE_TX_STAGE))
		td_engine_flush(w);
	w->tx[w->ntx++] = m;
}

/* An mbuf for a frame of ours, or NULL (counted). */
static inline struct rte_mbuf *
tx_alloc(struct td_worker *w)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->mp);

	if (unlikely(m == NULL))
		w->stats.mbuf_alloc_fail++;
	return m;
}

/* Stage a frame of @p len bytes written by a builder, or free it when the
 * builder failed. */
static void
stage_built(struct td_worker *w, struct rte_mbuf *m, int len)
{
	if (len < 0) {
		w->stats.tx_build_fail++;
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	stage(w, m);
}

/* ------------------------------------------------------------------------ */
/* Neighbours                                                                */

static inline unsigned
addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static struct td_engine_neigh *
neigh_find(struct td_worker *w, uint8_t family, const uint8_t *addr)
{
	unsigned alen = addr_len(family);

	for (unsigned i = 0; i < TD_ENGINE_NEIGH_MAX; i++) {
		struct td_engine_neigh *e = &w->neigh[i];

		if (e->state != TD_ENGINE_NEIGH_FREE && e->family == family &&
		    memcmp(e->addr, addr, alen) == 0)
			return e;
	}
	return NULL;
}

const struct td_engine_neigh *
td_engine_neigh_find(const struct td_worker *w, uint8_t family, const uint8_t *addr)
{
	return neigh_find((struct td_worker *)(uintptr_t)w, family, addr);
}

static struct td_engine_neigh *
neigh_alloc(struct td_worker *w, uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < TD_ENGINE_NEIGH_MAX; i++) {
		struct td_engine_neigh *e = &w->neigh[i];

		if (e->state != TD_ENGINE_NEIGH_FREE)
			continue;
		memset(e, 0, sizeof(*e));
		e->family = family;
		memcpy(e->addr, addr, addr_len(family));
		return e;
	}
	return NULL;
}

/* Send (or repeat) the ARP request or Neighbor Solicitation of an
 * INCOMPLETE entry. */
static void
neigh_request(struct td_worker *w, struct td_engine_neigh *e, uint64_t now_us)
{
	struct rte_mbuf *m;
	int len;

	e->tries++;
	e->next_us = now_us + TD_ENGINE_NEIGH_RETRY_US;
	m = tx_alloc(w);
	if (m == NULL)
		return;
	if (e->family == 4)
		len = td_net_build_arp_request(&w->nif, e->src, e->addr,
					       rte_pktmbuf_mtod(m, uint8_t *),
					       rte_pktmbuf_tailroom(m));
	else
		len = td_net_build_ns(&w->nif, e->src, e->addr, NULL,
				      rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m));
	if (len >= 0)
		w->stats.neigh_requests++;
	stage_built(w, m, len);
}

static void
tmpl_flush(struct td_worker *w)
{
	for (unsigned i = 0; i < TD_ENGINE_TMPL_SLOTS; i++)
		w->tmpl[i].family = 0;
}

/* A MAC for @p addr is known (a reply, an advertisement, or the sender of a
 * request for us). With @p create, an unknown address gets an entry. */
static void
neigh_learn(struct td_worker *w, uint8_t family, const uint8_t *addr, const uint8_t mac[6],
	    bool create, bool override)
{
	struct td_engine_neigh *e = neigh_find(w, family, addr);

	if (e == NULL) {
		if (!create)
			return;
		e = neigh_alloc(w, family, addr);
		if (e == NULL) {
			w->stats.neigh_table_full++;
			return;
		}
		memcpy(e->mac, mac, 6);
		e->state = TD_ENGINE_NEIGH_REACHABLE;
		w->stats.neigh_learned++;
		return;
	}
	if (e->state == TD_ENGINE_NEIGH_INCOMPLETE) {
		memcpy(e->mac, mac, 6);
		e->state = TD_ENGINE_NEIGH_REACHABLE;
		w->nincomplete--;
		w->stats.neigh_resolved++;
		/* The held frames were built with a zero destination MAC: it is
		 * the first field of the frame. */
		for (unsigned i = 0; i < e->nheld; i++) {
			memcpy(rte_pktmbuf_mtod(e->held[i], uint8_t *), mac, 6);
			stage(w, e->held[i]);
			e->held[i] = NULL;
		}
		e->nheld = 0;
		return;
	}
	if (memcmp(e->mac, mac, 6) != 0 && override) {
		memcpy(e->mac, mac, 6);
		tmpl_flush(w);
	}
}

static const uint8_t ip6_unspec[16];

/* ARP (RFC 826) and ND (RFC 4861 7.2): answer requests for us, learn from
 * what the peer says about itself. */
static __rte_noinline void
neigh_input(struct td_worker *w, int kind, const struct td_net_pkt *pkt)
{
	struct rte_mbuf *m;

	switch ((enum td_net_kind)kind) {
	case TD_NET_KIND_ARP: {
		const struct td_net_arp *a = &pkt->arp;
		bool for_us = td_net_ours4(&w->nif, a->tpa);
		static const uint8_t zero4[4];

		/* RFC 826: merge the sender if known, add it when we are the
		 * target. A probe (sender 0.0.0.0) teaches nothing. */
		if (memcmp(a->spa, zero4, 4) != 0)
			neigh_learn(w, 4, a->spa, a->sha, for_us, true);
		if (a->op != TD_NET_ARP_REQUEST || !for_us)
			return;
		m = tx_alloc(w);
		if (m == NULL)
			return;
		int len = td_net_build_arp_reply(&w->nif, pkt, rte_pktmbuf_mtod(m, uint8_t *),
						 rte_pktmbuf_tailroom(m));
		if (len >= 0)
			w->stats.arp_replies++;
		stage_built(w, m, len);
		return;
	}
	case TD_NET_KIND_NS: {
		const struct td_net_nd *nd = &pkt->nd;

		if (nd->has_lla && memcmp(nd->src, ip6_unspec, 16) != 0)
			neigh_learn(w, 6, nd->src, nd->lla, true, true);
		m = tx_alloc(w);
		if (m == NULL)
			return;
		int len = td_net_build_na(&w->nif, pkt, rte_pktmbuf_mtod(m, uint8_t *),
					  rte_pktmbuf_tailroom(m));
		if (len >= 0)
			w->stats.na_sent++;
		stage_built(w, m, len);
		return;
	}
	case TD_NET_KIND_NA: {
		const struct td_net_nd *nd = &pkt->nd;

		if (nd->has_lla)
			neigh_learn(w, 6, nd->target, nd->lla, false,
				    (nd->flags & TD_NET_NA_OVERRIDE) != 0);
		return;
	}
	case TD_NET_KIND_TCP:
	case TD_NET_KIND_MAX:
		return;
	}
}

/* Repeat due requests; give up after the last one (policy in td_engine.h). */
static __rte_noinline void
neigh_retry(struct td_worker *w, uint64_t now_us)
{
	for (unsigned i = 0; i < TD_ENGINE_NEIGH_MAX; i++) {
		struct td_engine_neigh *e = &w->neigh[i];

		if (e->state != TD_ENGINE_NEIGH_INCOMPLETE || now_us < e->next_us)
			continue;
		if (e->tries < TD_ENGINE_NEIGH_TRIES) {
			neigh_request(w, e, now_us);
			continue;
		}
		w->stats.neigh_failed++;
		w->stats.neigh_hold_drops += e->nheld;
		for (unsigned k = 0; k < e->nheld; k++)
			rte_pktmbuf_free(e->held[k]);
		e->nheld = 0;
		e->state = TD_ENGINE_NEIGH_FREE;
		w->nincomplete--;
	}
}

/* ------------------------------------------------------------------------ */
/* Templates and the tx callback                                              */

static inline unsigned
tmpl_index(const struct td_tuple *t)
{
	uint32_t a, b;

	/* The last 4 bytes of each address vary most between peers (IPv4: the
	 * whole address). */
	if (t->family == 4) {
		memcpy(&a, t->laddr, 4);
		memcpy(&b, t->raddr, 4);
	} else {
		memcpy(&a, t->laddr + 12, 4);
		memcpy(&b, t->raddr + 12, 4);
	}
	return ((a * 0x9e3779b1u) ^ (b * 0x85ebca6bu)) >> 26 & (TD_ENGINE_TMPL_SLOTS - 1);
}

static inline bool
tmpl_match(const struct td_engine_tmpl_slot *s, const struct td_tuple *t)
{
	unsigned alen = addr_len(t->family);

	return s->family == t->family && memcmp(s->raddr, t->raddr, alen) == 0 &&
	       memcmp(s->laddr, t->laddr, alen) == 0;
}

/* A template cache miss: build the slot from a resolved neighbour, or start
 * (or join) a resolution and return a template with a zero destination MAC
 * in @p tmp, with *@p hold set to the entry that will hold the frame. NULL
 * when the segment must be dropped. */
static __rte_noinline const struct td_net_tmpl *
tmpl_miss(struct td_worker *w, struct td_engine_tmpl_slot *s, const struct td_tuple *t,
	  struct td_engine_neigh **hold, struct td_net_tmpl *tmp)
{
	static const uint8_t zero_mac[6];
	struct td_engine_neigh *e = neigh_find(w, t->family, t->raddr);

	w->stats.tmpl_misses++;
	if (e != NULL && e->state == TD_ENGINE_NEIGH_REACHABLE) {
		if (td_net_tmpl_init(&s->t, &w->nif, e->mac, t) != 0) {
			w->stats.tx_build_fail++;
			return NULL;
		}
		memcpy(s->laddr, t->laddr, sizeof(s->laddr));
		memcpy(s->raddr, t->raddr, sizeof(s->raddr));
		s->family = t->family;
		return &s->t;
	}
	if (e == NULL) {
		e = neigh_alloc(w, t->family, t->raddr);
		if (e == NULL) {
			w->stats.neigh_table_full++;
			return NULL;
		}
		memcpy(e->src, t->laddr, addr_len(t->family));
		e->state = TD_ENGINE_NEIGH_INCOMPLETE;
		w->nincomplete++;
		neigh_request(w, e, td_engine_now_us(w));
	}
	if (e->nheld == TD_ENGINE_NEIGH_HOLD) {
		w->stats.neigh_hold_drops++;
		return NULL;
	}
	if (td_net_tmpl_init(tmp, &w->nif, zero_mac, t) != 0) {
		w->stats.tx_build_fail++;
		return NULL;
	}
	*hold = e;
	return tmp;
}

/* ops.tx of lib/tcp: build the segment straight into an mbuf, payload
 * first at its final offset, then the headers from the template. */
static void
engine_tx(void *ctx, const struct td_tcp_out *o)
{
	struct td_worker *w = ctx;
	const struct td_tuple *tu = o->tuple;
	struct td_engine_tmpl_slot *s = &w->tmpl[tmpl_index(tu)];
	struct td_engine_neigh *hold = NULL;
	struct td_net_tmpl tmp;
	const struct td_net_tmpl *t;
	struct rte_mbuf *m;
	uint8_t *buf;
	uint32_t cap;
	int len;

	if (likely(tmpl_match(s, tu)))
		t = &s->t;
	else if ((t = tmpl_miss(w, s, tu, &hold, &tmp)) == NULL)
		return;
	m = tx_alloc(w);
	if (unlikely(m == NULL))
		return;
	buf = rte_pktmbuf_mtod(m, uint8_t *);
	cap = rte_pktmbuf_tailroom(m);
	if (o->len > 0) {
		uint32_t off = td_net_tcp_payload_off(t, o->optlen);

		if (unlikely(off + o->len > cap)) {
			stage_built(w, m, -TD_ENOSPC);
			return;
		}
		td_tcp_out_payload(w->st, o, buf + off);
	}
	len = td_net_build_tcp(t, o, NULL, w->tx_flags, buf, cap);
	if (unlikely(len < 0)) {
		stage_built(w, m, len);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	if (w->tx_flags != 0) {
		m->l2_len = t->l2_len;
		m->l3_len = t->l3_len;
		m->ol_flags |= t->family == 4 ? w->tx_ol_flags : w->tx_ol_flags6;
	}
	if (likely(hold == NULL)) {
		stage(w, m);
		return;
	}
	hold->held[hold->nheld++] = m;
	w->stats.neigh_held++;
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                  */

static inline unsigned
rx_flags(const struct td_worker *w, const struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags & w->rx_ol_mask;
	unsigned r = 0;

	if (f == 0)
		return 0;
	/* NONE means the data is known good but the checksum field is not
	 * filled in (virtio/vhost carrying a segment whose sender used TX
	 * offload): trust the port, as for GOOD. UNKNOWN leaves it to us. */
	uint64_t ip = f & RTE_MBUF_F_RX_IP_CKSUM_MASK, l4 = f & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD || ip == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		r |= TD_NET_RX_IP_CKSUM_GOOD;
	else if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		r |= TD_NET_RX_IP_CKSUM_BAD;
	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		r |= TD_NET_RX_L4_CKSUM_GOOD;
	else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		r |= TD_NET_RX_L4_CKSUM_BAD;
	return r;
}

uint16_t
td_engine_poll(struct td_worker *w)
{
	struct rte_mbuf *pkts[TD_ENGINE_BURST];
	struct rte_mbuf *done[TD_ENGINE_BURST];
	struct td_net_pkt pkt;
	uint16_t nseg = 0, ndone = 0;
	uint16_t n = rte_eth_rx_burst(w->port_id, w->queue_id, pkts, TD_ENGINE_BURST);
	uint64_t now_us;

	w->stats.polls++;
	w->stats.rx_pkts += n;
	for (uint16_t i = 0; i < PREFETCH_DIST && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int k;

		if (i + PREFETCH_DIST < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_DIST], void *));
		if (unlikely(m->nb_segs != 1)) {
			w->stats.rx_multiseg++;
			done[ndone++] = m;
			continue;
		}
		k = td_net_parse(&w->net, &w->nif, rte_pktmbuf_mtod(m, const uint8_t *),
				 m->data_len, rx_flags(w, m), &pkt);
		if (likely(k == TD_NET_KIND_TCP)) {
			/* The segment points into the frame: keep the frame
			 * until lib/tcp has read the burst. */
			w->segs[nseg] = pkt.seg;
			w->rx_keep[nseg++] = m;
			continue;
		}
		if (k >= 0)
			neigh_input(w, k, &pkt);
		/* A drop was counted by the parser under its reason. */
		done[ndone++] = m;
	}
	if (ndone > 0)
		rte_pktmbuf_free_bulk(done, ndone);
	if (nseg > 0) {
		td_tcp_input_burst(w->st, w->segs, nseg);
		rte_pktmbuf_free_bulk(w->rx_keep, nseg);
	}
	now_us = td_engine_now_us(w);
	w->stats.timers_run += td_tcp_advance(w->st, now_us, w->timer_budget);
	if (unlikely(w->nincomplete > 0))
		neigh_retry(w, now_us);
	td_engine_flush(w);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                   */

struct td_worker *
td_engine_worker_create(const struct td_engine_config *cfg, char *err, size_t errlen)
{
	struct td_worker *w;
	uint64_t hz = rte_get_tsc_hz();

	if (cfg->mp == NULL || cfg->nif == NULL) {
		snprintf(err, errlen, "engine: a mempool and an interface are required");
		return NULL;
	}
	if (hz < 1000000) {
		snprintf(err, errlen, "engine: TSC frequency %lu Hz is too low", (unsigned long)hz);
		return NULL;
	}
	w = rte_zmalloc_socket("td_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (w == NULL) {
		snprintf(err, errlen, "engine: no memory for a worker (%zu bytes)", sizeof(*w));
		return NULL;
	}
	w->mp = cfg->mp;
	w->port_id = cfg->port_id;
	w->queue_id = cfg->queue_id;
	w->tsc_per_us = hz / 1000000;
	w->timer_budget = cfg->timer_budget ? cfg->timer_budget : TD_ENGINE_TIMER_BUDGET;
	w->uctx = cfg->uctx;
	w->nif = *cfg->nif;
	w->tx_flags = cfg->tx_offload & (TD_NET_TX_NO_IP_CKSUM | TD_NET_TX_NO_TCP_CKSUM);
	if (w->tx_flags & TD_NET_TX_NO_IP_CKSUM)
		w->tx_ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	if (w->tx_flags & TD_NET_TX_NO_TCP_CKSUM) {
		w->tx_ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		w->tx_ol_flags6 |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM;
	}
	if (cfg->rx_offload & TD_ENGINE_RX_IP_CKSUM)
		w->rx_ol_mask |= RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (cfg->rx_offload & TD_ENGINE_RX_TCP_CKSUM)
		w->rx_ol_mask |= RTE_MBUF_F_RX_L4_CKSUM_MASK;

	const struct td_tcp_ops ops = {
		.tx = engine_tx,
		.event = cfg->event,
		.isn = cfg->isn,
		.ctx = w,
	};
	w->st = td_tcp_stack_create(&cfg->tcp, &ops, td_engine_now_us(w), cfg->isn_key, err,
				    errlen);
	if (w->st == NULL) {
		rte_free(w);
		return NULL;
	}
	return w;
}

void
td_engine_worker_destroy(struct td_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; i < TD_ENGINE_NEIGH_MAX; i++) {
		struct td_engine_neigh *e = &w->neigh[i];

		for (unsigned k = 0; k < e->nheld; k++)
			rte_pktmbuf_free(e->held[k]);
		e->nheld = 0;
	}
	if (w->ntx > 0)
		rte_pktmbuf_free_bulk(w->tx, w->ntx);
	w->ntx = 0;
	td_tcp_stack_destroy(w->st);
	rte_free(w);
}

int
td_engine_account(const struct td_worker *w, struct td_engine_accounting *a)
{
	struct td_tcp_pool_info pi;

	memset(a, 0, sizeof(*a));
	a->mbufs_in_use = rte_mempool_in_use_count(w->mp);
	td_tcp_pool_info(w->st, &pi);
	a->conns_used = pi.conns_used;
	a->tw_used = pi.tw_used;
	a->bufs_used = pi.bufs_used;
	for (unsigned i = 0; i < TD_ENGINE_NEIGH_MAX; i++)
		a->held += w->neigh[i].nheld;
	a->staged = w->ntx;
	if (a->mbufs_in_use || a->conns_used || a->tw_used || a->bufs_used || a->held || a->staged)
		return -TD_EBUSY;
	return 0;
}
