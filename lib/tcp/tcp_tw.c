/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

/* TIME-WAIT as compact entries (C-74). Every entry lasts 2*MSL from entry or
 * from its last restart, so a FIFO ordered by expiry replaces a timer per
 * entry: a restart moves the entry to the tail, expiry pops the head, and the
 * entry nearest expiry is always the head, which a full table recycles
 * (C-75). td_tcp_advance() pops expired heads within its budget. */

static struct td_tw *
tw_at(struct td_tcp_stack *st, uint32_t i)
{
	return &st->tws[i];
}

static void
fifo_unlink(struct td_tcp_stack *st, uint32_t i)
{
	struct td_tw *tw = tw_at(st, i);

	if (tw->prev != TCP_NONE)
		tw_at(st, tw->prev)->next = tw->next;
	else
		st->tw_head = tw->next;
	if (tw->next != TCP_NONE)
		tw_at(st, tw->next)->prev = tw->prev;
	else
		st->tw_tail = tw->prev;
	tw->prev = tw->next = TCP_NONE;
}

static void
fifo_append(struct td_tcp_stack *st, uint32_t i)
{
	struct td_tw *tw = tw_at(st, i);

	tw->next = TCP_NONE;
	tw->prev = st->tw_tail;
	if (st->tw_tail != TCP_NONE)
		tw_at(st, st->tw_tail)->next = i;
	else
		st->tw_head = i;
	st->tw_tail = i;
}

void
tcp_tw_free(struct td_tcp_stack *st, uint32_t i, enum td_tcp_end why)
{
	struct td_tw *tw = tw_at(st, i);

	fifo_unlink(st, i);
	if (tw->flags & TWF_HIDDEN) {
		/* A reopened incarnation still points here: let it go. */
		if (tw->reopen != TCP_NONE)
			st->conns[tw->reopen].tw_idx = TCP_NONE;
	} else {
		tcp_table_del(&st->table, tw->key);
	}
	st->stats.ends[why]++;
	tw->flags = 0;
	tw->next = st->tw_free;
	st->tw_free = i;
	st->tw_used--;
}

/* Free the entries whose 2*MSL has run out, oldest first, at most @budget
 * of them (0: no limit): a million entries falling due together cost a
 * bounded amount per poll, the rest wait for the next call. */
unsigned
tcp_tw_expire(struct td_tcp_stack *st, unsigned budget)
{
	unsigned n = 0;

	while (st->tw_head != TCP_NONE && (budget == 0 || n < budget) &&
	       tcp_ms_leq(tw_at(st, st->tw_head)->expire_ms, st->now_ms)) {
		tcp_tw_free(st, st->tw_head, TD_TCP_END_TW_EXPIRED);
		n++;
	}
	return n;
}

/* RFC 9293 3.10.7.4: enter TIME-WAIT. The connection's 4-tuple key now names
 * the entry; the connection block goes back to the pool unless the user
 * still holds it (it keeps unread data for C-13). */
