/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

/* RFC 9293 3.10.1 - 3.10.6: the user calls. Output they cause goes out at
 * once, unless the stack is corked or the call comes from an event callback:
 * then at the end of that burst (so SEND + CLOSE can share one segment). */

static void
kick(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (st->corks || st->in_callback)
		tcp_mark_dirty(st, c);
	else
		tcp_output(st, c);
}

/* The TIME-WAIT entry a held connection turned into, if it still lives. */
static struct td_tw *
held_tw(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	if (!(c->flags2 & TF2_IN_TW) || c->tw_idx == TCP_NONE)
		return NULL;
	struct td_tw *tw = &st->tws[c->tw_idx];
	if (!(tw->flags & TWF_LIVE) || tw->snd_nxt != c->snd_nxt || tw->rcv_nxt != c->rcv_nxt)
		return NULL;
	return tw;
}

int
td_tcp_connect(struct td_tcp_stack *st, const struct td_tuple *t, const struct td_tcp_open_opts *o,
	       struct td_tcp_conn **out)
{
	struct td_tcp_open_opts dflt = {.stream = TD_TCP_STREAM_BUFFER};
	uint32_t v = tcp_table_lookup(&st->table, t, NULL);
	uint32_t iss;
	bool reused = false;

	if (o == NULL)
		o = &dflt;
	if (t->family != 4 && t->family != 6)
		return -TD_EINVAL;
	if (v != TCP_NONE && !(v & TCP_TW_BIT))
		return -TD_EADDRINUSE;
	if (v != TCP_NONE) {
		/* Like Linux tcp_tw_reuse: safe when timestamps let the peer
		 * tell the incarnations apart (RFC 6191) and at least one TS
		 * tick has passed. */
		struct td_tw *tw = &st->tws[v & ~TCP_TW_BIT];
		if (!st->cfg.tw_reuse || !(tw->flags & TWF_TS_OK) || !st->cfg.timestamps)
			return -TD_EADDRINUSE;
		iss = tw->snd_nxt + 128000;
		tcp_tw_free(st, v & ~TCP_TW_BIT, TD_TCP_END_TW_KILLED);
		st->stats.tw_reused++;
		reused = true;
	}
	struct td_tcp_conn *c = tcp_conn_alloc(st, t, o);
	if (c == NULL)
		return st->conn_nfree == 0 ? -TD_ENOSPC : -TD_ENOBUFS;
	c->flags |= TF_USER;
	if (!reused)
		iss = tcp_isn(st, t);
	tcp_conn_init_seq(st, c, iss);
	td_tcp_set_state(st, c, TD_TCP_SYN_SENT);
	st->stats.conn_opened++;
	tcp_send_syn(st, c, false);
	tcp_arm_rtx(st, c);
	*out = c;
	return 0;
}

static int
take_err(struct td_tcp_conn *c)
{
	int e = c->pending_err;

	c->pending_err = 0;
	return e;
}

int
td_tcp_send(struct td_tcp_stack *st, struct td_tcp_conn *c, const void *data, uint32_t len)
{
	if (c->pending_err)
		return -take_err(c);
	if ((c->flags & (TF_DETACHED | TF_FIN_PENDING)))
		return -TD_EPIPE; /* C-09 */
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_SYN_SENT:
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
	case TD_TCP_CLOSE_WAIT: /* C-10 */
		break;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
		return -TD_ENOTCONN;
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_FIN_WAIT_2:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
	case TD_TCP_TIME_WAIT:
		return -TD_EPIPE;
	}
	if (((enum td_tcp_stream)c->stream == TD_TCP_STREAM_BUFFER) != (data != NULL) && len > 0)
		return -TD_EINVAL;
	uint32_t n = tcp_stream_write(st, c, data, len);
	if (n == 0 && len > 0)
		return -TD_EAGAIN;
	if (TD_TCP_HAVE_ESTABLISHED(c->state))
		kick(st, c);
	return (int)n;
}

/* What RECEIVE answers with nothing queued: end of stream once the FIN is
 * in (C-12), else the pending error once, else 0 when gone or after SHUT_RD
 * (C-98), else "not yet". */
static int
recv_nothing(struct td_tcp_conn *c)
{
	if (c->flags & TF_FIN_RCVD)
		return 0;
	if (c->pending_err)
		return -take_err(c);
	if ((c->flags & (TF_DETACHED | TF_SHUT_RD)) || c->state == TD_TCP_TIME_WAIT)
		return 0;
	if (c->state == TD_TCP_CLOSED || c->state == TD_TCP_LISTEN)
		return -TD_ENOTCONN;
	return -TD_EAGAIN;
}

int
td_tcp_recv(struct td_tcp_stack *st, struct td_tcp_conn *c, void *buf, uint32_t len)
{
	if (c->rcv_unread == 0 || len == 0)
		return recv_nothing(c);
	uint32_t n = tcp_stream_read(st, c, buf, TD_MIN(len, (uint32_t)INT32_MAX));
	tcp_window_update(st, c);
	return (int)n;
}

