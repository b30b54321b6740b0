/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

/* RFC 9293 3.10.7, SEGMENT ARRIVES, in the RFC's order. Every handler
 * either consumes the segment or drops it with a counted reason; replies go
 * out through the connection's dirty mark, so that a burst gives at most one
 * ACK per connection (C-64). */

enum ack_verdict { ACK_CONT, ACK_DROP, ACK_GONE, ACK_TW };

void
tcp_drop(struct td_tcp_stack *st, enum td_tcp_drop why)
{
	st->stats.drops[why]++;
}

static void
want_ack(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	c->flags |= TF_ACK_NOW;
	tcp_mark_dirty(st, c);
}

/* An ACK in reply to an invalid segment, within the C-81 limits. */
static void
reply_invalid(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s,
	      bool challenge)
{
	if (tcp_reply_allowed(st, &c->last_invalid_ms, s, challenge))
		want_ack(st, c);
}

uint32_t
tcp_isn(struct td_tcp_stack *st, const struct td_tuple *t)
{
	if (st->ops.isn != NULL)
		return st->ops.isn(st->ops.ctx, t);
	return td_tcp_isn_rfc6528(st, t, st->now_us);
}

void
tcp_conn_init_seq(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t iss)
{
	const struct td_tuple *t = tcp_key(st, c->key);

	c->iss = iss;
	c->snd_una = iss;
	c->snd_nxt = iss;
	c->snd_end = iss + 1;
	c->rtx_nxt = iss;
	/* RFC 7323 5.4: a per-connection random offset for TSval. */
	c->ts_offset = (uint32_t)(tcp_siphash(st->key, (const uint8_t *)t, sizeof(*t)) >> 32);
	c->cwnd = st->cfg.init_cwnd * c->mss;
	c->ssthresh = UINT32_MAX;
	c->t_first_ms = st->now_ms;
}