uint32_t
tcp_tw_enter(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (st->tw_free == TCP_NONE)
		tcp_tw_free(st, st->tw_head, TD_TCP_END_TW_RECYCLED); /* C-75 */
	uint32_t i = st->tw_free;
	struct td_tw *tw = tw_at(st, i);
	uint32_t wnd = tcp_rcv_wnd(c);

	st->tw_free = tw->next;
	st->tw_used++;
	memset(tw, 0, sizeof(*tw));
	tw->key = c->key;
	tw->snd_nxt = c->snd_nxt;
	tw->rcv_nxt = c->rcv_nxt;
	tw->ts_recent = c->ts_recent;
	tw->ts_offset = c->ts_offset;
	tw->last_invalid_ms = c->last_invalid_ms;
	tw->wnd = (uint16_t)TD_MIN(wnd >> c->rcv_wscale, 65535u);
	tw->flags = TWF_LIVE | ((c->flags & TF_TS_OK) ? TWF_TS_OK : 0);
	tw->reopen = TCP_NONE;
	tw->expire_ms = st->now_ms + 2 * st->cfg.msl_ms;
	fifo_append(st, i);
	tcp_table_set(&st->table, c->key, TCP_TW_BIT | i);
	st->last_tw = i;

	c->key = TCP_NONE;
	c->armed = 0;
	td_timer_cancel(&st->wheel, &c->timer);
	td_tcp_set_state(st, c, TD_TCP_TIME_WAIT);
	tcp_undirty(st, c);
	tcp_ooo_put(st, c);
	c->flags |= TF_DETACHED;
	c->flags2 |= TF2_IN_TW;
	c->tw_idx = i;
	tcp_buf_put(st, c->sbuf);
	c->sbuf = TCP_NONE;
	if (tcp_orphan(c))
		tcp_conn_free(st, c);
	else
		tcp_event(st, c, TD_TCP_EV_CLOSED, 0);
	return i;
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with timestamps if they were on (C-82). */
void
tcp_tw_send_ack(struct td_tcp_stack *st, uint32_t i)
{
	struct td_tw *tw = tw_at(st, i);
	struct td_tcp_opts op;
	struct td_tcp_out o;

	memset(&o, 0, sizeof(o));
	memset(&op, 0, sizeof(op));
	o.tuple = tcp_key(st, tw->key);
	o.seq = tw->snd_nxt;
	o.ack = tw->rcv_nxt;
	o.flags = TD_TH_ACK;
	o.wnd = tw->wnd;
	if (tw->flags & TWF_TS_OK) {
		op.has = TD_OPT_TS;
		op.ts_val = tcp_ts_now(st, tw->ts_offset);
		op.ts_ecr = tw->ts_recent;
	}
	o.optlen = (uint8_t)td_tcp_opts_write(&op, false, o.opts);
	tcp_emit(st, &o);
}

static void
tw_reply(struct td_tcp_stack *st, uint32_t i, const struct td_seg *s, bool challenge)
{
	if (tcp_reply_allowed(st, &tw_at(st, i)->last_invalid_ms, s, challenge))
		tcp_tw_send_ack(st, i);
}

struct td_tcp_conn *tcp_reopen(struct td_tcp_stack *st, struct tcp_listener *l,
			       const struct td_seg *s, const struct td_tcp_opts *o, uint32_t iss);

/* RFC 6191 2 (C-69) and RFC 1122 4.2.2.13 (C-70): may this SYN reopen? */
static bool
syn_may_reopen(const struct td_tw *tw, const struct td_seg *s, const struct td_tcp_opts *o)
{
	if (o->has & TD_OPT_TS) {
		if (!(tw->flags & TWF_TS_OK))
			return true;
		if (td_seq_gt(o->ts_val, tw->ts_recent))
			return true;
		return o->ts_val == tw->ts_recent && td_seq_gt(s->seq, tw->rcv_nxt);
	}
	return td_seq_gt(s->seq, tw->rcv_nxt);
}

/* RFC 9293 3.10.7.4 for TIME-WAIT, with RFC 1337, RFC 7323 and RFC 6191. */
void
tcp_tw_input(struct td_tcp_stack *st, uint32_t i, const struct td_seg *s,
	     const struct td_tcp_opts *o)
{
	struct td_tw *tw = tw_at(st, i);
	bool ts = (tw->flags & TWF_TS_OK) && (o->has & TD_OPT_TS);

	if (s->flags & TD_TH_RST) {
		st->stats.rst_received++;
		if (!st->cfg.rfc1337 && s->seq == tw->rcv_nxt) {
			tcp_tw_free(st, i, TD_TCP_END_TW_KILLED);
			return;
		}
		tcp_drop(st, TD_TCP_DROP_TW_RST); /* C-67 */
		return;
	}
	/* C-73: PAWS holds in TIME-WAIT. */
	if (ts && td_seq_lt(o->ts_val, tw->ts_recent)) {
		tcp_drop(st, TD_TCP_DROP_PAWS);
		tw_reply(st, i, s, false);
		return;
	}
	if (s->flags & TD_TH_SYN) {
		struct tcp_listener *l = tcp_listener_find(st, &s->tuple);
		if (l != NULL && !(s->flags & TD_TH_ACK) && syn_may_reopen(tw, s, o)) {
			/* C-71: the new incarnation's ISS lies beyond the old
			 * SND.NXT; the entry is kept aside until the handshake
			 * completes, and comes back if it does not. */
			uint32_t iss = tw->snd_nxt + 128000;
			uint32_t key = tw->key;
			tcp_table_del(&st->table, key);
			tw->flags |= TWF_HIDDEN;
			struct td_tcp_conn *c = tcp_reopen(st, l, s, o, iss);
			if (c == NULL) {
				tcp_table_add(&st->table, &s->tuple, TCP_TW_BIT | i, &tw->key);
				tw->flags &= ~TWF_HIDDEN;
				tcp_drop(st, TD_TCP_DROP_LISTEN_FULL);
				return;
			}
			if (c->flags & TF_DETACHED)
				return;
			tw->reopen = tcp_conn_idx(st, c);
			c->tw_idx = i;
			st->stats.tw_reopened++;
			return;
		}
		/* C-72: a challenge ACK, nothing changes. */
		tcp_drop(st, TD_TCP_DROP_SYN_CHALLENGED);
		tw_reply(st, i, s, true);
		return;
	}
	if (ts && td_seq_leq(s->seq, tw->rcv_nxt) && td_seq_geq(o->ts_val, tw->ts_recent))
		tw->ts_recent = o->ts_val;
	if ((s->flags & TD_TH_FIN) && s->seq + s->len + 1 == tw->rcv_nxt) {
		/* C-66: a retransmitted FIN: ACK it and restart 2*MSL. */
		tcp_drop(st, TD_TCP_DROP_TW_SEGMENT);
		tw->expire_ms = st->now_ms + 2 * st->cfg.msl_ms;
		fifo_unlink(st, i);
		fifo_append(st, i);
		tcp_tw_send_ack(st, i);
		return;
	}
	tcp_drop(st, TD_TCP_DROP_TW_SEGMENT);
	/* C-68: the window is zero; a bare segment at RCV.NXT passes quietly. */
	if (s->len == 0 && !(s->flags & TD_TH_FIN) && s->seq == tw->rcv_nxt)
		return;
	tw_reply(st, i, s, false);
}

/* A reopened incarnation was deleted before it was established: the old
 * TIME-WAIT comes back for the rest of its 2*MSL (C-71). */
void
tcp_tw_unhide(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	struct td_tw *tw = tw_at(st, c->tw_idx);

	if (tw->flags & TWF_HIDDEN) {
		tcp_table_add(&st->table, tcp_key(st, c->key), TCP_TW_BIT | c->tw_idx, &tw->key);
		tw->flags &= ~TWF_HIDDEN;
		tw->reopen = TCP_NONE;
	}
	c->tw_idx = TCP_NONE;
}

/* The reopened incarnation is established: the old entry is done. */
void
tcp_tw_reopen_done(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	uint32_t i = c->tw_idx;

	c->tw_idx = TCP_NONE;
	tw_at(st, i)->reopen = TCP_NONE;
	tcp_tw_free(st, i, TD_TCP_END_TW_KILLED);
}

int
td_tcp_tw_info(const struct td_tcp_stack *st, const struct td_tuple *t, struct td_tcp_tw_info *info)
{
	uint32_t v = tcp_table_lookup(&st->table, t, NULL);

	if (v == TCP_NONE || !(v & TCP_TW_BIT))
		return -TD_ENOTCONN;
	const struct td_tw *tw = &st->tws[v & ~TCP_TW_BIT];
	info->snd_nxt = tw->snd_nxt;
	info->rcv_nxt = tw->rcv_nxt;
	info->ts_recent = tw->ts_recent;
	info->ts_ok = tw->flags & TWF_TS_OK;
	info->expire_us = st->now_us +
			  (uint64_t)(int64_t)(int32_t)(tw->expire_ms - st->now_ms) * 1000 -
			  st->now_us % 1000;
	return 0;
}
