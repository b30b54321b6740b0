/* SPDX-License-Identifier: BSD-3-Clause */
#include "tcp_impl.h"

/* A connection has one wheel timer, armed at the earliest of its deadlines:
 * retransmission or persist (they never run together), delayed ACK, and the
 * FIN-WAIT-2 timeout of orphans. TIME-WAIT is not here: it lives in the
 * compact entries' FIFO (tcp_tw.c). The user timeout is not a timer of its
 * own: the retransmission deadline is clamped to it (PACKETDRILL.md 7). */

void
tcp_timer_update(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	uint32_t due = 0;
	bool any = false;

	if (c->armed & TT_RTX) {
		due = c->due_rtx;
		any = true;
	}
	if ((c->armed & TT_DELACK) && (!any || tcp_ms_leq(c->due_delack, due))) {
		due = c->due_delack;
		any = true;
	}
	if ((c->armed & TT_FW2) && (!any || tcp_ms_leq(c->due_fw2, due))) {
		due = c->due_fw2;
		any = true;
	}
	if (!any) {
		td_timer_cancel(&st->wheel, &c->timer);
		return;
	}
	/* Deadlines are 32-bit ms; the wheel counts 64-bit ticks. */
	uint64_t tick = tcp_ms_to_tick(st, due);
	if (td_timer_pending(&c->timer) && c->timer.expire == tick)
		return;
	td_timer_arm(&st->wheel, &c->timer, tick);
}

void
tcp_arm(struct td_tcp_stack *st, struct td_tcp_conn *c, unsigned kind, uint32_t due_ms)
{
	switch (kind) {
	case TT_RTX:
		c->due_rtx = due_ms;
		break;
	case TT_DELACK:
		c->due_delack = due_ms;
		break;
	case TT_FW2:
		c->due_fw2 = due_ms;
		break;
	}
	c->armed |= (uint8_t)kind;
	tcp_timer_update(st, c);
}

void
tcp_disarm(struct td_tcp_stack *st, struct td_tcp_conn *c, unsigned kind)
{
	if (!(c->armed & kind))
		return;
	c->armed &= (uint8_t)~kind;
	if (kind == TT_RTX)
		c->flags &= ~TF_PERSIST;
	tcp_timer_update(st, c);
}

/* RFC 6298 2.1 to 2.5: the RTO before backoff, from the estimator (or the
 * initial RTO before the first sample), with G = 1 ms (C-51, C-53). */
uint32_t
tcp_rto_us(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	if (c->srtt_us == 0 && c->rttvar_us == 0)
		return st->cfg.rto_initial_ms * 1000;
	uint64_t rto = (uint64_t)c->srtt_us + TD_MAX(1000u, 4 * c->rttvar_us);
	uint64_t lo = (uint64_t)st->cfg.rto_min_ms * 1000, hi = (uint64_t)st->cfg.rto_max_ms * 1000;
	if (rto < lo)
		rto = lo;
	if (rto > hi)
		rto = hi;
	return (uint32_t)rto;
}

/* RFC 6298 2: RTO = SRTT + max(G, 4 RTTVAR), bounded, times the backoff. */
uint32_t
tcp_cur_rto_ms(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	uint64_t rto = tcp_rto_us(st, c);
	uint64_t max = (uint64_t)st->cfg.rto_max_ms * 1000;

	rto <<= c->backoff < 32 ? c->backoff : 32;
	if (rto > max)
		rto = max;
	return (uint32_t)((rto + 999) / 1000);
}

/* RFC 6298 2.2 and 2.3; tcp_rto_us() derives the RTO from the result. */
void
tcp_rtt_sample(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t rtt_us)
{
	(void)st;
	if (c->srtt_us == 0 && c->rttvar_us == 0) {
		c->srtt_us = rtt_us;
		c->rttvar_us = rtt_us / 2;
	} else {
		uint32_t d = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + rtt_us) / 8;
	}
	c->backoff = 0; /* RFC 6298 5.7 note: a valid sample ends the backoff */
	/* A zero sample must still count as "have a sample". */
	if (c->srtt_us == 0 && c->rttvar_us == 0)
		c->rttvar_us = 1;
}

void
td_tcp_reset_rtt(const struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	(void)st; /* the RTO follows the cleared estimator (tcp_rto_us) */
	c->srtt_us = 0;
	c->rttvar_us = 0;
	c->backoff = 0;
	c->flags &= ~TF_RTT_TIMING;
}

/* Arm the retransmission timer one RTO from now, clamped to the user timeout
 * (PACKETDRILL.md 7: the connection is aborted U ms after the oldest
 * unacknowledged data or FIN was first sent). */