/* Options of a SYN or SYN-ACK: what both sides offered (RFC 7323, RFC 2018). */
static void
negotiate(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s,
	  const struct td_tcp_opts *o)
{
	const struct td_tuple *t = tcp_key(st, c->key);
	uint32_t ours = st->cfg.mss - (t->family == 6 ? 20 : 0);
	uint32_t peer = (o->has & TD_OPT_MSS) ? o->mss : (t->family == 6 ? 1220 : 536);

	c->mss = (uint16_t)TD_MAX(TD_MIN(ours, peer), 64u);
	c->cwnd = st->cfg.init_cwnd * c->mss;
	if (st->cfg.timestamps && (o->has & TD_OPT_TS)) {
		c->flags |= TF_TS_OK;
		c->ts_recent = o->ts_val;
	}
	if (st->cfg.sack && (o->has & TD_OPT_SACKOK))
		c->flags |= TF_SACK_OK;
	if (st->cfg.window_scaling && (o->has & TD_OPT_WSCALE)) {
		c->flags2 |= TF2_WS_OK;
		c->snd_wscale = o->wscale;
		c->rcv_wscale = st->wscale;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt; /* nothing offered yet: the ACK we send offers it */
	c->last_ack_sent = c->rcv_nxt;
	c->snd_wnd = s->wnd; /* never scaled on a SYN (RFC 7323 2.2) */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
}

/* RFC 9293 3.10.7.1, CLOSED: a reset for anything but a reset (C-90, C-91). */
static void
closed_input(struct td_tcp_stack *st, const struct td_seg *s)
{
	tcp_drop(st, TD_TCP_DROP_NO_CONN);
	tcp_send_rst_reply(st, s);
}

/* RFC 9293 3.10.7.2, LISTEN. */
static void
listen_input(struct td_tcp_stack *st, struct tcp_listener *l, const struct td_seg *s,
	     const struct td_tcp_opts *o)
{
	if (s->flags & TD_TH_RST) {
		tcp_drop(st, TD_TCP_DROP_LISTEN_BAD);
		return;
	}
	if (s->flags & TD_TH_ACK) {
		tcp_drop(st, TD_TCP_DROP_LISTEN_BAD);
		tcp_send_rst_reply(st, s);
		return;
	}
	if (!(s->flags & TD_TH_SYN)) {
		tcp_drop(st, TD_TCP_DROP_LISTEN_BAD);
		return;
	}
	struct td_tcp_conn *c = tcp_conn_alloc(st, &s->tuple, &l->oo);
	if (c == NULL) {
		tcp_drop(st, TD_TCP_DROP_LISTEN_FULL);
		return;
	}
	c->flags |= TF_USER | TF_PASSIVE;
	tcp_conn_init_seq(st, c, tcp_isn(st, &s->tuple));
	negotiate(st, c, s, o);
	td_tcp_set_state(st, c, TD_TCP_SYN_RECEIVED);
	st->stats.conn_accepted++;
	tcp_send_syn(st, c, false);
	tcp_arm_rtx(st, c);
	tcp_event(st, c, TD_TCP_EV_ACCEPTED, 0);
}

/* A passive connection reopened from TIME-WAIT (C-69 to C-71). */
struct td_tcp_conn *tcp_reopen(struct td_tcp_stack *st, struct tcp_listener *l,
			       const struct td_seg *s, const struct td_tcp_opts *o, uint32_t iss);
struct td_tcp_conn *
tcp_reopen(struct td_tcp_stack *st, struct tcp_listener *l, const struct td_seg *s,
	   const struct td_tcp_opts *o, uint32_t iss)
{
	struct td_tcp_conn *c = tcp_conn_alloc(st, &s->tuple, &l->oo);

	if (c == NULL)
		return NULL;
	c->flags |= TF_USER | TF_PASSIVE;
	tcp_conn_init_seq(st, c, iss);
	negotiate(st, c, s, o);
	td_tcp_set_state(st, c, TD_TCP_SYN_RECEIVED);
	st->stats.conn_accepted++;
	tcp_send_syn(st, c, false);
	tcp_arm_rtx(st, c);
	tcp_event(st, c, TD_TCP_EV_ACCEPTED, 0);
	return c;
}

/* RFC 9293 3.10.7.3, SYN-SENT. */
static void
syn_sent_input(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s,
	       const struct td_tcp_opts *o)
{
	bool ack = s->flags & TD_TH_ACK;

	/* first: the ACK must cover our SYN and nothing more */
	if (ack && (td_seq_leq(s->ack, c->iss) || td_seq_gt(s->ack, c->snd_nxt))) {
		tcp_drop(st, TD_TCP_DROP_SYN_SENT_BAD);
		tcp_send_rst_reply(st, s);
		return;
	}
	/* second: a RST is believed only with an acceptable ACK */
	if (s->flags & TD_TH_RST) {
		if (!ack) {
			tcp_drop(st, TD_TCP_DROP_SYN_SENT_BAD);
			return;
		}
		st->stats.rst_received++;
		c->pending_err = TD_ECONNREFUSED;
		tcp_conn_delete(st, c, TD_TCP_END_REFUSED, TD_ECONNREFUSED);
		return;
	}
	/* fourth: the SYN */
	if (!(s->flags & TD_TH_SYN)) {
		tcp_drop(st, TD_TCP_DROP_SYN_SENT_BAD);
		return;
	}
	negotiate(st, c, s, o);
	if (!ack) {
		/* Simultaneous open: SYN-RECEIVED, our SYN again with an ACK. */
		td_tcp_set_state(st, c, TD_TCP_SYN_RECEIVED);
		tcp_send_syn(st, c, true);
		return;
	}
	c->snd_una = s->ack;
	if ((c->flags & TF_RTT_TIMING) && !(c->flags2 & TF2_REXMIT_SYN))
		tcp_rtt_sample(st, c, (st->now_ms - c->rtt_start_ms) * 1000);
	c->flags &= ~TF_RTT_TIMING;
	c->nretx = 0;
	c->backoff = 0;
	tcp_disarm(st, c, TT_RTX);
	td_tcp_set_state(st, c,
			 (c->flags & TF_FIN_PENDING) ? TD_TCP_FIN_WAIT_1 : TD_TCP_ESTABLISHED);
	c->t_first_ms = st->now_ms;
	want_ack(st, c);
	tcp_event(st, c, TD_TCP_EV_CONNECTED, 0);
}

/* The entry goes back to the side pool once it holds nothing. */
static void
ooo_release_if_empty(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	const struct tcp_ooo *o = tcp_ooo(st, c);

	if (o != NULL && o->n == 0 && !(c->flags2 & TF2_OOO_FIN))
		tcp_ooo_put(st, c);
}

/* RFC 9293 3.10.7.4 eighth: the FIN, in order. The state changes before
 * the user hears of it, so that a CLOSE made from the PEER_CLOSED callback
 * is a CLOSE in CLOSE-WAIT (LAST-ACK follows, not CLOSING). */
static enum ack_verdict
fin_rcvd(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= TF_FIN_RCVD;
	c->flags2 &= ~TF2_OOO_FIN;
	ooo_release_if_empty(st, c);
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
		td_tcp_set_state(st, c, TD_TCP_CLOSE_WAIT);
		if (st->cfg.ack_fin_delayed && st->cfg.delack_ms != 0) {
			/* C-63 option: hold the ACK so it can ride on our FIN. */
			c->flags2 |= TF2_FIN_ACK_HELD;
			if (!(c->armed & TT_DELACK))
				tcp_arm(st, c, TT_DELACK, st->now_ms + st->cfg.delack_ms);
			tcp_mark_dirty(st, c);
		} else {
			want_ack(st, c);
		}
		break;
	case TD_TCP_FIN_WAIT_1:
		if (!(c->flags & TF_FIN_ACKED)) {
			td_tcp_set_state(st, c, TD_TCP_CLOSING);
			want_ack(st, c);
			break;
		}
		/* Our FIN is acknowledged (perhaps by this segment): as in
		 * FIN-WAIT-2. */
		/* fall through */
	case TD_TCP_FIN_WAIT_2:
		/* The ACK of the FIN goes out now, from the connection, then the
		 * connection shrinks to its TIME-WAIT entry. */
		tcp_send_ack(st, c);
		tcp_event(st, c, TD_TCP_EV_PEER_CLOSED, 0);
		if (c->flags & TF_DETACHED)
			return ACK_GONE;
		tcp_tw_enter(st, c);
		return ACK_TW;
	case TD_TCP_CLOSE_WAIT:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
	case TD_TCP_SYN_SENT:
	case TD_TCP_TIME_WAIT:
		want_ack(st, c);
		break;
	}
	tcp_event(st, c, TD_TCP_EV_PEER_CLOSED, 0);
	return (c->flags & TF_DETACHED) ? ACK_GONE : ACK_CONT;
}

