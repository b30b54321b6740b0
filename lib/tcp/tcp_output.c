/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

uint32_t
tcp_ts_now(const struct td_tcp_stack *st, uint32_t offset)
{
	return st->now_ms + offset;
}

void
tcp_emit(struct td_tcp_stack *st, struct td_tcp_out *o)
{
	st->stats.segs_out++;
	st->stats.bytes_out += o->len;
	if (o->flags & TD_TH_RST)
		st->stats.rst_sent++;
	st->ops.tx(st->ops.ctx, o);
}

uint32_t
tcp_rcv_space(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	if ((enum td_tcp_stream)c->stream == TD_TCP_STREAM_GENERATED)
		return st->cfg.rcvbuf; /* consumed as it arrives */
	return st->cfg.rcvbuf - c->rcv_unread;
}

/* The window to advertise: never shrunk (RFC 9293 3.8.6.2.2 MUST-39 spirit),
 * and grown only by at least min(rcvbuf / 2, MSS) at a time (receiver SWS
 * avoidance). Returns the unscaled window and moves rcv_adv. */
static uint32_t
rcv_window(const struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	uint32_t space = tcp_rcv_space(st, c);
	uint32_t cur = tcp_rcv_wnd(c);
	uint32_t step = TD_MIN(st->cfg.rcvbuf / 2, (uint32_t)c->mss);
	uint32_t wnd;

	if (space <= cur || space - cur < step)
		wnd = cur;
	else
		wnd = space;
	if ((wnd >> c->rcv_wscale) > 65535)
		wnd = 65535u << c->rcv_wscale;
	wnd = (wnd >> c->rcv_wscale) << c->rcv_wscale;
	if (td_seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + wnd;
	return wnd;
}

static void
fill_opts(const struct td_tcp_stack *st, struct td_tcp_conn *c, struct td_tcp_out *o, bool rst)
{
	struct td_tcp_opts op;

	memset(&op, 0, sizeof(op));
	if (c->flags & TF_TS_OK) {
		op.has |= TD_OPT_TS;
		op.ts_val = tcp_ts_now(st, c->ts_offset);
		op.ts_ecr = c->ts_recent;
	}
	const struct tcp_ooo *ooo = tcp_ooo(st, c);
	if (!rst && (c->flags & TF_SACK_OK) && ooo != NULL && ooo->n > 0) {
		/* RFC 2018 4: the ranges are kept most recently changed first,
		 * so the first block covers the segment that triggered this ACK
		 * and the rest repeat the most recent ones. */
		op.has |= TD_OPT_SACK;
		for (unsigned i = 0; i < ooo->n; i++) {
			op.sack[i][0] = ooo->r[i][0];
			op.sack[i][1] = ooo->r[i][1];
		}
		op.nsack = ooo->n;
	}
	o->optlen = (uint8_t)td_tcp_opts_write(&op, false, o->opts);
}

/* Build and send one segment of a synchronized connection. Every segment
 * but a RST carries the ACK and the current window. */
static void
send_seg(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags,
	 bool rexmit)
{
	struct td_tcp_out o;

	o.tuple = tcp_key(st, c->key);
	o.seq = seq;
	o.flags = flags;
	o.len = len;
	o.rexmit = rexmit;
	o.conn = c;
	o.off = seq - tcp_snd_base(c);
	if (flags & TD_TH_ACK) {
		o.ack = c->rcv_nxt;
		o.wnd = (uint16_t)(rcv_window(st, c) >> c->rcv_wscale);
		c->last_ack_sent = c->rcv_nxt;
		c->flags &= ~TF_ACK_NOW;
		c->delack_bytes = 0;
		c->flags2 &= ~TF2_FIN_ACK_HELD;
		if (c->armed & TT_DELACK)
			tcp_disarm(st, c, TT_DELACK);
	} else {
		o.ack = 0;
		o.wnd = 0;
	}
	fill_opts(st, c, &o, flags & TD_TH_RST);
	tcp_emit(st, &o);
}

void
tcp_send_ack(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	send_seg(st, c, c->snd_nxt, 0, TD_TH_ACK, false);
}

/* RFC 9293 3.10.5 and C-93/C-94: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>. */
void
tcp_send_rst_conn(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	struct td_tcp_out o;

	memset(&o, 0, sizeof(o));
	o.tuple = tcp_key(st, c->key);
	o.seq = c->snd_nxt;
	o.ack = c->rcv_nxt;
	o.flags = TD_TH_RST | TD_TH_ACK;
	fill_opts(st, c, &o, true);
	tcp_emit(st, &o);
}

/* RFC 9293 3.10.7.1: the reset for a segment that matches nothing. */
void
tcp_send_rst_reply(struct td_tcp_stack *st, const struct td_seg *s)
{
	struct td_tcp_out o;

	if (s->flags & TD_TH_RST)
		return; /* C-92: never a RST for a RST */
	memset(&o, 0, sizeof(o));
	o.tuple = &s->tuple;
	if (s->flags & TD_TH_ACK) {
		o.seq = s->ack;
		o.flags = TD_TH_RST;
	} else {
		o.seq = 0;
		o.ack = s->seq + s->len + !!(s->flags & TD_TH_SYN) + !!(s->flags & TD_TH_FIN);
		o.flags = TD_TH_RST | TD_TH_ACK;
	}
	tcp_emit(st, &o);
}

/* Our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), with the options the config
 * enables and, on a SYN-ACK, that the peer offered. */
void
tcp_send_syn(struct td_tcp_stack *st, struct td_tcp_conn *c, bool rexmit)
{
	const struct td_tuple *t = tcp_key(st, c->key);
	bool synack = c->state == TD_TCP_SYN_RECEIVED || (c->flags & TF_PASSIVE);
	struct td_tcp_opts op;
	struct td_tcp_out o;

	memset(&op, 0, sizeof(op));
	memset(&o, 0, sizeof(o));
	op.has = TD_OPT_MSS;
	op.mss = (uint16_t)(st->cfg.mss - (t->family == 6 ? 20 : 0));
	if (synack ? (c->flags & TF_SACK_OK) : st->cfg.sack)
		op.has |= TD_OPT_SACKOK;
	if (synack ? (c->flags & TF_TS_OK) : st->cfg.timestamps) {
		op.has |= TD_OPT_TS;
		op.ts_val = tcp_ts_now(st, c->ts_offset);
		op.ts_ecr = synack ? c->ts_recent : 0;
	}
	if (synack ? (c->flags2 & TF2_WS_OK) : st->cfg.window_scaling) {
		op.has |= TD_OPT_WSCALE;
		op.wscale = synack ? c->rcv_wscale : st->wscale;
	}
	o.tuple = t;
	o.seq = c->iss;
	o.flags = TD_TH_SYN;
	if (synack) {
		o.flags |= TD_TH_ACK;
		o.ack = c->rcv_nxt;
	}
	o.wnd = (uint16_t)TD_MIN(st->cfg.rcvbuf, 65535u);
	o.rexmit = rexmit;
	o.optlen = (uint8_t)td_tcp_opts_write(&op, true, o.opts);
	if (synack)
		c->rcv_adv = c->rcv_nxt + o.wnd;
	if (!rexmit) {
		c->rtt_seq = c->iss + 1;
		c->rtt_start_ms = st->now_ms;
		c->flags |= TF_RTT_TIMING;
	} else {
		c->flags2 |= TF2_REXMIT_SYN;
		st->stats.syn_retransmits++;
		st->stats.retransmits++;
	}
	if (!rexmit)
		c->snd_nxt = c->iss + 1;
	tcp_emit(st, &o);
}

/* Send the range starting at @seq: up to one MSS of data and, if it ends at
 * the last byte SENT after a CLOSE, the FIN. Returns the sequence space used. */
static uint32_t
send_range(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t seq, uint32_t len, bool fin,
	   bool rexmit)
{
	uint8_t flags = TD_TH_ACK;

	if (len > 0 && seq + len == c->snd_end)
		flags |= TD_TH_PSH; /* C-05: the last byte queued is pushed */
	if (fin)
		flags |= TD_TH_FIN;
	send_seg(st, c, seq, len, flags, rexmit);
	return len + fin;
}

static uint32_t
seg_size(const struct td_tcp_conn *c)
{
	/* Segments carry at most the MSS less the option bytes (timestamps). */
	return c->mss - ((c->flags & TF_TS_OK) ? 12 : 0);
}

/* RFC 6298 5.4: resend the earliest unacknowledged segment with its
 * original sequence numbers, the FIN too when it follows (C-49). */
void
tcp_retransmit(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->state == TD_TCP_SYN_SENT || td_seq_lt(c->snd_una, tcp_snd_base(c))) {
		tcp_send_syn(st, c, true);
		return;
	}
	uint32_t seq = c->snd_una;
	uint32_t avail = td_seq_lt(seq, c->snd_end) ? c->snd_end - seq : 0;
	uint32_t len = TD_MIN(avail, seg_size(c));
	bool fin = (c->flags & TF_FIN_SENT) && seq + len == c->snd_end &&
		   td_seq_gt(c->snd_nxt, c->snd_end);

	if (len == 0 && !fin)
		return;
	st->stats.retransmits++;
	if (fin)
		st->stats.fin_retransmits++;
	uint32_t used = send_range(st, c, seq, len, fin, true);
	if (td_seq_lt(seq + used, c->snd_nxt)) {
		c->flags2 |= TF2_REXMITTING;
		c->rtx_nxt = seq + used;
	} else {
		c->flags2 &= ~TF2_REXMITTING;
	}
}

