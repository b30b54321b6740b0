/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_impl.h"

static const uint8_t test_key[16] = "teardown-testkey";

static void
stack_free_all(struct td_tcp_stack *st)
{
	td_timer_wheel_free(&st->wheel);
	tcp_table_free(&st->table);
	free(st->conns);
	free(st->conn_free);
	free(st->tws);
	free(st->ooos);
	free(st->bufmem);
	free(st->buf_free);
	free(st->listeners);
	free(st);
}

struct td_tcp_stack *
td_tcp_stack_create(const struct td_tcp_config *cfg, const struct td_tcp_ops *ops, uint64_t now_us,
		    const uint8_t *key, char *err, size_t errlen)
{
	struct td_tcp_stack *st;

	if (td_tcp_config_validate(cfg, err, errlen) != 0)
		return NULL;
	if (ops == NULL || ops->tx == NULL) {
		snprintf(err, errlen, "ops: a tx callback is required");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		goto nomem;
	st->cfg = *cfg;
	st->ops = *ops;
	st->now_us = now_us;
	st->now_ms = (uint32_t)(now_us / 1000);
	memcpy(st->key, key != NULL ? key : test_key, 16);
	if (td_timer_wheel_init(&st->wheel, cfg->timer_slots, now_us / 1000, tcp_timer_fire, st) !=
	    0)
		goto nomem;
	if (tcp_table_init(&st->table, cfg->max_conns + cfg->tw_max) != 0)
		goto nomem;

	st->conns = aligned_alloc(TD_CACHE_LINE, (size_t)cfg->max_conns * sizeof(*st->conns));
	st->conn_free = calloc(cfg->max_conns, sizeof(*st->conn_free));
	st->tws = calloc(cfg->tw_max, sizeof(*st->tws));
	st->listeners = calloc(cfg->max_listeners, sizeof(*st->listeners));
	if (!st->conns || !st->conn_free || !st->tws || !st->listeners)
		goto nomem;
	memset(st->conns, 0, (size_t)cfg->max_conns * sizeof(*st->conns));
	for (uint32_t i = 0; i < cfg->max_conns; i++)
		st->conn_free[i] = cfg->max_conns - 1 - i;
	st->conn_nfree = cfg->max_conns;
	for (uint32_t i = 0; i < cfg->tw_max; i++)
		st->tws[i].next = i + 1 < cfg->tw_max ? i + 1 : TCP_NONE;
	st->tw_free = 0;
	st->tw_head = st->tw_tail = TCP_NONE;

	/* The out-of-order side pool: few connections hold out-of-order data
	 * at once, so it is not in every connection block. */
	st->ooo_cap = cfg->ooo_pool != 0 ? cfg->ooo_pool : TD_MAX(cfg->max_conns / 4, 16u);
	st->ooos = calloc(st->ooo_cap, sizeof(*st->ooos));
	if (st->ooos == NULL)
		goto nomem;
	for (uint32_t i = 0; i < st->ooo_cap; i++)
		st->ooos[i].next = i + 1 < st->ooo_cap ? i + 1 : TCP_NONE;
	st->ooo_free = 0;

	st->buf_size = TD_MAX(cfg->sndbuf, cfg->rcvbuf);
	if (cfg->buffers > 0) {
		st->bufmem = malloc((size_t)cfg->buffers * st->buf_size);
		st->buf_free = calloc(cfg->buffers, sizeof(*st->buf_free));
		if (!st->bufmem || !st->buf_free)
			goto nomem;
		for (uint32_t i = 0; i < cfg->buffers; i++)
			st->buf_free[i] = cfg->buffers - 1 - i;
		st->buf_nfree = cfg->buffers;
	}
	/* Our window shift: as configured, or what the whole buffer needs. */
	st->wscale = (uint8_t)cfg->wscale;
	while (st->wscale < 14 && (cfg->rcvbuf >> st->wscale) > 65535)
		st->wscale++;
	return st;
nomem:
	snprintf(err, errlen, "out of memory for max_conns %u, tw_max %u, buffers %u",
		 cfg->max_conns, cfg->tw_max, cfg->buffers);
	if (st != NULL)
		stack_free_all(st);
	return NULL;
}

void
td_tcp_stack_destroy(struct td_tcp_stack *st)
{
	if (st != NULL)
		stack_free_all(st);
}

const struct td_tcp_config *
td_tcp_stack_config(const struct td_tcp_stack *st)
{
	return &st->cfg;
}

const struct td_tcp_stats *
td_tcp_stack_stats(const struct td_tcp_stack *st)
{
	return &st->stats;
}

void
td_tcp_pool_info(const struct td_tcp_stack *st, struct td_tcp_pool_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->conns_max = st->cfg.max_conns;
	pi->conns_used = st->cfg.max_conns - st->conn_nfree;
	pi->tw_max = st->cfg.tw_max;
	pi->tw_used = st->tw_used;
	pi->bufs_max = st->cfg.buffers;
	pi->bufs_used = st->cfg.buffers - st->buf_nfree;
	for (uint32_t i = 0; i < st->cfg.max_listeners; i++)
		pi->listeners_used += st->listeners[i].used;
	pi->timers_armed = (uint32_t)st->wheel.armed;
	pi->ooo_max = st->ooo_cap;
	pi->ooo_used = st->ooo_used;
}

uint8_t *
tcp_buf(const struct td_tcp_stack *st, uint32_t idx)
{
	return st->bufmem + (size_t)idx * st->buf_size;
}

uint32_t
tcp_buf_get(struct td_tcp_stack *st)
{
	if (st->buf_nfree == 0)
		return TCP_NONE;
	return st->buf_free[--st->buf_nfree];
}

void
tcp_buf_put(struct td_tcp_stack *st, uint32_t idx)
{
	if (idx != TCP_NONE)
		st->buf_free[st->buf_nfree++] = idx;
}

/* Allocate a connection block and its 4-tuple. The caller sets the state. */
struct td_tcp_conn *
tcp_conn_alloc(struct td_tcp_stack *st, const struct td_tuple *t, const struct td_tcp_open_opts *oo)
{
	struct td_tcp_conn *c;
	uint32_t sb = TCP_NONE, rb = TCP_NONE, key;

	if (st->conn_nfree == 0) {
		st->stats.conns_exhausted++;
		return NULL;
	}
	if (oo->stream == TD_TCP_STREAM_BUFFER) {
		sb = tcp_buf_get(st);
		rb = tcp_buf_get(st);
		if (rb == TCP_NONE) {
			tcp_buf_put(st, sb);
			st->stats.buffers_exhausted++;
			return NULL;
		}
	}
	uint32_t idx = st->conn_free[st->conn_nfree - 1];
	if (tcp_table_add(&st->table, t, idx, &key) != 0) {
		tcp_buf_put(st, sb);
		tcp_buf_put(st, rb);
		return NULL;
	}
	st->conn_nfree--;
	c = &st->conns[idx];
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->stream = (uint8_t)oo->stream;
	c->sbuf = sb;
	if (oo->stream == TD_TCP_STREAM_BUFFER)
		c->rbuf = rb; /* else data_errors, zeroed above */
	c->ooo = TCP_NONE;
	c->uctx = oo->uctx;
	c->tw_idx = TCP_NONE;
	c->user_timeout_ms = oo->user_timeout_ms ? oo->user_timeout_ms : st->cfg.user_timeout_ms;
	if (oo->nodelay || st->cfg.nodelay)
		c->flags |= TF_NODELAY;
	c->mss = t->family == 6 ? 1220 : 536;
	return c;
}

/* Take the connection's out-of-order entry from the side pool, if it has
 * none yet; NULL when the pool is empty. */
struct tcp_ooo *
tcp_ooo_get(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	struct tcp_ooo *o;

	if (c->ooo != TCP_NONE)
		return &st->ooos[c->ooo];
	if (st->ooo_free == TCP_NONE)
		return NULL;
	c->ooo = st->ooo_free;
	o = &st->ooos[c->ooo];
	st->ooo_free = o->next;
	st->ooo_used++;
	o->n = 0;
	o->fin = 0;
	return o;
}

/* Return the connection's out-of-order entry, with whatever it held. */
void
tcp_ooo_put(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->ooo == TCP_NONE)
		return;
	st->ooos[c->ooo].next = st->ooo_free;
	st->ooo_free = c->ooo;
	st->ooo_used--;
	c->ooo = TCP_NONE;
	c->flags2 &= ~TF2_OOO_FIN;
}

