/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_exec.h"

/*
 * The executor (PACKETDRILL.md 3-9). One stack per script, on a virtual clock
 * in microseconds that starts at 0 and only moves forward: to reach an
 * event's time, or to wait for a segment the script expects. It moves one
 * timer at a time (td_tcp_next_timer), so that a blocked call returns at the
 * exact time the stack completes it and each segment carries the time it was
 * sent.
 *
 * The script tests one connection: the one connect() makes, or the one the
 * first injected segment makes. Its 4-tuple from the stack's side is
 * 198.18.0.1:8080 <- 198.18.0.2:40000 (passive) or 198.18.0.1:EPHEMERAL ->
 * 198.18.0.2:8080 (active); IPv6 uses 2001:2::1 and 2001:2::2.
 *
 * Sequence numbers: the peer's as written (packetdrill injects the ISN the
 * script writes, so its offset is 0); the stack's relative to its ISN, which
 * the first '>' SYN or SYN-ACK of each connection maps to the value written
 * there. packetdrill maps only the first connection of a script; a second
 * one on the same 4-tuple (a new SYN after the first ended or reopening
 * TIME-WAIT) gets a fresh ISN that no script could predict.
 */

static int
stop_with(struct run *r, int verdict, int line, const char *kind, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (kind != NULL)
		d_msg(r->path, line, "%s: %s", kind, msg);
	else
		d_msg(r->path, line, "%s", msg);
	if (verdict > r->verdict)
		r->verdict = verdict;
	r->stop = true;
	return -1;
}