int
td_tcp_peek(struct td_tcp_stack *st, struct td_tcp_conn *c, void *buf, uint32_t len)
{
	if ((enum td_tcp_stream)c->stream != TD_TCP_STREAM_BUFFER)
		return -TD_ENOTSUP;
	if (c->rcv_unread == 0 || len == 0)
		return recv_nothing(c);
	uint32_t unread = c->rcv_unread;
	uint32_t n = tcp_stream_read(st, c, buf, TD_MIN(len, (uint32_t)INT32_MAX));
	c->rcv_unread = unread; /* the bytes stay queued */
	return (int)n;
}

/* A CLOSE that takes effect now: the FIN follows the queued data. */
static int
begin_close(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_state next)
{
	c->flags |= TF_FIN_PENDING;
	c->close_start_us = (uint32_t)st->now_us;
	td_tcp_set_state(st, c, next);
	kick(st, c);
	return 0;
}

/* RFC 9293 3.10.4 CLOSE. */
int
td_tcp_shutdown(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->flags & TF_DETACHED)
		return held_tw(st, c) != NULL || (c->flags & TF_FIN_PENDING) ? -TD_EPIPE
									     : -TD_ENOTCONN;
	if (c->flags & TF_FIN_PENDING)
		return -TD_EPIPE; /* C-08 */
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_SYN_SENT:
		/* C-02: delete; pending SENDs and RECEIVEs end "closing". */
		tcp_conn_delete(st, c, TD_TCP_END_CLOSED_EARLY, TD_EPIPE);
		c->flags |= TF_FIN_PENDING;
		return 0;
	case TD_TCP_SYN_RECEIVED:
		/* C-03: the FIN at once if nothing is queued, else after the
		 * handshake and the data (ack_input() moves to FIN-WAIT-1). */
		if (tcp_snd_queued(c) == 0 && c->snd_end == tcp_snd_base(c))
			return begin_close(st, c, TD_TCP_FIN_WAIT_1);
		c->flags |= TF_FIN_PENDING;
		c->close_start_us = (uint32_t)st->now_us;
		return 0;
	case TD_TCP_ESTABLISHED:
		return begin_close(st, c, TD_TCP_FIN_WAIT_1); /* C-04: at once */
	case TD_TCP_CLOSE_WAIT:
		return begin_close(st, c, TD_TCP_LAST_ACK); /* C-07 */
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_FIN_WAIT_2:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
	case TD_TCP_TIME_WAIT:
		return -TD_EPIPE;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
		return -TD_ENOTCONN;
	}
	return -TD_EINVAL;
}

int
td_tcp_shutdown_rd(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	(void)st;
	if ((c->flags & TF_DETACHED) && held_tw(st, c) == NULL)
		return -TD_ENOTCONN;
	c->flags |= TF_SHUT_RD; /* C-98: nothing is sent */
	return 0;
}

/* RFC 9293 3.10.5: an ABORT sends a RST from the states where the peer may
 * still be sending (C-18); from SYN-SENT, CLOSING and LAST-ACK it is silent
 * (C-17, PACKETDRILL.md 7). */
static bool
abort_sends_rst(enum td_tcp_state s)
{
	switch (s) {
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_FIN_WAIT_2:
	case TD_TCP_CLOSE_WAIT:
		return true;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
	case TD_TCP_SYN_SENT:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
	case TD_TCP_TIME_WAIT:
		break;
	}
	return false;
}

/* RFC 9293 3.10.5 ABORT (C-17, C-18). */
int
td_tcp_abort(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->flags & TF_DETACHED) {
		if (held_tw(st, c) == NULL)
			return -TD_ENOTCONN;
		/* C-17: an ABORT in TIME-WAIT deletes the entry too. */
		tcp_tw_free(st, c->tw_idx, TD_TCP_END_TW_KILLED);
		c->flags2 &= ~TF2_IN_TW;
		c->tw_idx = TCP_NONE;
		return 0;
	}
	if (abort_sends_rst(c->state))
		tcp_send_rst_conn(st, c); /* exactly one RST, SEQ = SND.NXT */
	c->rcv_unread = 0;
	tcp_conn_delete(st, c, TD_TCP_END_LOCAL_ABORT, TD_ECONNRESET);
	return 0;
}

/* Sockets close(): CLOSE and give the connection up (RFC 9293 3.6.1 MAY-1),
 * or ABORT with unread data (C-14) or linger {1, 0} (C-19). */