static void
ooo_to_front(struct tcp_ooo *o, unsigned i)
{
	uint32_t l = o->r[i][0], r = o->r[i][1];

	for (; i > 0; i--) {
		o->r[i][0] = o->r[i - 1][0];
		o->r[i][1] = o->r[i - 1][1];
	}
	o->r[0][0] = l;
	o->r[0][1] = r;
}

static void
ooo_remove(struct tcp_ooo *o, unsigned i)
{
	for (; i + 1 < o->n; i++) {
		o->r[i][0] = o->r[i + 1][0];
		o->r[i][1] = o->r[i + 1][1];
	}
	o->n--;
}

/* Add [l, r) to the out-of-order ranges, merging neighbours; the range it
 * lands in moves to the front (most recently changed first, for SACK). */
static bool
ooo_add(const struct td_tcp_stack *st, struct tcp_ooo *o, uint32_t l, uint32_t r)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (td_seq_gt(l, o->r[i][1]) || td_seq_lt(r, o->r[i][0]))
			continue;
		o->r[i][0] = td_seq_min(l, o->r[i][0]);
		o->r[i][1] = td_seq_max(r, o->r[i][1]);
		ooo_to_front(o, i);
		/* it may now touch another range */
		for (unsigned j = 1; j < o->n; j++) {
			if (td_seq_gt(o->r[j][0], o->r[0][1]) || td_seq_lt(o->r[j][1], o->r[0][0]))
				continue;
			o->r[0][0] = td_seq_min(o->r[0][0], o->r[j][0]);
			o->r[0][1] = td_seq_max(o->r[0][1], o->r[j][1]);
			ooo_remove(o, j);
			break;
		}
		return true;
	}
	if (o->n >= st->cfg.ooo_max)
		return false;
	o->r[o->n][0] = l;
	o->r[o->n][1] = r;
	o->n++;
	ooo_to_front(o, o->n - 1);
	return true;
}