void
tcp_arm_rtx(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	uint32_t due = st->now_ms + tcp_cur_rto_ms(st, c);

	if (c->user_timeout_ms != 0 && TD_TCP_HAVE_ESTABLISHED(c->state)) {
		uint32_t limit = c->t_first_ms + c->user_timeout_ms;
		if (tcp_ms_leq(limit, due))
			due = limit;
	}
	c->flags &= ~TF_PERSIST;
	tcp_arm(st, c, TT_RTX, due);
}

static bool
user_timed_out(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	return c->user_timeout_ms != 0 && TD_TCP_HAVE_ESTABLISHED(c->state) &&
	       tcp_ms_leq(c->t_first_ms + c->user_timeout_ms, st->now_ms);
}

static uint32_t
retry_limit(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	if (!TD_TCP_HAVE_ESTABLISHED(c->state))
		return st->cfg.syn_retries;
	return tcp_orphan(c) ? st->cfg.orphan_retries : st->cfg.retries2;
}

/* RFC 9293 3.10.8 USER TIMEOUT and RFC 6298 5.4-5.7, one expiry. */
static void
rtx_expired(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	bool persist = c->flags & TF_PERSIST;

	c->flags &= ~TF_PERSIST;
	bool give_up = user_timed_out(st, c);
	if (!give_up && (c->user_timeout_ms == 0 || !TD_TCP_HAVE_ESTABLISHED(c->state)))
		give_up = c->nretx >= retry_limit(st, c);
	if (give_up) {
		/* C-57: silent by default; rst_on_user_timeout sends one RST first. */
		if (st->cfg.rst_on_user_timeout && TD_TCP_HAVE_ESTABLISHED(c->state))
			tcp_send_rst_conn(st, c);
		c->pending_err = TD_ETIMEDOUT;
		tcp_conn_delete(st, c, TD_TCP_END_USER_TIMEOUT, TD_ETIMEDOUT);
		return;
	}
	if (c->backoff < 31)
		c->backoff++;
	if (c->nretx < UINT8_MAX)
		c->nretx++;
	c->flags &= ~TF_RTT_TIMING; /* Karn: nothing in flight may be timed now */
	if (persist) {
		tcp_send_probe(st, c);
	} else {
		/* RFC 5681 3.1 (4): after a loss, one segment. */
		uint32_t flight = c->snd_nxt - c->snd_una;
		c->ssthresh = TD_MAX(flight / 2, 2u * c->mss);
		c->cwnd = c->mss;
		tcp_retransmit(st, c);
		if (c->nretx == 3 && !(c->flags2 & TF2_RETX_WARNED)) {
			/* C-47: RFC 9293 3.8.3 R1, "excessive retransmissions". */
			c->flags2 |= TF2_RETX_WARNED;
			st->stats.retx_warnings++;
			tcp_event(st, c, TD_TCP_EV_RETX_WARNING, 0);
		}
	}
	if (persist) {
		uint32_t due = st->now_ms + tcp_cur_rto_ms(st, c);
		if (c->user_timeout_ms != 0 && tcp_ms_leq(c->t_first_ms + c->user_timeout_ms, due))
			due = c->t_first_ms + c->user_timeout_ms;
		c->flags |= TF_PERSIST;
		tcp_arm(st, c, TT_RTX, due);
	} else {
		tcp_arm_rtx(st, c);
	}
}

void
tcp_conn_timer(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	uint8_t due = 0;

	if ((c->armed & TT_DELACK) && tcp_ms_leq(c->due_delack, st->now_ms))
		due |= TT_DELACK;
	if ((c->armed & TT_RTX) && tcp_ms_leq(c->due_rtx, st->now_ms))
		due |= TT_RTX;
	if ((c->armed & TT_FW2) && tcp_ms_leq(c->due_fw2, st->now_ms))
		due |= TT_FW2;
	c->armed &= (uint8_t)~due;
	if (due & TT_FW2) {
		/* C-59: an orphan in FIN-WAIT-2 ends silently. */
		tcp_conn_delete(st, c, TD_TCP_END_FIN_WAIT2_TIMEOUT, 0);
		return;
	}
	if (due & TT_DELACK) {
		st->stats.delayed_acks++;
		c->flags |= TF_ACK_NOW;
		tcp_mark_dirty(st, c);
	}
	if (due & TT_RTX) {
		rtx_expired(st, c);
		if (c->flags & TF_DETACHED)
			return;
	}
	tcp_timer_update(st, c);
}