void
td_tcp_release(struct td_tcp_stack *st, struct td_tcp_conn *c)
{
	if (c->flags & TF_DETACHED) {
		tcp_conn_free(st, c);
		return;
	}
	bool unread = c->rcv_unread > 0;
	c->flags &= ~TF_USER;
	if ((unread || (c->flags & TF_LINGER0)) && c->state != TD_TCP_SYN_SENT) {
		if (abort_sends_rst(c->state))
			tcp_send_rst_conn(st, c);
		tcp_conn_delete(st, c, unread ? TD_TCP_END_RST_UNREAD : TD_TCP_END_LOCAL_ABORT, 0);
		return;
	}
	switch ((enum td_tcp_state)c->state) {
	case TD_TCP_SYN_SENT:
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
		tcp_conn_delete(st, c, TD_TCP_END_CLOSED_EARLY, 0);
		return;
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
	case TD_TCP_CLOSE_WAIT:
		td_tcp_shutdown(st, c);
		return;
	case TD_TCP_FIN_WAIT_2:
		/* C-59: the orphan's FIN-WAIT-2 timeout runs from now. */
		tcp_arm(st, c, TT_FW2, st->now_ms + st->cfg.fin_wait2_timeout_ms);
		return;
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
	case TD_TCP_TIME_WAIT:
		return;
	}
}

static void
set_flag(struct td_tcp_conn *c, uint16_t flag, bool on)
{
	c->flags = on ? c->flags | flag : c->flags & ~flag;
}

void
td_tcp_set_linger0(struct td_tcp_conn *c, bool on)
{
	set_flag(c, TF_LINGER0, on);
}

void
td_tcp_set_nodelay(struct td_tcp_conn *c, bool on)
{
	set_flag(c, TF_NODELAY, on);
}

void
td_tcp_set_user_timeout(struct td_tcp_conn *c, uint32_t ms)
{
	c->user_timeout_ms = ms;
}

enum td_tcp_state
td_tcp_state(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	if (c->flags & TF_DETACHED)
		return held_tw(st, c) != NULL ? TD_TCP_TIME_WAIT : TD_TCP_CLOSED;
	return (enum td_tcp_state)c->state;
}

int
td_tcp_take_error(struct td_tcp_conn *c)
{
	return take_err(c);
}

uint32_t
td_tcp_readable(const struct td_tcp_conn *c)
{
	return c->rcv_unread;
}

uint32_t
td_tcp_writable(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	if (c->flags & (TF_DETACHED | TF_FIN_PENDING))
		return 0;
	if ((enum td_tcp_stream)c->stream == TD_TCP_STREAM_GENERATED)
		return 0x40000000u - tcp_snd_queued(c);
	return st->cfg.sndbuf - tcp_snd_queued(c);
}

void *
td_tcp_uctx(const struct td_tcp_conn *c)
{
	return c->uctx;
}

void
td_tcp_set_uctx(struct td_tcp_conn *c, void *uctx)
{
	c->uctx = uctx;
}

const struct td_tuple *
td_tcp_tuple(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	return c->key == TCP_NONE ? NULL : tcp_key(st, c->key);
}

void
td_tcp_info(const struct td_tcp_stack *st, const struct td_tcp_conn *c, struct td_tcp_info *i)
{
	memset(i, 0, sizeof(*i));
	i->state = td_tcp_state(st, c);
	i->iss = c->iss;
	i->irs = c->irs;
	i->snd_una = c->snd_una;
	i->snd_nxt = c->snd_nxt;
	i->snd_wnd = c->snd_wnd;
	i->max_snd_wnd = c->max_snd_wnd;
	i->snd_end = c->snd_end;
	i->rcv_nxt = c->rcv_nxt;
	i->rcv_wnd = tcp_rcv_wnd(c);
	i->mss = c->mss;
	i->snd_wscale = c->snd_wscale;
	i->rcv_wscale = c->rcv_wscale;
	i->ts_ok = c->flags & TF_TS_OK;
	i->sack_ok = c->flags & TF_SACK_OK;
	i->ts_recent = c->ts_recent;
	i->srtt_us = c->srtt_us;
	i->rttvar_us = c->rttvar_us;
	i->rto_us = tcp_cur_rto_ms(st, c) * 1000;
	i->cwnd = c->cwnd;
	i->ssthresh = c->ssthresh;
	i->backoff = c->backoff;
	i->nretx = c->nretx;
	i->orphan = tcp_orphan(c);
	i->fin_sent = c->flags & TF_FIN_SENT;
	i->fin_acked = c->flags & TF_FIN_ACKED;
	i->fin_rcvd = c->flags & TF_FIN_RCVD;
	i->rtx_armed = (c->armed & TT_RTX) && !(c->flags & TF_PERSIST);
	i->persist_armed = (c->armed & TT_RTX) && (c->flags & TF_PERSIST);
	i->delack_armed = c->armed & TT_DELACK;
	i->fw2_armed = c->armed & TT_FW2;
	if (c->armed & TT_RTX)
		i->rtx_due_us = st->now_us - st->now_us % 1000 +
				(uint64_t)(int64_t)(int32_t)(c->due_rtx - st->now_ms) * 1000;
	i->data_errors =
		(enum td_tcp_stream)c->stream == TD_TCP_STREAM_GENERATED ? c->data_errors : 0;
	i->close_start_us = c->close_start_us;
}