/* Pull ranges that now start at or before RCV.NXT into the in-order stream. */
static bool
ooo_merge(struct tcp_ooo *o, struct td_tcp_conn *c)
{
	bool moved = false;

	for (unsigned i = 0; i < o->n;) {
		if (td_seq_gt(o->r[i][0], c->rcv_nxt)) {
			i++;
			continue;
		}
		if (td_seq_gt(o->r[i][1], c->rcv_nxt)) {
			c->rcv_unread += o->r[i][1] - c->rcv_nxt;
			c->rcv_nxt = o->r[i][1];
		}
		ooo_remove(o, i);
		moved = true;
		i = 0;
	}
	return moved;
}

/* RFC 9293 3.10.7.4 seventh and eighth for ESTABLISHED, FIN-WAIT-1 and
 * FIN-WAIT-2: data trimmed to the window is delivered in order or held out
 * of order; the FIN takes effect when everything before it is in. */
static enum ack_verdict
rcv_data(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t seq, const uint8_t *data,
	 uint32_t len, bool fin)
{
	if (seq == c->rcv_nxt) {
		struct tcp_ooo *o = tcp_ooo(st, c);
		bool filled = o != NULL && o->n > 0;
		if (len > 0) {
			tcp_stream_rx(st, c, seq, data, len);
			c->rcv_nxt += len;
			c->rcv_unread += len;
			c->delack_bytes += len;
		}
		/* The FIN counts once everything before it is in, whether it came
		 * with this segment or was held out of order (C-42). */
		bool fin_now = fin && c->rcv_nxt == seq + len;
		if (o != NULL) {
			ooo_merge(o, c);
			fin_now = fin_now || ((c->flags2 & TF2_OOO_FIN) && c->rcv_nxt == o->fin);
			ooo_release_if_empty(st, c);
		}
		if (len > 0 || filled)
			tcp_event(st, c, TD_TCP_EV_READABLE, 0);
		if (c->flags & TF_DETACHED)
			return ACK_GONE;
		if (fin_now)
			return fin_rcvd(st, c);
		/* RFC 5681 4.2 / C-62: at once for a filled gap or every second
		 * full-sized segment; otherwise within the delayed-ACK time. */
		if (filled || st->cfg.delack_ms == 0 || c->delack_bytes >= 2u * c->mss) {
			want_ack(st, c);
		} else if (len > 0) {
			if (!(c->armed & TT_DELACK))
				tcp_arm(st, c, TT_DELACK, st->now_ms + st->cfg.delack_ms);
		}
		return ACK_CONT;
	}
	/* Out of order: keep it (bounded, and only while the side pool has an
	 * entry for it) and say at once what we miss. */
	if (len > 0 || fin) {
		struct tcp_ooo *o = tcp_ooo_get(st, c);
		if (o == NULL) {
			tcp_drop(st, TD_TCP_DROP_OOO_FULL);
		} else {
			if (len > 0) {
				if (ooo_add(st, o, seq, seq + len))
					tcp_stream_rx(st, c, seq, data, len);
				else
					tcp_drop(st, TD_TCP_DROP_OOO_FULL);
			}
			if (fin) {
				c->flags2 |= TF2_OOO_FIN; /* C-42 */
				o->fin = seq + len;
			}
			ooo_release_if_empty(st, c);
		}
	}
	want_ack(st, c);
	return ACK_CONT;
}

/* Our FIN was acknowledged: what the state does with that. */
static void
enter_fin_wait_2(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	td_tcp_set_state(st, c, TD_TCP_FIN_WAIT_2);
	if (tcp_orphan(c))
		tcp_arm(st, c, TT_FW2, st->now_ms + st->cfg.fin_wait2_timeout_ms);
}