/* Return the block to the pool; it is off the table and its timer is off. */
void
tcp_conn_free(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	tcp_ooo_put(st, c);
	tcp_buf_put(st, c->sbuf);
	c->sbuf = TCP_NONE;
	if ((enum td_tcp_stream)c->stream == TD_TCP_STREAM_BUFFER) {
		tcp_buf_put(st, c->rbuf);
		c->rbuf = TCP_NONE;
	}
	c->state = TD_TCP_CLOSED;
	st->conn_free[st->conn_nfree++] = tcp_conn_idx(st, c);
}

void
tcp_undirty(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (!(c->flags & TF_DIRTY))
		return;
	for (uint32_t i = 0; i < st->ndirty; i++)
		if (st->dirty[i] == c) {
			st->dirty[i] = st->dirty[--st->ndirty];
			break;
		}
	c->flags &= ~TF_DIRTY;
}

/* Delete a connection from the network: off the table, timers off, queues
 * flushed, counted once by how it ended. The user, if still attached, gets
 * the terminal event and keeps the block (with unread data) until release. */
void
tcp_conn_delete(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_end why, int err)
{
	enum td_tcp_event ev = TD_TCP_EV_CLOSED;

	if (c->flags & TF_DETACHED)
		return;
	st->stats.ends[why]++;
	c->armed = 0;
	td_timer_cancel(&st->wheel, &c->timer);
	tcp_undirty(st, c);
	tcp_ooo_put(st, c);
	if (c->tw_idx != TCP_NONE)
		tcp_tw_unhide(st, c);
	if (c->key != TCP_NONE)
		tcp_table_del(&st->table, c->key);
	c->key = TCP_NONE;
	td_tcp_set_state(st, c, TD_TCP_CLOSED);
	c->flags |= TF_DETACHED;
	c->flags &= ~(TF_ACK_NOW | TF_FIN_PENDING);
	tcp_buf_put(st, c->sbuf);
	c->sbuf = TCP_NONE;
	if (tcp_orphan(c)) {
		tcp_conn_free(st, c);
		return;
	}
	if (why == TD_TCP_END_USER_TIMEOUT)
		ev = TD_TCP_EV_TIMED_OUT;
	else if (err == TD_ECONNRESET || err == TD_ECONNREFUSED)
		ev = TD_TCP_EV_RESET;
	tcp_event(st, c, ev, err);
}