/* RFC 9293 3.8.6.1: a zero-window probe, Linux's form (SEQ = SND.UNA - 1). */
void
tcp_send_probe(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	st->stats.persist_probes++;
	send_seg(st, c, c->snd_una - 1, 0, TD_TH_ACK, false);
}

/* A first transmission of new data or FIN at @seq: note its time for the
 * user timeout, and run the retransmission timer. */
static void
start_rtx_if_idle(struct td_tcp_stack *st, struct td_tcp_conn *c, bool was_idle, uint32_t seq)
{
	if (was_idle) {
		c->t_first_ms = st->now_ms;
		c->flags2 &= ~TF2_T2;
	} else if (!(c->flags2 & TF2_T2)) {
		c->t2_seq = seq;
		c->t2_ms = st->now_ms;
		c->flags2 |= TF2_T2;
	}
	if (!(c->armed & TT_RTX) || (c->flags & TF_PERSIST))
		tcp_arm_rtx(st, c);
}

/* Send what the windows allow: retransmissions still due after an RTO
 * first, then new data and the FIN; else the ACK that is owed. */
void
tcp_output(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	bool sent = false;

	if (c->flags & TF_DETACHED)
		return;
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
	case TD_TCP_TIME_WAIT:
		return;
	case TD_TCP_SYN_SENT:
	case TD_TCP_SYN_RECEIVED:
		if (c->flags & TF_ACK_NOW)
			tcp_send_ack(st, c);
		return;
	case TD_TCP_ESTABLISHED:
	case TD_TCP_CLOSE_WAIT:
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
	case TD_TCP_FIN_WAIT_2:
		break;
	}
	uint32_t wnd = TD_MIN(c->snd_wnd, c->cwnd);
	uint32_t mss = seg_size(c);

	/* After an RTO, go back over what was in flight, within the windows. */
	while ((c->flags2 & TF2_REXMITTING) && td_seq_lt(c->rtx_nxt, c->snd_nxt)) {
		if (td_seq_lt(c->rtx_nxt, c->snd_una))
			c->rtx_nxt = c->snd_una;
		uint32_t seq = c->rtx_nxt;
		if (td_seq_geq(seq, c->snd_una + wnd))
			break;
		uint32_t avail = td_seq_lt(seq, c->snd_end) ? c->snd_end - seq : 0;
		uint32_t len = TD_MIN(TD_MIN(avail, mss), c->snd_una + wnd - seq);
		bool fin = (c->flags & TF_FIN_SENT) && seq + len == c->snd_end;
		if (len == 0 && !fin)
			break;
		st->stats.retransmits++;
		if (fin)
			st->stats.fin_retransmits++;
		c->rtx_nxt = seq + send_range(st, c, seq, len, fin, true);
		sent = true;
	}
	if (td_seq_geq(c->rtx_nxt, c->snd_nxt))
		c->flags2 &= ~TF2_REXMITTING;

	for (;;) {
		uint32_t seq = c->snd_nxt;
		if ((c->flags & TF_FIN_SENT) || (c->flags2 & TF2_REXMITTING))
			break;
		uint32_t left = td_seq_lt(seq, c->snd_end) ? c->snd_end - seq : 0;
		uint32_t edge = c->snd_una + wnd;
		uint32_t usable = td_seq_gt(edge, seq) ? edge - seq : 0;
		uint32_t len = TD_MIN(TD_MIN(left, mss), usable);
		/* The FIN needs one unit of the peer's window, like a byte
		 * (Linux), and is never held by Nagle (C-06). */
		bool fin = (c->flags & TF_FIN_PENDING) && len == left &&
			   td_seq_lt(seq + len, c->snd_una + c->snd_wnd) &&
			   (len > 0 || td_seq_lt(seq, c->snd_una + TD_MAX(c->cwnd, 1u)));
		if (len == 0 && !fin)
			break;
		if (!fin && len < mss) {
			if (len == left) {
				/* Nagle (RFC 1122 4.2.3.4): a partial segment waits
				 * while data is unacknowledged. */
				if (!(c->flags & TF_NODELAY) && c->snd_nxt != c->snd_una)
					break;
			} else if (len < c->max_snd_wnd / 2 && c->snd_nxt != c->snd_una) {
				break; /* sender SWS avoidance: wait for the window */
			}
		}
		bool idle = c->snd_nxt == c->snd_una;
		uint32_t used = send_range(st, c, seq, len, fin, false);
		c->snd_nxt += used;
		if (fin)
			c->flags |= TF_FIN_SENT;
		if (!(c->flags & TF_RTT_TIMING)) {
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_ms = st->now_ms;
			c->flags |= TF_RTT_TIMING;
		}
		start_rtx_if_idle(st, c, idle, seq);
		sent = true;
	}

	/* RFC 9293 3.8.6.1: something to send, nothing in flight and no window:
	 * the persist timer probes. */
	bool waiting = td_seq_lt(c->snd_nxt, c->snd_end) ||
		       ((c->flags & TF_FIN_PENDING) && !(c->flags & TF_FIN_SENT));
	if (waiting && c->snd_nxt == c->snd_una && c->snd_wnd == 0 &&
	    !((c->armed & TT_RTX) && (c->flags & TF_PERSIST))) {
		c->t_first_ms = st->now_ms;
		uint32_t due = st->now_ms + tcp_cur_rto_ms(st, c);
		if (c->user_timeout_ms != 0 && tcp_ms_leq(c->t_first_ms + c->user_timeout_ms, due))
			due = c->t_first_ms + c->user_timeout_ms;
		tcp_arm(st, c, TT_RTX, due);
		c->flags |= TF_PERSIST;
	}
	if (!sent && (c->flags & TF_ACK_NOW))
		tcp_send_ack(st, c);
}