static enum ack_verdict
fin_acked(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s)
{
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_FIN_WAIT_1:
		/* With a FIN on the same segment, FIN-WAIT-1 goes straight to
		 * TIME-WAIT (C-38, C-65); sync_input() settles the rest. */
		if (!(s->flags & TD_TH_FIN))
			enter_fin_wait_2(st, c);
		tcp_event(st, c, TD_TCP_EV_CLOSE_DONE, 0);
		return (c->flags & TF_DETACHED) ? ACK_GONE : ACK_CONT;
	case TD_TCP_CLOSING:
		tcp_event(st, c, TD_TCP_EV_CLOSE_DONE, 0);
		tcp_tw_enter(st, c);
		return ACK_TW;
	case TD_TCP_LAST_ACK:
		tcp_event(st, c, TD_TCP_EV_CLOSE_DONE, 0);
		tcp_conn_delete(st, c, TD_TCP_END_NORMAL, 0);
		return ACK_GONE;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
	case TD_TCP_SYN_SENT:
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
	case TD_TCP_CLOSE_WAIT:
	case TD_TCP_FIN_WAIT_2:
	case TD_TCP_TIME_WAIT:
		break;
	}
	return ACK_CONT;
}

/* RFC 9293 3.10.7.4 fifth: the ACK field. */
static enum ack_verdict
ack_input(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s,
	  const struct td_tcp_opts *o)
{
	uint32_t ack = s->ack;

	if (c->state == TD_TCP_SYN_RECEIVED) {
		if (!td_seq_gt(ack, c->snd_una) || td_seq_gt(ack, c->snd_nxt)) {
			tcp_drop(st, TD_TCP_DROP_BAD_ACK_SYN_RCVD);
			tcp_send_rst_reply(st, s);
			return ACK_DROP;
		}
		/* C-03: a CLOSE made in SYN-RECEIVED with data queued takes
		 * effect now. */
		td_tcp_set_state(st, c,
				 (c->flags & TF_FIN_PENDING) ? TD_TCP_FIN_WAIT_1
							     : TD_TCP_ESTABLISHED);
		c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
		c->max_snd_wnd = TD_MAX(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		if (c->tw_idx != TCP_NONE)
			tcp_tw_reopen_done(st, c);
		tcp_event(st, c, TD_TCP_EV_CONNECTED, 0);
		if (c->flags & TF_DETACHED)
			return ACK_GONE;
	}
	/* RFC 5961 5.2 (C-80): an ACK too far in the past is not believed. */
	if (td_seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
		tcp_drop(st, TD_TCP_DROP_ACK_TOO_OLD);
		reply_invalid(st, c, s, false);
		return ACK_DROP;
	}
	/* C-31: an ACK of something not yet sent. */
	if (td_seq_gt(ack, c->snd_nxt)) {
		tcp_drop(st, TD_TCP_DROP_ACK_UNSENT);
		reply_invalid(st, c, s, false);
		return ACK_DROP;
	}
	/* Window update (SND.WL1/SND.WL2 rule), also on duplicate ACKs. */
	uint32_t old_wnd = c->snd_wnd;
	if (td_seq_leq(c->snd_una, ack) &&
	    (td_seq_lt(c->snd_wl1, s->seq) ||
	     (c->snd_wl1 == s->seq && td_seq_leq(c->snd_wl2, ack)))) {
		c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
	}
	if (c->flags & TF_PERSIST) {
		/* An answered probe: for a connection the user holds, the peer
		 * is alive (C-55); for an orphan it changes nothing (C-58). */
		if (!tcp_orphan(c)) {
			c->t_first_ms = st->now_ms;
			c->nretx = 0;
		}
		if (c->snd_wnd > 0) {
			tcp_disarm(st, c, TT_RTX);
			c->backoff = 0;
		}
	}
	if (td_seq_gt(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		uint32_t before = tcp_snd_queued(c);
		/* RTT (RFC 6298 3, RFC 7323 4): the timestamp echo tells which
		 * transmission is acknowledged; without it, Karn's rule. */
		if ((c->flags & TF_TS_OK) && (o->has & TD_OPT_TS) && o->ts_ecr != 0) {
			uint32_t rtt_ms = st->now_ms - (o->ts_ecr - c->ts_offset);
			if (rtt_ms < 3600000)
				tcp_rtt_sample(st, c, rtt_ms * 1000);
		} else if ((c->flags & TF_RTT_TIMING) && td_seq_geq(ack, c->rtt_seq)) {
			tcp_rtt_sample(st, c, (st->now_ms - c->rtt_start_ms) * 1000);
		}
		if ((c->flags & TF_RTT_TIMING) && td_seq_geq(ack, c->rtt_seq))
			c->flags &= ~TF_RTT_TIMING;
		c->snd_una = ack;
		c->nretx = 0;
		c->dupacks = 0;
		/* The user timeout runs from the first transmission of the oldest
		 * unacknowledged data or FIN (PACKETDRILL.md 7): the segment sent
		 * next after the old oldest one becomes the oldest. */
		if ((c->flags2 & TF2_T2) && td_seq_geq(ack, c->t2_seq)) {
			c->t_first_ms = c->t2_ms;
			c->flags2 &= ~TF2_T2;
		}
		if ((c->flags2 & TF2_REXMITTING) && td_seq_lt(c->rtx_nxt, ack))
			c->rtx_nxt = ack;
		/* RFC 5681 3.1: slow start, then congestion avoidance. */
		if (c->cwnd < c->ssthresh)
			c->cwnd += TD_MIN(acked, (uint32_t)c->mss);
		else
			c->cwnd += TD_MAX(1u, (uint32_t)c->mss * c->mss / c->cwnd);
		if (c->snd_una == c->snd_nxt)
			tcp_disarm(st, c, TT_RTX);
		else
			tcp_arm_rtx(st, c); /* RFC 6298 5.3 */
		if ((c->flags & TF_FIN_SENT) && ack == c->snd_end + 1)
			c->flags |= TF_FIN_ACKED;
		if (tcp_snd_queued(c) < before)
			tcp_event(st, c, TD_TCP_EV_WRITABLE, 0);
		if (c->flags & TF_DETACHED)
			return ACK_GONE;
		tcp_mark_dirty(st, c);
		if (c->flags & TF_FIN_ACKED)
			return fin_acked(st, c, s);
	} else if (ack == c->snd_una && s->len == 0 && !(s->flags & TD_TH_FIN) &&
		   c->snd_wnd == old_wnd && c->snd_nxt != c->snd_una) {
		/* RFC 5681 3.2: the third duplicate ACK resends at once. */
		if (++c->dupacks == 3) {
			c->ssthresh = TD_MAX((c->snd_nxt - c->snd_una) / 2, 2u * c->mss);
			c->cwnd = c->ssthresh;
			tcp_retransmit(st, c);
		}
	}
	if (c->snd_wnd > old_wnd)
		tcp_mark_dirty(st, c);
	return ACK_CONT;
}

/* RFC 9293 3.10.7.4 second: a RST at RCV.NXT (C-28). */
static void
rst_input(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	st->stats.rst_received++;
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_SYN_RECEIVED:
		if (c->flags & TF_PASSIVE) {
			/* Back to LISTEN (the listener never left); a reopened
			 * TIME-WAIT comes back (C-71), in tcp_conn_delete(). */
			tcp_conn_delete(st, c, TD_TCP_END_PEER_RESET, TD_ECONNRESET);
			return;
		}
		c->pending_err = TD_ECONNREFUSED;
		tcp_conn_delete(st, c, TD_TCP_END_REFUSED, TD_ECONNREFUSED);
		return;
	case TD_TCP_CLOSE_WAIT:
		c->pending_err = TD_EPIPE;
		tcp_conn_delete(st, c, TD_TCP_END_PEER_RESET, TD_ECONNRESET);
		return;
	case TD_TCP_ESTABLISHED:
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_FIN_WAIT_2:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
		c->pending_err = TD_ECONNRESET;
		tcp_conn_delete(st, c, TD_TCP_END_PEER_RESET, TD_ECONNRESET);
		return;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
	case TD_TCP_SYN_SENT:
	case TD_TCP_TIME_WAIT:
		return;
	}
}

/* RFC 9293 3.4 table 5, with C-24: is the segment acceptable? */
static bool
acceptable(const struct td_tcp_conn *c, const struct td_seg *s, uint32_t seg_len)
{
	uint32_t wnd = tcp_rcv_wnd(c);
	uint32_t nxt = c->rcv_nxt;

	if (seg_len == 0)
		return wnd == 0 ? s->seq == nxt : td_seq_in(s->seq, nxt, nxt + wnd);
	if (wnd == 0)
		return s->len == 0 && (s->flags & TD_TH_FIN) && s->seq == nxt; /* C-24 */
	return td_seq_in(s->seq, nxt, nxt + wnd) || td_seq_in(s->seq + seg_len - 1, nxt, nxt + wnd);
}

static void text_input(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s,
		       bool fin);

/* RFC 9293 3.10.7.4: SYN-RECEIVED and every synchronized state. */
static void
sync_input(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s,
	   const struct td_tcp_opts *o)
{
	bool rst = s->flags & TD_TH_RST, syn = s->flags & TD_TH_SYN;
	bool fin = s->flags & TD_TH_FIN;
	uint32_t seg_len = s->len + syn + fin;
	bool ts = (c->flags & TF_TS_OK) && (o->has & TD_OPT_TS);

	/* RFC 7323 5.3 R1 (C-84): PAWS, never for a RST. */
	if (ts && !rst && td_seq_lt(o->ts_val, c->ts_recent)) {
		tcp_drop(st, TD_TCP_DROP_PAWS);
		reply_invalid(st, c, s, false);
		return;
	}
	/* first: the sequence number. With a zero window, a segment at RCV.NXT
	 * that carries text is not acceptable, but its ACK and RST are still
	 * processed (RFC 9293 3.4, MUST-66; C-22): continue without the text. */
	bool zero_wnd_text = false;
	if (!acceptable(c, s, seg_len) && s->seq == c->rcv_nxt && !syn &&
	    !td_seq_gt(c->rcv_adv, c->rcv_nxt)) {
		zero_wnd_text = true;
		tcp_drop(st, TD_TCP_DROP_RCV_WINDOW_FULL);
		want_ack(st, c);
	} else if (!acceptable(c, s, seg_len)) {
		if (rst) {
			tcp_drop(st, TD_TCP_DROP_RST_OUT_OF_WINDOW); /* C-77 */
			return;
		}
		if (syn) {
			/* RFC 5961 4.2 (C-79): any SYN gets a challenge ACK. */
			if (c->state == TD_TCP_SYN_RECEIVED && s->seq == c->irs) {
				tcp_send_syn(st, c, true);
				return;
			}
			tcp_drop(st, TD_TCP_DROP_SYN_CHALLENGED);
			reply_invalid(st, c, s, true);
			return;
		}
		tcp_drop(st, TD_TCP_DROP_SEQ_OUT_OF_WINDOW);
		/* C-26: a segment ending exactly at RCV.NXT (a retransmitted
		 * FIN) still has its ACK processed first, as Linux does. */
		if (seg_len > 0 && s->seq + seg_len == c->rcv_nxt && (s->flags & TD_TH_ACK) &&
		    c->state != TD_TCP_SYN_RECEIVED) {
			enum ack_verdict v = ack_input(st, c, s, o);
			if (v == ACK_GONE)
				return;
			if (v == ACK_TW) {
				tcp_tw_send_ack(st, st->last_tw);
				return;
			}
		}
		reply_invalid(st, c, s, false);
		return;
	}
	/* second: RST (RFC 5961 3.2) */
	if (rst) {
		if (s->seq == c->rcv_nxt) {
			rst_input(st, c);
			return;
		}
		tcp_drop(st, TD_TCP_DROP_RST_CHALLENGED); /* C-78 */
		reply_invalid(st, c, s, true);
		return;
	}
	/* fourth: SYN (RFC 5961 4.2) */
	if (syn) {
		tcp_drop(st, TD_TCP_DROP_SYN_CHALLENGED);
		reply_invalid(st, c, s, true);
		return;
	}
	/* fifth: ACK */
	if (!(s->flags & TD_TH_ACK)) {
		tcp_drop(st, TD_TCP_DROP_NO_ACK); /* C-29 */
		return;
	}
	/* RFC 7323 4.3 (C-85): TS.Recent from segments that reach the left
	 * edge only. */
	if (ts && td_seq_leq(s->seq, c->last_ack_sent) && td_seq_geq(o->ts_val, c->ts_recent))
		c->ts_recent = o->ts_val;
	enum ack_verdict v = ack_input(st, c, s, o);
	if (v != ACK_CONT)
		return;
	if (!zero_wnd_text)
		text_input(st, c, s, fin);
	/* Our FIN was acknowledged by a segment whose FIN did not take effect
	 * (out of order, or refused): FIN-WAIT-2 after all. */
	if (!(c->flags & TF_DETACHED) && c->state == TD_TCP_FIN_WAIT_1 && (c->flags & TF_FIN_ACKED))
		enter_fin_wait_2(st, c);
}

/* RFC 9293 3.10.7.4 seventh and eighth, after the ACK field. */
static void
text_input(struct td_tcp_stack *st, struct td_tcp_conn *c, const struct td_seg *s, bool fin)
{
	/* Trim to what is new and what fits the window. */
	uint32_t seq = s->seq;
	const uint8_t *data = s->data;
	uint32_t len = s->len;
	if (td_seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;
		if (skip > len) { /* only an old FIN: nothing new */
			want_ack(st, c);
			return;
		}
		data += skip;
		len -= skip;
		seq = c->rcv_nxt;
	}
	uint32_t wnd = tcp_rcv_wnd(c);
	uint32_t room = seq - c->rcv_nxt < wnd ? wnd - (seq - c->rcv_nxt) : 0;
	if (len > room) {
		tcp_drop(st, TD_TCP_DROP_RCV_WINDOW_FULL);
		len = room;
		fin = false;
		want_ack(st, c);
	}
	if (len == 0 && !fin)
		return;

	/* seventh: segment text */
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_ESTABLISHED:
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_FIN_WAIT_2:
		if (len > 0 && tcp_orphan(c) && c->state != TD_TCP_ESTABLISHED) {
			/* C-15: nobody can read it any more. */
			tcp_drop(st, TD_TCP_DROP_DATA_AFTER_CLOSE);
			tcp_send_rst_reply(st, s);
			tcp_conn_delete(st, c, TD_TCP_END_RST_DATA_AFTER_CLOSE, TD_ECONNRESET);
			return;
		}
		rcv_data(st, c, seq, data, len, fin);
		return;
	case TD_TCP_CLOSE_WAIT:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
		/* C-35: text after the peer's FIN is ignored; a FIN again is a
		 * retransmission, re-acknowledged by the sequence check. */
		if (len > 0)
			tcp_drop(st, TD_TCP_DROP_DATA_AFTER_FIN);
		return;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
	case TD_TCP_SYN_SENT:
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_TIME_WAIT:
		return;
	}
}

void
tcp_input_segment(struct td_tcp_stack *st, const struct td_seg *s)
{
	struct td_tcp_opts o;
	uint32_t v;

	st->stats.segs_in++;
	st->stats.bytes_in += s->len;
	/* C-89: a malformed option list is dropped in every state, never a reset. */
	if (td_tcp_opts_parse(s->opts, s->optlen, &o) != 0) {
		tcp_drop(st, TD_TCP_DROP_BAD_OPTION);
		return;
	}
	v = tcp_table_lookup(&st->table, &s->tuple, NULL);
	if (v == TCP_NONE) {
		struct tcp_listener *l = tcp_listener_find(st, &s->tuple);
		if (l != NULL)
			listen_input(st, l, s, &o);
		else
			closed_input(st, s);
		return;
	}
	if (v & TCP_TW_BIT) {
		tcp_tw_input(st, v & ~TCP_TW_BIT, s, &o);
		return;
	}
	struct td_tcp_conn *c = &st->conns[v];
	if (c->state == TD_TCP_SYN_SENT)
		syn_sent_input(st, c, s, &o);
	else
		sync_input(st, c, s, &o);
}