/* A failed expectation or a runtime error: exit status 1. */
int
drill_fail(struct run *r, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stop_with(r, D_FAIL, line, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

/* Something the runner or lib/tcp cannot do: exit status 2. */
int
drill_bad(struct run *r, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stop_with(r, D_BAD, line, "unsupported", fmt, ap);
	va_end(ap);
	return -1;
}

void
drill_verbose(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->o.verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

const char *
drill_tstr(uint64_t us, char *buf, size_t len)
{
	d_time_str((int64_t)us, buf, len);
	return buf;
}

const char *
drill_errname(int err, char *buf, size_t len)
{
	const char *n = d_errno_name(err);

	if (n != NULL)
		return n;
	snprintf(buf, len, "errno %d", err);
	return buf;
}

/* "= 4", "= -1 EAGAIN" */
static void
res_str(int64_t ret, int err, char *buf, size_t len)
{
	char e[32];

	if (ret == -1 && err != 0)
		snprintf(buf, len, "-1 %s", drill_errname(err, e, sizeof(e)));
	else
		snprintf(buf, len, "%lld", (long long)ret);
}

static bool
tuple_eq(const struct td_tuple *a, const struct td_tuple *b)
{
	unsigned alen = a->family == 6 ? 16 : 4;

	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, alen) == 0 && memcmp(a->raddr, b->raddr, alen) == 0;
}

void
drill_set_tuple(struct run *r, uint16_t lport, uint16_t rport)
{
	memset(&r->tuple, 0, sizeof(r->tuple));
	r->tuple.family = (uint8_t)r->o.ip;
	if (r->o.ip == 6) {
		static const uint8_t peer[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0,
						 0,    0,    0, 0, 0, 0, 0, 2};
		memcpy(r->tuple.raddr, peer, 16);
	} else {
		static const uint8_t peer[4] = {198, 18, 0, 2};
		memcpy(r->tuple.raddr, peer, 4);
	}
	memcpy(r->tuple.laddr, r->stack_addr, 16);
	r->tuple.lport = lport;
	r->tuple.rport = rport;
}

/* ------------------------------------------------------------------------ */
/* Text forms                                                                */

/* The actual segment in script space. */
static void
actual_str(struct run *r, const struct out_seg *g, char *buf, size_t len)
{
	struct d_tcpopt o[D_MAX_OPTS];
	char ts[32], os[400];
	int n = d_opts_decode(g->opts, g->optlen, o, D_MAX_OPTS);

	if (n < 0) {
		snprintf(os, sizeof(os), "<malformed options>");
	} else {
		for (int i = 0; i < n; i++)
			if (o[i].kind == OPT_TS && r->ts_known)
				o[i].val = r->ts_script0 + (o[i].val - r->ts_actual0);
		d_opts_str(o, (unsigned)n, false, os, sizeof(os));
	}
	char seg[512];
	uint32_t off = r->local_known ? r->local_off : 0;
	d_seg_str(g->flags, g->seq - off, g->len, (g->flags & TD_TH_ACK) || g->ack != 0, g->ack,
		  true, g->wnd, os, seg, sizeof(seg));
	snprintf(buf, len, "%s %s", drill_tstr(g->t, ts, sizeof(ts)), seg);
}

static void
script_str(const struct d_event *e, uint64_t sched, uint64_t send, char *buf, size_t len)
{
	const struct d_pkt *pk = &e->u.pkt;
	char t1[32], t2[32], when[80], os[400], seg[512];

	if (e->tk == DT_ANY)
		snprintf(when, sizeof(when), "*");
	else if (e->tk == DT_ABS_RANGE || e->tk == DT_REL_RANGE)
		snprintf(when, sizeof(when), "%s~%s", drill_tstr(sched, t1, sizeof(t1)),
			 drill_tstr(send, t2, sizeof(t2)));
	else
		snprintf(when, sizeof(when), "%s", drill_tstr(sched, t1, sizeof(t1)));
	d_opts_str(pk->opt, pk->nopt, pk->nocheck, os, sizeof(os));
	d_seg_str(pk->flags, pk->seq, pk->len, pk->has_ack || (pk->flags & TD_TH_ACK), pk->ack,
		  pk->has_win, pk->win, os, seg, sizeof(seg));
	snprintf(buf, len, "%s %s", when, seg);
}

/* ------------------------------------------------------------------------ */
/* Stack callbacks                                                           */

static void
on_tx(void *ctx, const struct td_tcp_out *o)
{
	struct run *r = ctx;

	if (r->nout == r->outcap) {
		r->outcap = r->outcap ? 2 * r->outcap : 256;
		r->out = realloc(r->out, r->outcap * sizeof(*r->out));
		if (r->out == NULL)
			abort();
	}
	struct out_seg *g = &r->out[r->nout++];
	memset(g, 0, sizeof(*g));
	g->tuple = *o->tuple;
	g->t = td_tcp_now(r->st);
	g->seq = o->seq;
	g->ack = o->ack;
	g->wnd = o->wnd;
	g->flags = o->flags;
	g->len = o->len;
	g->optlen = o->optlen;
	g->line = r->line;
	g->zero = true;
	memcpy(g->opts, o->opts, o->optlen);
	if (o->len > 0) {
		if (o->len > sizeof(r->payload)) {
			r->txbad = true;
			snprintf(r->txerr, sizeof(r->txerr),
				 "the stack sent %u payload bytes in one "
				 "segment",
				 o->len);
			g->len = 0;
		} else {
			td_tcp_out_payload(r->st, o, r->payload);
			for (uint32_t i = 0; i < o->len; i++)
				if (r->payload[i] != 0) {
					g->zero = false;
					break;
				}
		}
	}
	if (r->o.verbose) {
		char b[600];
		actual_str(r, g, b, sizeof(b));
		drill_verbose(r, "%s:%d: sent %s", r->path, r->line, b);
	}
}

struct dconn *
drill_new_conn(struct run *r)
{
	struct dconn *dc = NULL;

	/* A released connection is referenced by nothing: reuse its slot. */
	for (unsigned i = 0; i < r->nconn && dc == NULL; i++)
		if (r->conn[i].released)
			dc = &r->conn[i];
	if (dc == NULL) {
		if (r->nconn == MAX_CONN)
			return NULL;
		dc = &r->conn[r->nconn++];
	}
	memset(dc, 0, sizeof(*dc));
	dc->fd = -1;
	return dc;
}

void
drill_apply_sock_opts(const struct sock *sk, struct td_tcp_conn *c)
{
	td_tcp_set_nodelay(c, sk->nodelay);
	td_tcp_set_user_timeout(c, (uint32_t)sk->user_timeout);
}

static void
on_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	struct run *r = ctx;
	struct dconn *dc = td_tcp_uctx(c);

	(void)err;
	if (ev == TD_TCP_EV_ACCEPTED) {
		dc = drill_new_conn(r);
		if (dc == NULL) {
			r->txbad = true;
			r->txbad_verdict = D_BAD;
			snprintf(r->txerr, sizeof(r->txerr),
				 "more than %d connections held at once", MAX_CONN);
			return;
		}
		dc->c = c;
		td_tcp_set_uctx(c, dc);
		/* An accepted socket inherits the listener's options. */
		if (r->listen_fd >= 0)
			drill_apply_sock_opts(&r->sk[r->listen_fd], c);
		r->pending = dc;
		r->sut_child = dc;
		/* A new connection: its ISN is mapped by its first '>' SYN-ACK. */
		r->local_known = false;
		r->sut_fd = -1;
		r->conn_started = true;
		return;
	}
	if (dc == NULL)
		return;
	switch (ev) {
	case TD_TCP_EV_CONNECTED:
		dc->established = true;
		break;
	case TD_TCP_EV_CLOSED:
	case TD_TCP_EV_RESET:
	case TD_TCP_EV_TIMED_OUT:
		dc->gone = true;
		break;
	case TD_TCP_EV_ACCEPTED:
	case TD_TCP_EV_READABLE:
	case TD_TCP_EV_PEER_CLOSED:
	case TD_TCP_EV_WRITABLE:
	case TD_TCP_EV_CLOSE_DONE:
	case TD_TCP_EV_RETX_WARNING:
		break;
	}
}

/* splitmix64: a repeatable ISN sequence. */
static uint32_t
on_isn(void *ctx, const struct td_tuple *t)
{
	struct run *r = ctx;
	uint64_t z = (r->isn_state += 0x9e3779b97f4a7c15ull);

	(void)t;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* ------------------------------------------------------------------------ */
/* Configuration (PACKETDRILL.md 6 and 9)                                    */

static void
runner_config(struct td_tcp_config *c)
{
	td_tcp_config_defaults(c);
	c->msl_ms = 30000;
	c->rto_initial_ms = 1000;
	c->rto_min_ms = 200;
	c->rto_max_ms = 120000;
	c->user_timeout_ms = 0;
	c->rst_on_user_timeout = 0;
	c->fin_wait2_timeout_ms = 60000;
	c->delack_ms = 0; /* no delayed ACK */
	c->ack_fin_delayed = 0;
	c->rfc1337 = 0;
	c->tw_max = 262144;
	c->tw_reuse = 0;
	c->challenge_ack_limit = 0; /* no cap, like Linux's INT_MAX */
	c->invalid_ratelimit_ms = 500;
	c->retries2 = 15;
	c->orphan_retries = 8;
	c->syn_retries = 6;
	c->mss = 1460;
	c->init_cwnd = 10;
	c->sndbuf = 65536;
	c->rcvbuf = 65536;
	c->ooo_max = 4;
	c->timestamps = 1;
	c->sack = 1;
	c->window_scaling = 1;
	c->wscale = 8;
	c->nodelay = 0;
	c->max_conns = 16;
	c->max_listeners = 4;
	c->buffers = 2 * 16;
	c->timer_slots = 4096;
}

static int
ensure_stack(struct run *r)
{
	char err[256];

	if (r->st != NULL)
		return 0;
	r->ops.tx = on_tx;
	r->ops.event = on_event;
	r->ops.isn = on_isn;
	r->ops.ctx = r;
	r->st = td_tcp_stack_create(&r->cfg, &r->ops, r->clock, NULL, err, sizeof(err));
	if (r->st == NULL)
		return drill_bad(r, r->line, "stack configuration: %s", err);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The clock and blocked calls                                               */

static int poll_blocked(struct run *r);

/* Connections made by the listener that died before they were established
 * are gone for good (Linux drops the request): release them. */
static void
reap_pending(struct run *r)
{
	struct dconn *dc = r->pending;

	if (dc == NULL || !dc->gone || dc->established)
		return;
	td_tcp_release(r->st, dc->c);
	dc->released = true;
	r->pending = NULL;
	if (r->sut_child == dc) {
		r->sut_child = NULL;
		r->sut_fd = r->listen_fd;
	}
}

/* After anything the stack did: errors from callbacks, blocked calls. */
static int
after_stack(struct run *r)
{
	char t1[32], t2[32], t3[32];

	if (r->stop)
		return -1;
	if (r->txbad && r->txbad_verdict == D_BAD)
		return drill_bad(r, r->line, "%s", r->txerr);
	if (r->txbad)
		return drill_fail(r, r->line, "%s", r->txerr);
	reap_pending(r);
	if (r->lookahead)
		return 0;
	if (r->blk.on && poll_blocked(r) != 0)
		return -1;
	if (r->blk.on && r->clock > r->blk.end + r->blk.tol)
		return drill_fail(r, r->blk.ev->line,
				  "expected %s to return at %s (tolerance %s): still blocked at %s",
				  r->blk.ev->u.call.text, drill_tstr(r->blk.end, t1, sizeof(t1)),
				  drill_tstr(r->blk.tol, t2, sizeof(t2)),
				  drill_tstr(r->clock, t3, sizeof(t3)));
	return 0;
}

/* Move the clock to @p t, one due timer at a time. */
static int
advance_to(struct run *r, uint64_t t)
{
	if (t <= r->clock)
		return 0;
	for (;;) {
		uint64_t nt = td_tcp_next_timer(r->st);
		if (nt == UINT64_MAX || nt > t)
			break;
		if (nt <= r->clock)
			return drill_fail(r, r->line,
					  "internal error: timer due at %llu us, clock %llu us",
					  (unsigned long long)nt, (unsigned long long)r->clock);
		td_tcp_advance(r->st, nt, 0);
		r->clock = nt;
		if (after_stack(r) != 0)
			return -1;
	}
	td_tcp_advance(r->st, t, 0);
	r->clock = t;
	return after_stack(r);
}

static uint64_t
tolerance(const struct run *r, uint64_t expected, uint64_t prev)
{
	uint64_t tol = (uint64_t)r->o.tol_us;

	if (expected > prev) {
		double pct = r->o.tol_pct / 100.0 * (double)(expected - prev);
		if (pct > (double)tol)
			tol = (uint64_t)pct;
	}
	return tol;
}

/* ------------------------------------------------------------------------ */
/* Packets                                                                   */

static bool
tsmap_get(const struct run *r, uint32_t script, uint32_t *actual)
{
	for (size_t i = r->ntsm; i-- > 0;)
		if (r->tsm[i].script == script) {
			*actual = r->tsm[i].actual;
			return true;
		}
	return false;
}

static void
tsmap_set(struct run *r, uint32_t script, uint32_t actual)
{
	for (size_t i = 0; i < r->ntsm; i++)
		if (r->tsm[i].script == script) {
			r->tsm[i].actual = actual;
			return;
		}
	if (r->ntsm == r->tsmcap) {
		r->tsmcap = r->tsmcap ? 2 * r->tsmcap : 16;
		r->tsm = realloc(r->tsm, r->tsmcap * sizeof(*r->tsm));
		if (r->tsm == NULL)
			abort();
	}
	r->tsm[r->ntsm].script = script;
	r->tsm[r->ntsm].actual = actual;
	r->ntsm++;
}

static int
inject(struct run *r, const struct d_event *e, uint64_t sched)
{
	const struct d_pkt *pk = &e->u.pkt;
	struct d_tcpopt opt[D_MAX_OPTS];
	uint8_t bytes[40];
	uint32_t off = r->local_known ? r->local_off : 0;

	if (ensure_stack(r) || advance_to(r, max64(sched, r->clock)))
		return -1;
	memcpy(opt, pk->opt, pk->nopt * sizeof(opt[0]));
	for (unsigned i = 0; i < pk->nopt; i++) {
		if (opt[i].kind == OPT_SACK)
			for (unsigned b = 0; b < opt[i].nsack; b++) {
				opt[i].sack[b][0] += off;
				opt[i].sack[b][1] += off;
			}
		/* PACKETDRILL.md 5: a TS ecr names the TS val of an earlier '>'
		 * line and becomes the value the stack really sent. */
		if (opt[i].kind == OPT_TS && (pk->flags & TD_TH_ACK)) {
			uint32_t actual;
			if (!tsmap_get(r, opt[i].ecr, &actual))
				return drill_fail(
					r, e->line,
					"TS ecr %u matches the TS val of no earlier '>' line with "
					"a TS option",
					opt[i].ecr);
			opt[i].ecr = actual;
		}
	}
	int n = d_opts_encode(opt, pk->nopt, bytes);
	struct td_seg s = {
		.tuple = r->tuple,
		.seq = pk->seq,
		.ack = (pk->flags & TD_TH_ACK) ? pk->ack + off : pk->ack,
		.wnd = pk->win,
		.flags = pk->flags,
		.optlen = (uint8_t)n,
		.opts = n > 0 ? bytes : NULL,
		.data = pk->len > 0 ? r->zbuf : NULL,
		.len = pk->len,
	};
	if (r->o.verbose) {
		char b[600];
		script_str(e, r->clock, r->clock, b, sizeof(b));
		drill_verbose(r, "%s:%d: inject %s", r->path, e->line, b);
	}
	td_tcp_input(r->st, &s);
	return after_stack(r);
}

static int mismatch(struct run *r, const struct d_event *e, const struct out_seg *g, uint64_t sched,
		    uint64_t send, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
mismatch(struct run *r, const struct d_event *e, const struct out_seg *g, uint64_t sched,
	 uint64_t send, const char *fmt, ...)
{
	char msg[512], sp[600], ap[600];
	va_list va;

	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	script_str(e, sched, send, sp, sizeof(sp));
	if (g != NULL) {
		actual_str(r, g, ap, sizeof(ap));
		return drill_fail(r, e->line, "%s\nscript packet: %s\nactual packet: %s", msg, sp,
				  ap);
	}
	return drill_fail(r, e->line, "%s\nscript packet: %s", msg, sp);
}

static const char *
optlist(struct run *r, const struct d_tcpopt *o, int n, char *buf, size_t len)
{
	if (n == 0) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	struct d_tcpopt m[D_MAX_OPTS];
	memcpy(m, o, (size_t)n * sizeof(m[0]));
	for (int i = 0; i < n; i++)
		if (m[i].kind == OPT_TS && r->ts_known)
			m[i].val = r->ts_script0 + (m[i].val - r->ts_actual0);
	d_opts_str(m, (unsigned)n, false, buf, len);
	return buf;
}

static bool
same_option(const struct d_tcpopt *a, const struct d_tcpopt *s)
{
	if (a->kind != s->kind)
		return false;
	switch (a->kind) {
	case OPT_MSS:
		return a->mss == s->mss;
	case OPT_WSCALE:
		return a->wscale == s->wscale;
	case OPT_SACK:
		if (a->nsack != s->nsack)
			return false;
		for (unsigned b = 0; b < a->nsack; b++)
			if (a->sack[b][0] != s->sack[b][0] || a->sack[b][1] != s->sack[b][1])
				return false;
		return true;
	default:
		return true; /* TS is compared by the caller */
	}
}

static int
compare_options(struct run *r, const struct d_event *e, const struct out_seg *g, uint64_t sched,
		uint64_t send)
{
	const struct d_pkt *pk = &e->u.pkt;
	struct d_tcpopt a[D_MAX_OPTS];
	char b1[400], b2[400];
	int n = d_opts_decode(g->opts, g->optlen, a, D_MAX_OPTS);

	if (n < 0)
		return mismatch(r, e, g, sched, send, "the stack sent malformed options");
	bool same = n == pk->nopt;
	for (int i = 0; same && i < n; i++)
		same = same_option(&a[i], &pk->opt[i]);
	if (!same) {
		/* The first TS of the connection fixes the offset even here, so
		 * that the actual list prints in script space. */
		for (int i = 0; i < n && i < pk->nopt; i++)
			if (a[i].kind == OPT_TS && pk->opt[i].kind == OPT_TS && !r->ts_known) {
				r->ts_known = true;
				r->ts_script0 = pk->opt[i].val;
				r->ts_actual0 = a[i].val;
			}
		d_opts_str(pk->opt, pk->nopt, false, b1, sizeof(b1));
		return mismatch(r, e, g, sched, send, "expected options %s got %s",
				pk->nopt ? b1 : "(none)", optlist(r, a, n, b2, sizeof(b2)));
	}
	for (int i = 0; i < n; i++) {
		if (a[i].kind != OPT_TS)
			continue;
		if (!r->ts_known) {
			r->ts_known = true;
			r->ts_script0 = pk->opt[i].val;
			r->ts_actual0 = a[i].val;
		}
		uint32_t mapped = r->ts_script0 + (a[i].val - r->ts_actual0);
		int64_t diff = (int32_t)(mapped - pk->opt[i].val);
		if (r->o.ts_tick_us > 0 &&
		    (diff < 0 ? -diff : diff) * r->o.ts_tick_us > r->o.tol_us)
			return mismatch(r, e, g, sched, send,
					"expected TS val %u got %u (--tcp_ts_tick_usecs=%lld, "
					"tolerance %lld us)",
					pk->opt[i].val, mapped, (long long)r->o.ts_tick_us,
					(long long)r->o.tol_us);
	}
	return 0;
}

/* Nothing came in time. The script fails either way; to say how, let the
 * stack run on (at most ANY_WAIT_US, blocked calls left alone) and show the
 * next segment it sends, if any. */
static int
none_sent(struct run *r, const struct d_event *e, uint64_t sched, uint64_t send, uint64_t hi)
{
	const struct d_pkt *pk = &e->u.pkt;
	char t1[32], t2[32], t3[32], when[80];

	if (e->tk == DT_ANY)
		snprintf(when, sizeof(when), "any time");
	else if (sched != send)
		snprintf(when, sizeof(when), "%s~%s", drill_tstr(sched, t1, sizeof(t1)),
			 drill_tstr(send, t2, sizeof(t2)));
	else
		snprintf(when, sizeof(when), "%s", drill_tstr(sched, t1, sizeof(t1)));

	r->lookahead = true;
	while (r->head == r->nout) {
		uint64_t nt = td_tcp_next_timer(r->st);
		if (nt == UINT64_MAX || nt > hi + ANY_WAIT_US || nt <= r->clock)
			break;
		td_tcp_advance(r->st, nt, 0);
		r->clock = nt;
	}
	if (r->head == r->nout)
		return mismatch(r, e, NULL, sched, send,
				"expected outbound segment at %s: none sent", when);
	const struct out_seg *g = &r->out[r->head];
	uint32_t off = r->local_known ? r->local_off : 0;
	if (g->flags == pk->flags && g->seq - off == pk->seq && g->len == pk->len)
		return mismatch(r, e, g, sched, send, "expected time %s got %s (tolerance %s)",
				when, drill_tstr(g->t, t2, sizeof(t2)),
				drill_tstr(hi - send, t3, sizeof(t3)));
	return mismatch(r, e, g, sched, send,
			"expected outbound segment at %s: none sent by then; the next one, at "
			"%s, is another",
			when, drill_tstr(g->t, t2, sizeof(t2)));
}

static int
expect_out(struct run *r, const struct d_event *e, uint64_t sched, uint64_t send, uint64_t prev)
{
	const struct d_pkt *pk = &e->u.pkt;
	char f1[10], f2[10], t1[32], t2[32], t3[32];
	bool any = e->tk == DT_ANY;
	uint64_t lo = 0, hi, tol = 0;

	if (ensure_stack(r))
		return -1;
	if (any) {
		hi = r->clock + ANY_WAIT_US;
	} else {
		tol = tolerance(r, sched, prev);
		lo = sched > tol ? sched - tol : 0;
		hi = send + tol;
	}
	while (r->head == r->nout) {
		uint64_t nt = td_tcp_next_timer(r->st);
		if (nt == UINT64_MAX || nt > hi)
			return none_sent(r, e, sched, send, hi);
		if (advance_to(r, nt))
			return -1;
	}
	const struct out_seg *g = &r->out[r->head++];
	if (!tuple_eq(&g->tuple, &r->tuple))
		return mismatch(r, e, g, sched, send,
				"expected a segment of the connection under test, got one of "
				"another 4-tuple (port %u -> %u)",
				g->tuple.lport, g->tuple.rport);
	if (g->flags != pk->flags) {
		d_flags_str(pk->flags, f1);
		d_flags_str(g->flags, f2);
		return mismatch(r, e, g, sched, send, "expected flags %s got %s", f1, f2);
	}
	if ((pk->flags & TD_TH_SYN) && !r->local_known) {
		r->local_known = true;
		r->local_off = g->seq - pk->seq;
	}
	uint32_t seq = g->seq - (r->local_known ? r->local_off : 0);
	if (seq != pk->seq)
		return mismatch(r, e, g, sched, send, "expected seq %u got %u", pk->seq, seq);
	if (g->len != pk->len)
		return mismatch(r, e, g, sched, send, "expected len %u got %u", pk->len, g->len);
	if (!g->zero)
		return mismatch(r, e, g, sched, send, "expected payload zeros got other bytes");
	uint32_t ack = (pk->flags & TD_TH_ACK) ? pk->ack : 0;
	if (g->ack != ack)
		return mismatch(r, e, g, sched, send, "expected ack %u got %u", ack, g->ack);
	if (pk->has_win && g->wnd != pk->win)
		return mismatch(r, e, g, sched, send, "expected win %u got %u", pk->win, g->wnd);
	if (!pk->nocheck && compare_options(r, e, g, sched, send))
		return -1;
	if (!any && (g->t < lo || g->t > hi)) {
		if (sched == send)
			return mismatch(
				r, e, g, sched, send, "expected time %s got %s (tolerance %s)",
				drill_tstr(sched, t1, sizeof(t1)), drill_tstr(g->t, t2, sizeof(t2)),
				drill_tstr(tol, t3, sizeof(t3)));
		char rng[80];
		snprintf(rng, sizeof(rng), "%s~%s", drill_tstr(sched, t1, sizeof(t1)),
			 drill_tstr(send, t3, sizeof(t3)));
		return mismatch(r, e, g, sched, send, "expected time %s got %s (tolerance %s)", rng,
				drill_tstr(g->t, t2, sizeof(t2)), drill_tstr(tol, t3, sizeof(t3)));
	}
	if (!pk->nocheck) {
		struct d_tcpopt a[D_MAX_OPTS];
		int n = d_opts_decode(g->opts, g->optlen, a, D_MAX_OPTS);
		for (int i = 0; i < n; i++)
			if (a[i].kind == OPT_TS)
				tsmap_set(r, pk->opt[i].val, a[i].val);
	}
	drill_verbose(r, "%s:%d: matched at %s", r->path, e->line,
		      drill_tstr(g->t, t1, sizeof(t1)));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* System calls                                                              */

/* A call returned at @p t: check its result and, if it blocked, its time. */
static int
finish_call(struct run *r, const struct d_event *e, const struct res *res, uint64_t t,
	    bool blocking, uint64_t end, uint64_t tol)
{
	const struct d_call *c = &e->u.call;
	char want[48], got[48], t1[32], t2[32], t3[32];

	res_str(res->ret, res->err, got, sizeof(got));
	res_str(c->ret, c->err, want, sizeof(want));
	if (res->ret != c->ret || (c->ret == -1 && c->err != 0 && res->err != c->err))
		return drill_fail(r, e->line, "expected %s = %s got %s", c->text, want, got);
	if (blocking) {
		uint64_t lo = end > tol ? end - tol : 0;
		if (t < lo || t > end + tol)
			return drill_fail(
				r, e->line, "expected %s to return at %s got %s (tolerance %s)",
				c->text, drill_tstr(end, t1, sizeof(t1)),
				drill_tstr(t, t2, sizeof(t2)), drill_tstr(tol, t3, sizeof(t3)));
	}
	drill_verbose(r, "%s:%d: %s %s = %s", r->path, e->line, drill_tstr(t, t1, sizeof(t1)),
		      c->text, got);
	return 0;
}

static int
poll_blocked(struct run *r)
{
	struct res res;
	struct blocked b = r->blk;
	int k = drill_call(r, b.ev, &res, true);

	if (k == C_STOP)
		return -1;
	if (k == C_BLOCK)
		return 0;
	r->blk.on = false;
	return finish_call(r, b.ev, &res, r->clock, true, b.end, b.tol);
}

static int
run_call(struct run *r, const struct d_event *e, uint64_t sched, uint64_t end)
{
	const struct d_call *c = &e->u.call;
	char t1[32];
	struct res res;

	if (ensure_stack(r) || advance_to(r, max64(sched, r->clock)))
		return -1;
	if (r->blk.on)
		return drill_fail(r, e->line, "%s while %s (line %d) is still blocked", c->text,
				  r->blk.ev->u.call.text, r->blk.ev->line);
	int k = drill_call(r, e, &res, false);
	if (k == C_STOP)
		return -1;
	uint64_t tol = tolerance(r, end, sched);
	if (k == C_BLOCK) {
		if (!c->blocking)
			return drill_fail(r, e->line, "%s: call would block", c->text);
		r->blk = (struct blocked){
			.on = true, .ev = e, .start = r->clock, .end = end, .tol = tol};
		drill_verbose(r, "%s:%d: %s %s blocks", r->path, e->line,
			      drill_tstr(r->clock, t1, sizeof(t1)), c->text);
		return after_stack(r);
	}
	if (finish_call(r, e, &res, r->clock, c->blocking, end, tol))
		return -1;
	return after_stack(r);
}

/* ------------------------------------------------------------------------ */
/* Commands and assertions                                                   */

static int
run_cmd(struct run *r, const struct d_event *e, uint64_t sched)
{
	const struct d_cmd *cmd = &e->u.cmd;
	char err[256];

	if (r->st != NULL) {
		if (advance_to(r, max64(sched, r->clock)))
			return -1;
	} else {
		r->clock = max64(sched, r->clock);
	}
	if (cmd->defaults) {
		drill_verbose(r, "%s:%d: defaults.sh: nothing to do", r->path, e->line);
		return 0;
	}
	if (r->st != NULL)
		return drill_bad(r, e->line, "sysctl after the stack was created");
	for (unsigned i = 0; i < cmd->n; i++) {
		if (td_tcp_config_set(&r->cfg, cmd->set[i].field, cmd->set[i].value, err,
				      sizeof(err)) != 0)
			return drill_bad(r, e->line, "%s: %s", cmd->set[i].sysctl, err);
		drill_verbose(r, "%s:%d: %s -> %s = %s", r->path, e->line, cmd->set[i].sysctl,
			      cmd->set[i].field, cmd->set[i].value);
	}
	return 0;
}

static int
run_code(struct run *r, const struct d_event *e, uint64_t sched)
{
	const struct d_code *code = &e->u.code;
	int got;

	if (r->st != NULL) {
		if (advance_to(r, max64(sched, r->clock)))
			return -1;
	} else {
		r->clock = max64(sched, r->clock);
	}
	if (r->sut_child != NULL)
		return drill_fail(r, e->line,
				  "tcpi_state: the connection under test has no descriptor "
				  "yet (not accepted)");
	if (r->sut_fd < 0)
		return drill_fail(r, e->line, "tcpi_state: no socket under test");
	struct sock *sk = drill_sock(r, r->sut_fd);
	if (sk == NULL)
		return drill_fail(r, e->line,
				  "tcpi_state: descriptor %d of the socket under test is "
				  "closed",
				  r->sut_fd);
	switch (sk->kind) {
	case SK_LISTEN:
		got = 10;
		break;
	case SK_CONN:
		got = drill_linux_state(td_tcp_state(r->st, sk->dc->c));
		break;
	case SK_NEW:
	default:
		got = 7;
		break;
	}
	for (unsigned i = 0; i < code->n; i++)
		if (code->state[i] != got)
			return drill_fail(r, e->line, "expected tcpi_state %s got %s",
					  d_state_name(code->state[i]), d_state_name(got));
	drill_verbose(r, "%s:%d: tcpi_state %s", r->path, e->line, d_state_name(got));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */

static int
run_event(struct run *r, const struct d_event *e)
{
	bool inbound = e->kind == DE_PKT && !e->u.pkt.out;
	uint64_t base = (inbound && r->last_inbound) ? r->last_sched : r->now_ref;
	uint64_t sched = r->clock, send = r->clock, prev = r->last_sched;
	int rc = 0;

	r->line = e->line;
	switch (e->tk) {
	case DT_ABS:
		sched = send = (uint64_t)e->t;
		break;
	case DT_ABS_RANGE:
		sched = (uint64_t)e->t;
		send = (uint64_t)e->t_end;
		break;
	case DT_REL:
		sched = send = base + (uint64_t)e->t;
		break;
	case DT_REL_RANGE:
		sched = base + (uint64_t)e->t;
		send = base + (uint64_t)e->t_end;
		break;
	case DT_ANY:
	case DT_NONE:
		break;
	}
	switch (e->kind) {
	case DE_PKT:
		rc = e->u.pkt.out ? expect_out(r, e, sched, send, prev) : inject(r, e, sched);
		break;
	case DE_CALL: {
		const struct d_call *c = &e->u.call;
		uint64_t end = sched;
		if (c->blocking)
			end = e->tk == DT_REL ? base + (uint64_t)c->end_us : (uint64_t)c->end_us;
		rc = run_call(r, e, sched, end);
		break;
	}
	case DE_CMD:
		rc = run_cmd(r, e, sched);
		break;
	case DE_CODE:
		rc = run_code(r, e, sched);
		break;
	}
	if (rc != 0)
		return -1;
	/* PACKETDRILL.md 3: "now" is when the event completed, or when a
	 * blocking call started; consecutive '<' lines chain on schedule. */
	r->last_inbound = inbound;
	if (e->tk != DT_NONE)
		r->last_sched = e->tk == DT_ANY ? r->clock : sched;
	if (r->blk.on && r->blk.ev == e)
		r->now_ref = r->blk.start;
	else
		r->now_ref = r->clock;
	return 0;
}

/* End of script: a call still blocked may return until its deadline; then
 * every segment sent must have been matched. */
static void
finish(struct run *r)
{
	char b[600];

	r->line = r->s->nev ? r->s->ev[r->s->nev - 1].line : 0;
	while (r->blk.on && !r->stop) {
		uint64_t nt = td_tcp_next_timer(r->st);
		if (nt == UINT64_MAX || nt > r->blk.end + r->blk.tol)
			break;
		if (advance_to(r, nt))
			return;
	}
	if (r->stop)
		return;
	if (r->blk.on) {
		drill_fail(r, r->blk.ev->line, "%s still blocked at the end of the script",
			   r->blk.ev->u.call.text);
		return;
	}
	if (r->head < r->nout) {
		const struct out_seg *g = &r->out[r->head];
		char msg[2048];
		size_t at = 0;
		actual_str(r, g, b, sizeof(b));
		at += (size_t)snprintf(msg, sizeof(msg),
				       "unexpected outbound segment\nactual "
				       "packet: %s",
				       b);
		for (size_t i = r->head + 1; i < r->nout && i < r->head + 8 && at < sizeof(msg);
		     i++) {
			actual_str(r, &r->out[i], b, sizeof(b));
			at += (size_t)snprintf(msg + at, sizeof(msg) - at,
					       "\nactual packet: %s (line %d)", b, r->out[i].line);
		}
		drill_fail(r, g->line, "%s", msg);
	}
}

int
d_run_script(const struct d_script *s, const struct d_opts *cmdline)
{
	struct run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		abort();
	r->s = s;
	r->path = s->path;
	r->o = s->opts;
	if (cmdline->has_ip)
		r->o.ip = cmdline->ip;
	if (cmdline->has_tol_us)
		r->o.tol_us = cmdline->tol_us;
	if (cmdline->has_tol_pct)
		r->o.tol_pct = cmdline->tol_pct;
	if (cmdline->has_ts_tick)
		r->o.ts_tick_us = cmdline->ts_tick_us;
	if (cmdline->has_verbose)
		r->o.verbose = cmdline->verbose;
	runner_config(&r->cfg);
	r->listen_fd = -1;
	r->sut_fd = -1;
	r->isn_state = 0x7464647269366c6cull;
	if (r->o.ip == 6) {
		static const uint8_t a[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		memcpy(r->stack_addr, a, 16);
	} else {
		static const uint8_t a[4] = {198, 18, 0, 1};
		memcpy(r->stack_addr, a, 4);
	}
	drill_set_tuple(r, STACK_PORT, PEER_PORT);
	r->zbuf = calloc(1, IO_MAX);
	if (r->zbuf == NULL)
		abort();

	for (size_t i = 0; i < s->nev && !r->stop; i++)
		run_event(r, &s->ev[i]);
	if (!r->stop && r->st != NULL)
		finish(r);

	int verdict = r->verdict;
	if (r->st != NULL)
		td_tcp_stack_destroy(r->st);
	free(r->out);
	free(r->tsm);
	free(r->zbuf);
	free(r);
	return verdict;
}