/* After the user read: offer the freed space when the window was closed and
 * can take a segment again, or when it at least doubles (as Linux
 * __tcp_cleanup_rbuf), so that reads do not each cost an ACK. */
void
tcp_window_update(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->flags & TF_DETACHED || !TD_TCP_HAVE_ESTABLISHED(c->state) ||
	    c->state == TD_TCP_TIME_WAIT)
		return;
	uint32_t cur = tcp_rcv_wnd(c);
	uint32_t space = tcp_rcv_space(st, c);
	uint32_t step = TD_MIN(st->cfg.rcvbuf / 2, (uint32_t)c->mss);

	if (space > cur && space - cur >= step && (cur == 0 || space >= 2 * cur)) {
		c->flags |= TF_ACK_NOW;
		if (st->corks || st->in_callback)
			tcp_mark_dirty(st, c);
		else
			tcp_output(st, c);
	}
}

/* RFC 5961 7 and C-81: may we answer an invalid segment? Replies to segments
 * with a SYN or without data and FIN are limited per connection; challenge
 * ACKs also per lcore per second. Every suppressed reply is counted. */
bool
tcp_reply_allowed(struct td_tcp_stack *st, uint32_t *last_ms, const struct td_seg *s,
		  bool challenge)
{
	bool limited =
		challenge || (s->flags & TD_TH_SYN) || (s->len == 0 && !(s->flags & TD_TH_FIN));

	if (limited && st->cfg.invalid_ratelimit_ms != 0) {
		if (*last_ms != 0 && st->now_ms - *last_ms < st->cfg.invalid_ratelimit_ms) {
			st->stats.replies_ratelimited++;
			return false;
		}
	}
	if (challenge && st->cfg.challenge_ack_limit != 0) {
		uint32_t sec = st->now_ms / 1000;
		if (sec != st->chack_sec) {
			st->chack_sec = sec;
			st->chack_count = 0;
		}
		if (st->chack_count >= st->cfg.challenge_ack_limit) {
			st->stats.replies_ratelimited++;
			return false;
		}
		st->chack_count++;
	}
	if (limited)
		*last_ms = st->now_ms ? st->now_ms : 1;
	if (challenge)
		st->stats.challenge_acks++;
	return true;
}