/* RFC 9293 3.3.2: every transition goes through here and is counted. */
void
td_tcp_set_state(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_state s)
{
	if (s == TD_TCP_TIME_WAIT)
		st->stats.tw_from[c->state]++;
	c->state = (uint8_t)s;
	st->stats.state_enter[s]++;
}

void
tcp_event(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	if (tcp_orphan(c) || st->ops.event == NULL)
		return;
	st->in_callback++;
	st->ops.event(st->ops.ctx, c, ev, err);
	st->in_callback--;
}

void
tcp_mark_dirty(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->flags & (TF_DIRTY | TF_DETACHED))
		return;
	if (st->ndirty == TCP_BURST_MAX) {
		tcp_output(st, c);
		return;
	}
	c->flags |= TF_DIRTY;
	st->dirty[st->ndirty++] = c;
}

/* Transmit for every connection touched since the last flush: at most one
 * ACK each, after the whole burst (C-64). Output may raise events whose
 * handlers touch other connections: loop until the list is empty. */
void
tcp_flush(struct td_tcp_stack *st)
{
	while (st->ndirty > 0) {
		struct td_tcp_conn *c = st->dirty[--st->ndirty];
		c->flags &= ~TF_DIRTY;
		tcp_output(st, c);
	}
}

void
td_tcp_cork(struct td_tcp_stack *st)
{
	st->corks++;
}

void
td_tcp_uncork(struct td_tcp_stack *st)
{
	if (st->corks > 0 && --st->corks == 0)
		tcp_flush(st);
}

static void
set_now(struct td_tcp_stack *st, uint64_t now_us)
{
	if (now_us > st->now_us) {
		st->now_us = now_us;
		st->now_ms = (uint32_t)(now_us / 1000);
	}
}

unsigned
td_tcp_advance(struct td_tcp_stack *st, uint64_t now_us, unsigned budget)
{
	unsigned n;

	st->corks++;
	n = td_timer_advance(&st->wheel, now_us / 1000, budget);
	set_now(st, now_us);
	/* TIME-WAIT expiries share the budget (issue 6: bounded work per poll). */
	if (budget == 0 || n < budget)
		n += tcp_tw_expire(st, budget == 0 ? 0 : budget - n);
	st->corks--;
	if (st->corks == 0)
		tcp_flush(st);
	return n;
}

/* Called by the wheel before each timer callback: the clock is the tick. */
void
tcp_timer_fire(struct td_timer *t, void *arg)
{
	struct td_tcp_stack *st = arg;

	set_now(st, t->expire * 1000);
	struct td_tcp_conn *c = TD_CONTAINER_OF(t, struct td_tcp_conn, timer);
	tcp_conn_timer(st, c);
	tcp_flush(st);
}

uint64_t
td_tcp_now(const struct td_tcp_stack *st)
{
	return st->now_us;
}

uint64_t
td_tcp_next_timer(const struct td_tcp_stack *st)
{
	uint64_t t = td_timer_next(&st->wheel);
	uint64_t us = t == UINT64_MAX ? t : t * 1000;

	if (st->tw_head != TCP_NONE) {
		uint64_t tw = tcp_ms_to_tick(st, st->tws[st->tw_head].expire_ms) * 1000;
		if (tw < us)
			us = tw;
	}
	return us;
}

uint16_t
td_tcp_input_burst(struct td_tcp_stack *st, const struct td_seg *segs, uint16_t n)
{
	st->corks++;
	for (uint16_t i = 0; i < n; i++)
		tcp_input_segment(st, &segs[i]);
	st->corks--;
	if (st->corks == 0)
		tcp_flush(st);
	return n;
}

enum td_tcp_state
td_tcp_lookup_state(const struct td_tcp_stack *st, const struct td_tuple *t)
{
	uint32_t v = tcp_table_lookup(&st->table, t, NULL);

	if (v == TCP_NONE)
		return TD_TCP_CLOSED;
	if (v & TCP_TW_BIT)
		return TD_TCP_TIME_WAIT;
	return (enum td_tcp_state)st->conns[v].state;
}

void
td_tcp_out_payload(const struct td_tcp_stack *st, const struct td_tcp_out *o, uint8_t *dst)
{
	if (o->len > 0 && o->conn != NULL)
		tcp_stream_tx(st, o->conn, o->off, dst, o->len);
}

static bool
listener_match(const struct tcp_listener *l, uint8_t family, const uint8_t *laddr, uint16_t port)
{
	return l->used && l->family == family && l->port == port &&
	       (l->any || memcmp(l->laddr, laddr, family == 6 ? 16 : 4) == 0);
}

struct tcp_listener *
tcp_listener_find(struct td_tcp_stack *st, const struct td_tuple *t)
{
	struct tcp_listener *any = NULL;

	for (uint32_t i = 0; i < st->cfg.max_listeners; i++) {
		struct tcp_listener *l = &st->listeners[i];
		if (!listener_match(l, t->family, t->laddr, t->lport))
			continue;
		if (!l->any)
			return l;
		any = l;
	}
	return any;
}

int
td_tcp_listen(struct td_tcp_stack *st, uint8_t family, const uint8_t *laddr, uint16_t port,
	      const struct td_tcp_open_opts *o)
{
	struct tcp_listener *freel = NULL;

	if (family != 4 && family != 6)
		return -TD_EINVAL;
	for (uint32_t i = 0; i < st->cfg.max_listeners; i++) {
		struct tcp_listener *l = &st->listeners[i];
		if (!l->used) {
			if (freel == NULL)
				freel = l;
			continue;
		}
		if (l->family == family && l->port == port && (l->any == (laddr == NULL)) &&
		    (laddr == NULL || memcmp(l->laddr, laddr, family == 6 ? 16 : 4) == 0))
			return -TD_EADDRINUSE;
	}
	if (freel == NULL)
		return -TD_ENOSPC;
	memset(freel, 0, sizeof(*freel));
	freel->used = true;
	freel->family = family;
	freel->port = port;
	freel->any = laddr == NULL;
	if (laddr != NULL)
		memcpy(freel->laddr, laddr, family == 6 ? 16 : 4);
	if (o != NULL)
		freel->oo = *o;
	return 0;
}

/* RFC 9293 3.10.4, LISTEN: "Any outstanding RECEIVEs are returned with
 * 'error: closing' responses. Delete TCB." Nothing is sent (C-01). */
int
td_tcp_unlisten(struct td_tcp_stack *st, uint8_t family, const uint8_t *laddr, uint16_t port)
{
	for (uint32_t i = 0; i < st->cfg.max_listeners; i++) {
		struct tcp_listener *l = &st->listeners[i];
		if (l->used && l->family == family && l->port == port &&
		    (l->any == (laddr == NULL)) &&
		    (laddr == NULL || memcmp(l->laddr, laddr, family == 6 ? 16 : 4) == 0)) {
			l->used = false;
			return 0;
		}
	}
	return -TD_ENOTCONN;
}
