/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * td_bench_close: lib/tcp's closing path, measured in one process.
 *
 * Two stacks, a client and a server, are wired back to back in memory. Each
 * stack's tx callback copies the segment it sends into a fixed ring (one per
 * direction), and the main loop hands the segments of each ring to the other
 * stack in bursts of up to BURST with td_tcp_input_burst(). Nothing is
 * allocated after setup, and nothing goes through the kernel but the clock.
 *
 * The client keeps --concurrency connections open. Each one sends --request
 * bytes, the server answers with --response bytes, and then one side closes
 * first (--close): the active closer calls CLOSE and gives the handle up at
 * once (an orphan that finishes the close on its own, through FIN-WAIT and
 * TIME-WAIT), the passive closer answers the FIN with its own and keeps the
 * handle until the stack reports CLOSED. That CLOSED event is where a
 * connection counts as done. Payload is generated (TD_TCP_STREAM_GENERATED),
 * so every received byte is checked against its stream offset by lib/tcp.
 *
 * After --duration the client stops opening, and both stacks drain on a
 * virtual clock (1 ms ticks, then straight to the next timer once nothing
 * moves) until every connection and TIME-WAIT entry is gone, with a bound;
 * the pools must then be full again. The exit status is 0 only for a clean
 * run: nothing leaked, no data error, no connection reset or timed out.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_common.h"
#include "td_tcp.h"

#define PROG "td_bench_close"
#define BURST 32                           /* segments per td_tcp_input_burst() */
#define SAMPLE_EVERY 64                    /* loop iterations between pool samples */
#define BUSY_TRIES 64                      /* busy 4-tuples skipped per top-up */
#define DRAIN_LIMIT_US (3600ull * 1000000) /* virtual time the drain may take */
#define DRAIN_STEPS_MAX 100000000ull
#define DRAIN_IDLE_TICKS 1000     /* quiet 1 ms ticks before jumping to the next timer */
#define CLOCK_START_US 1000000ull /* the stacks' clock starts at 1 s: a 0 stands out */
#define SERVER_PORT 80
#define MAX_REPORT 16 /* leftover tuples printed when something leaked */

enum close_side {
	CLOSE_CLIENT,
	CLOSE_SERVER,
};

enum clock_kind {
	CLOCK_MONO,
	CLOCK_VIRTUAL,
};

struct bench_opts {
	double duration_s;
	uint32_t concurrency;
	uint32_t request;
	uint32_t response;
	enum close_side close;
	uint32_t msl_ms;
	uint32_t delack_ms;
	uint16_t port_lo, port_hi;
	uint32_t clients; /* source addresses 198.18.k.1, k < clients */
	enum clock_kind clock;
	uint32_t tick_us;
	uint32_t trace_port; /* 0: no trace */
	bool server_isn_set;
	uint32_t server_isn;
	bool json;
};

/* One direction of the wire: a ring of received-segment descriptors, ready
 * to be passed as they are to td_tcp_input_burst(), with their option bytes
 * beside them and their payload in a byte ring. Both rings are consumed in
 * order, so a byte ring needs only a head and a tail. */
struct wire {
	struct td_seg *segs;
	uint8_t (*opts)[40];
	uint64_t *bend; /* byte-ring tail after each segment's payload */
	uint8_t *bytes;
	uint64_t head, tail;   /* segments */
	uint64_t bhead, btail; /* bytes */
	uint32_t mask;
	uint64_t bsize;
	uint64_t drops; /* ring full: the segment is lost, as on a real wire */
	uint64_t peak;
};

/* Per-connection state of the bench, referenced by td_tcp_set_uctx(). */
struct conn_state {
	struct td_tcp_conn *c;
	uint32_t got;   /* stream bytes received and consumed */
	uint32_t next;  /* free list */
	uint16_t port;  /* the client's source port */
	bool responded; /* server: the response is queued */
	bool closing;   /* CLOSE was called */
};

struct conn_pool {
	struct conn_state *s;
	uint32_t n;
	uint32_t free;
	uint32_t used;
};

struct bench;

struct side {
	struct td_tcp_stack *st;
	struct wire *out; /* toward the other side */
	struct bench *b;
	struct conn_pool pool;
	bool client;
};

enum phase {
	PHASE_RUN,
	PHASE_DRAIN,
};

struct bench {
	struct bench_opts o;
	struct side cli, srv;
	struct wire c2s, s2c;
	enum phase phase;
	uint16_t next_port;
	uint32_t next_client;

	uint64_t conns;        /* completed during the timed run */
	uint64_t drained;      /* completed during the drain */
	uint64_t failed;       /* reset or timed out */
	uint64_t bad_exchange; /* wrong byte counts, unexpected close order */
	uint64_t addr_busy;    /* td_tcp_connect(): -TD_EADDRINUSE */
	uint64_t no_space;     /* td_tcp_connect(): pool full */
	uint64_t opened;
	uint64_t tw_peak;
};

/* ------------------------------------------------------------------------ */
/* Clock                                                                     */

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the process: on a shared machine, the cost per connection
 * without the time other processes held the CPU. */
static uint64_t
cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* ------------------------------------------------------------------------ */
/* The wire                                                                  */

static uint64_t
pow2_at_least(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int
wire_init(struct wire *w, uint32_t nsegs, uint64_t nbytes)
{
	memset(w, 0, sizeof(*w));
	w->mask = (uint32_t)pow2_at_least(nsegs) - 1;
	w->bsize = pow2_at_least(nbytes);
	w->segs = calloc((size_t)w->mask + 1, sizeof(*w->segs));
	w->opts = calloc((size_t)w->mask + 1, sizeof(*w->opts));
	w->bend = calloc((size_t)w->mask + 1, sizeof(*w->bend));
	w->bytes = malloc(w->bsize);
	if (w->segs == NULL || w->opts == NULL || w->bend == NULL || w->bytes == NULL)
		return -TD_ENOMEM;
	/* Touch every page now, not in the timed loop. */
	memset(w->bytes, 0, w->bsize);
	for (uint32_t i = 0; i <= w->mask; i++)
		w->segs[i].opts = w->opts[i];
	return 0;
}

static void
wire_free(struct wire *w)
{
	free(w->segs);
	free(w->opts);
	free(w->bend);
	free(w->bytes);
}

static uint32_t
wire_len(const struct wire *w)
{
	return (uint32_t)(w->tail - w->head);
}

/* Room for @p len payload bytes, contiguous; NULL when the ring is full. */
static uint8_t *
wire_bytes(struct wire *w, uint32_t len, uint64_t *end)
{
	uint64_t pos = w->btail;
	uint64_t off = pos & (w->bsize - 1);

	if (off + len > w->bsize)
		pos += w->bsize - off; /* no wrap inside a payload: skip the tail */
	if (pos + len - w->bhead > w->bsize)
		return NULL;
	*end = pos + len;
	return w->bytes + (pos & (w->bsize - 1));
}

static const char *
flags_str(uint8_t f, char *buf)
{
	static const char names[] = "FSRPAUEC";
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			buf[n++] = names[i];
	buf[n] = '\0';
	return buf;
}

static void
trace_seg(const struct side *sd, const struct td_tcp_out *o, bool dropped)
{
	const struct td_tuple *t = o->tuple;
	char fl[9];

	/* The client's address is 198.18.k.1: its third byte names it. */
	fprintf(stderr,
		"trace %" PRIu64 ".%06" PRIu64
		" %s 198.18.%u.1:%u %s seq %u ack %u wnd %u len %u%s%s\n",
		td_tcp_now(sd->st) / 1000000, td_tcp_now(sd->st) % 1000000,
		sd->client ? "C>S" : "S>C", sd->client ? t->laddr[2] : t->raddr[2],
		sd->client ? t->lport : t->rport, flags_str(o->flags, fl), o->seq, o->ack, o->wnd,
		o->len, o->rexmit ? " rexmit" : "", dropped ? " DROPPED (ring full)" : "");
}

/* ops.tx: copy the segment onto the wire, as the receiver will see it. */
static void
side_tx(void *ctx, const struct td_tcp_out *o)
{
	struct side *sd = ctx;
	struct wire *w = sd->out;
	uint64_t end = w->btail;
	uint8_t *data = NULL;

	if (unlikely(wire_len(w) > w->mask))
		goto drop;
	if (o->len > 0) {
		data = wire_bytes(w, o->len, &end);
		if (unlikely(data == NULL))
			goto drop;
		td_tcp_out_payload(sd->st, o, data);
	}
	uint32_t i = (uint32_t)w->tail & w->mask;
	struct td_seg *s = &w->segs[i];
	const struct td_tuple *t = o->tuple;

	memcpy(s->tuple.laddr, t->raddr, sizeof(s->tuple.laddr));
	memcpy(s->tuple.raddr, t->laddr, sizeof(s->tuple.raddr));
	s->tuple.lport = t->rport;
	s->tuple.rport = t->lport;
	s->tuple.family = t->family;
	s->seq = o->seq;
	s->ack = o->ack;
	s->wnd = o->wnd;
	s->flags = o->flags;
	s->optlen = o->optlen;
	memcpy(w->opts[i], o->opts, o->optlen);
	s->data = data;
	s->len = o->len;
	w->bend[i] = end;
	w->btail = end;
	w->tail++;
	if (unlikely(wire_len(w) > w->peak))
		w->peak = wire_len(w);
	if (unlikely(sd->b->o.trace_port != 0) &&
	    (sd->client ? t->lport : t->rport) == sd->b->o.trace_port)
		trace_seg(sd, o, false);
	return;
drop:
	w->drops++;
	if (sd->b->o.trace_port != 0 &&
	    (sd->client ? o->tuple->lport : o->tuple->rport) == sd->b->o.trace_port)
		trace_seg(sd, o, true);
}

/* ------------------------------------------------------------------------ */
/* Per-connection state                                                      */

static int
pool_init(struct conn_pool *p, uint32_t n)
{
	p->s = calloc(n, sizeof(*p->s));
	if (p->s == NULL)
		return -TD_ENOMEM;
	p->n = n;
	p->used = 0;
	for (uint32_t i = 0; i < n; i++)
		p->s[i].next = i + 1 < n ? i + 1 : UINT32_MAX;
	p->free = 0;
	return 0;
}

static struct conn_state *
pool_get(struct conn_pool *p)
{
	if (p->free == UINT32_MAX)
		return NULL;
	struct conn_state *cs = &p->s[p->free];
	p->free = cs->next;
	p->used++;
	memset(cs, 0, sizeof(*cs));
	return cs;
}

static void
pool_put(struct conn_pool *p, struct conn_state *cs)
{
	cs->c = NULL;
	cs->next = p->free;
	p->free = (uint32_t)(cs - p->s);
	p->used--;
}

/* Give the handle back to the stack and the state back to the pool. */
static void
side_release(struct side *sd, struct conn_state *cs)
{
	td_tcp_release(sd->st, cs->c);
	pool_put(&sd->pool, cs);
}

/* The passive closer saw its FIN acknowledged: one full exchange is over. */
static void
conn_done(struct bench *b)
{
	if (b->phase == PHASE_RUN)
		b->conns++;
	else
		b->drained++;
}

/* Consume everything readable (generated mode: lib/tcp has already checked
 * every byte against its stream offset). */
static void
consume(struct side *sd, struct conn_state *cs)
{
	int n;

	while ((n = td_tcp_recv(sd->st, cs->c, NULL, 1u << 30)) > 0)
		cs->got += (uint32_t)n;
}

/* ------------------------------------------------------------------------ */
/* Client                                                                    */

/* Read the response; when the client closes first and the whole response is
 * in, CLOSE and give the handle up: the orphan goes through FIN-WAIT-1,
 * FIN-WAIT-2 and TIME-WAIT on its own. Returns true once released. */
static bool
client_read(struct side *sd, struct conn_state *cs)
{
	struct bench *b = sd->b;

	consume(sd, cs);
	if (cs->got > b->o.response)
		b->bad_exchange++;
	if (b->o.close != CLOSE_CLIENT || cs->got < b->o.response || cs->closing)
		return false;
	if (td_tcp_shutdown(sd->st, cs->c) != 0)
		b->bad_exchange++;
	side_release(sd, cs);
	return true;
}

static void
client_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	struct side *sd = ctx;
	struct bench *b = sd->b;
	struct conn_state *cs = td_tcp_uctx(c);

	(void)err;
	switch (ev) {
	case TD_TCP_EV_CONNECTED:
		if (b->o.request > 0 &&
		    td_tcp_send(sd->st, c, NULL, b->o.request) != (int)b->o.request)
			b->bad_exchange++;
		client_read(sd, cs);
		return;
	case TD_TCP_EV_READABLE:
		client_read(sd, cs);
		return;
	case TD_TCP_EV_PEER_CLOSED:
		/* The server closed first: the response must be complete, and
		 * our FIN answers its FIN (LAST-ACK). */
		if (client_read(sd, cs))
			return;
		if (b->o.close != CLOSE_SERVER || cs->got != b->o.response)
			b->bad_exchange++;
		if (td_tcp_shutdown(sd->st, c) != 0)
			b->bad_exchange++;
		cs->closing = true;
		return;
	case TD_TCP_EV_CLOSED:
		if (cs->closing)
			conn_done(b);
		else
			b->bad_exchange++;
		side_release(sd, cs);
		return;
	case TD_TCP_EV_RESET:
	case TD_TCP_EV_TIMED_OUT:
		b->failed++;
		side_release(sd, cs);
		return;
	case TD_TCP_EV_ACCEPTED:
	case TD_TCP_EV_WRITABLE:
	case TD_TCP_EV_CLOSE_DONE:
	case TD_TCP_EV_RETX_WARNING:
		return;
	}
}

/* Keep --concurrency connections open, source ports cycling through the
 * range, then on to the next source address. A 4-tuple still in use (by a
 * connection or a TIME-WAIT entry) is counted and skipped. */
static void
client_top_up(struct bench *b, struct td_tuple *t)
{
	struct side *sd = &b->cli;
	const struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_GENERATED};
	unsigned busy = 0;

	while (sd->pool.used < b->o.concurrency) {
		struct conn_state *cs = pool_get(&sd->pool);
		uint16_t port = b->next_port;

		t->lport = port;
		t->laddr[2] = (uint8_t)b->next_client;
		if (port == b->o.port_hi) {
			b->next_port = b->o.port_lo;
			b->next_client =
				b->next_client + 1 == b->o.clients ? 0 : b->next_client + 1;
		} else {
			b->next_port = (uint16_t)(port + 1);
		}
		int rc = td_tcp_connect(sd->st, t, &oo, &cs->c);
		if (rc == 0) {
			cs->port = port;
			td_tcp_set_uctx(cs->c, cs);
			b->opened++;
			continue;
		}
		cs->c = NULL;
		pool_put(&sd->pool, cs);
		if (rc == -TD_EADDRINUSE) {
			b->addr_busy++;
			if (++busy == BUSY_TRIES)
				return;
			continue;
		}
		b->no_space++;
		return;
	}
}

/* ------------------------------------------------------------------------ */
/* Server                                                                    */

/* Read the request; once it is whole, queue the response, and when the
 * server closes first, CLOSE and give the handle up at once (the FIN follows
 * the response). Returns true once released. */
static bool
server_read(struct side *sd, struct conn_state *cs)
{
	struct bench *b = sd->b;

	consume(sd, cs);
	if (cs->responded || cs->got < b->o.request)
		return false;
	if (cs->got > b->o.request)
		b->bad_exchange++;
	if (b->o.response > 0 &&
	    td_tcp_send(sd->st, cs->c, NULL, b->o.response) != (int)b->o.response)
		b->bad_exchange++;
	cs->responded = true;
	if (b->o.close != CLOSE_SERVER)
		return false;
	if (td_tcp_shutdown(sd->st, cs->c) != 0)
		b->bad_exchange++;
	side_release(sd, cs);
	return true;
}

static void
server_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	struct side *sd = ctx;
	struct bench *b = sd->b;
	struct conn_state *cs = td_tcp_uctx(c);

	(void)err;
	switch (ev) {
	case TD_TCP_EV_ACCEPTED:
		cs = pool_get(&sd->pool);
		if (cs == NULL) {
			/* Cannot happen: the pool is as large as the stack's. */
			b->failed++;
			td_tcp_abort(sd->st, c);
			td_tcp_release(sd->st, c);
			return;
		}
		cs->c = c;
		cs->port = td_tcp_tuple(sd->st, c)->rport;
		td_tcp_set_uctx(c, cs);
		return;
	case TD_TCP_EV_CONNECTED:
	case TD_TCP_EV_READABLE:
		server_read(sd, cs);
		return;
	case TD_TCP_EV_PEER_CLOSED:
		/* The client closed first: our FIN answers (LAST-ACK). */
		if (server_read(sd, cs))
			return;
		if (b->o.close != CLOSE_CLIENT || !cs->responded)
			b->bad_exchange++;
		if (td_tcp_shutdown(sd->st, c) != 0)
			b->bad_exchange++;
		cs->closing = true;
		return;
	case TD_TCP_EV_CLOSED:
		if (cs->closing)
			conn_done(b);
		else
			b->bad_exchange++;
		side_release(sd, cs);
		return;
	case TD_TCP_EV_RESET:
	case TD_TCP_EV_TIMED_OUT:
		b->failed++;
		side_release(sd, cs);
		return;
	case TD_TCP_EV_WRITABLE:
	case TD_TCP_EV_CLOSE_DONE:
	case TD_TCP_EV_RETX_WARNING:
		return;
	}
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                  */

/* Hand up to BURST segments of @p w to @p to; returns how many. */
static uint32_t
deliver(struct wire *w, struct td_tcp_stack *to)
{
	uint32_t n = wire_len(w);
	uint32_t i = (uint32_t)w->head & w->mask;

	if (n == 0)
		return 0;
	n = TD_MIN(n, (uint32_t)BURST);
	n = TD_MIN(n, w->mask + 1 - i); /* contiguous in the ring */
	td_tcp_input_burst(to, &w->segs[i], (uint16_t)n);
	w->head += n;
	w->bhead = w->bend[i + n - 1];
	return n;
}

static void
advance_both(struct bench *b, uint64_t now_us)
{
	td_tcp_advance(b->cli.st, now_us, 0);
	td_tcp_advance(b->srv.st, now_us, 0);
}

static void
sample_tw(struct bench *b)
{
	struct td_tcp_pool_info a, s;

	td_tcp_pool_info(b->cli.st, &a);
	td_tcp_pool_info(b->srv.st, &s);
	if ((uint64_t)a.tw_used + s.tw_used > b->tw_peak)
		b->tw_peak = (uint64_t)a.tw_used + s.tw_used;
}

static bool
all_gone(const struct bench *b)
{
	struct td_tcp_pool_info a, s;

	if (wire_len(&b->c2s) > 0 || wire_len(&b->s2c) > 0)
		return false;
	td_tcp_pool_info(b->cli.st, &a);
	td_tcp_pool_info(b->srv.st, &s);
	return a.conns_used == 0 && s.conns_used == 0 && a.tw_used == 0 && s.tw_used == 0;
}

/* The timed run: returns the stacks' clock at its end. */
static uint64_t
run(struct bench *b, uint64_t t0_ns, uint64_t *wall_ns)
{
	struct td_tuple t;
	uint64_t now_us = CLOCK_START_US;
	uint64_t dur_us = (uint64_t)(b->o.duration_s * 1e6);
	/* A virtual run still has a wall-clock bound, so that it always stops. */
	uint64_t wall_max_ns = TD_MAX(dur_us * 1000 * 20, 60ull * 1000000000);

	memset(&t, 0, sizeof(t));
	t.family = 4;
	t.laddr[0] = 198, t.laddr[1] = 18, t.laddr[2] = 0, t.laddr[3] = 1;
	t.raddr[0] = 198, t.raddr[1] = 18, t.raddr[2] = 0, t.raddr[3] = 2;
	t.rport = SERVER_PORT;

	for (uint64_t it = 0;; it++) {
		if (b->o.clock == CLOCK_MONO) {
			uint64_t el = mono_ns() - t0_ns;
			if (el >= dur_us * 1000)
				break;
			now_us = CLOCK_START_US + el / 1000;
		} else {
			if (now_us - CLOCK_START_US >= dur_us)
				break;
			if ((it & 1023) == 0 && mono_ns() - t0_ns > wall_max_ns)
				break;
			now_us += b->o.tick_us;
		}
		advance_both(b, now_us);
		client_top_up(b, &t);
		deliver(&b->c2s, b->srv.st);
		deliver(&b->s2c, b->cli.st);
		if (it % SAMPLE_EVERY == 0)
			sample_tw(b);
	}
	*wall_ns = mono_ns() - t0_ns;
	return now_us;
}

/* No more opens: deliver what is on the wire, and when the wire is empty
 * move the virtual clock on, until both stacks are empty, nothing is left
 * that could ever happen, or the bound is reached. Returns the virtual time
 * it took. */
static uint64_t
drain(struct bench *b, uint64_t now_us)
{
	uint64_t start = now_us;
	unsigned idle = 0;

	b->phase = PHASE_DRAIN;
	for (uint64_t step = 0; step < DRAIN_STEPS_MAX; step++) {
		if (deliver(&b->c2s, b->srv.st) + deliver(&b->s2c, b->cli.st) > 0) {
			idle = 0;
			continue;
		}
		if (all_gone(b) || now_us - start >= DRAIN_LIMIT_US)
			break;
		/* One 1 ms tick at a time while things happen (a tick costs
		 * one wheel slot); after a quiet virtual second, jump to the
		 * next timer (td_tcp_next_timer() scans the whole wheel). */
		if (++idle < DRAIN_IDLE_TICKS) {
			now_us += 1000;
		} else {
			uint64_t next =
				TD_MIN(td_tcp_next_timer(b->cli.st), td_tcp_next_timer(b->srv.st));
			if (next == UINT64_MAX)
				break; /* no timer and no segment: nothing will change */
			now_us = TD_MAX(now_us + 1000, next);
		}
		advance_both(b, now_us);
	}
	return now_us - start;
}

/* ------------------------------------------------------------------------ */
/* Report                                                                    */

static void
print_side(const char *name, const struct side *sd)
{
	const struct td_tcp_stats *s = td_tcp_stack_stats(sd->st);

	printf("# %s: segs_out %" PRIu64 " segs_in %" PRIu64 " rst_sent %" PRIu64
	       " retransmits %" PRIu64 " (fin %" PRIu64 ", syn %" PRIu64 ")\n",
	       name, s->segs_out, s->segs_in, s->rst_sent, s->retransmits, s->fin_retransmits,
	       s->syn_retransmits);
	printf("# %s: entered", name);
	for (int i = 0; i < TD_TCP_NSTATES; i++)
		if (s->state_enter[i] > 0)
			printf(" %s %" PRIu64, td_tcp_state_name((enum td_tcp_state)i),
			       s->state_enter[i]);
	printf("\n# %s: ends", name);
	for (int i = 0; i < TD_TCP_END_MAX; i++)
		if (s->ends[i] > 0)
			printf(" [%s] %" PRIu64, td_tcp_end_name((enum td_tcp_end)i), s->ends[i]);
	printf("\n# %s: drops", name);
	for (int i = 0; i < TD_TCP_DROP_MAX; i++)
		if (s->drops[i] > 0)
			printf(" [%s] %" PRIu64, td_tcp_drop_name((enum td_tcp_drop)i),
			       s->drops[i]);
	printf("\n");
}

/* What a run measured. */
struct result {
	uint64_t wall_ns, cpu_ns; /* of the timed run */
	uint64_t conns, segs;     /* during the timed run */
	uint64_t drain_us;
	struct td_tcp_pool_info cpi, spi; /* after the drain */
	uint32_t leaked_conns, leaked_tw;
	uint64_t data_errors, data_verified, retransmits; /* run and drain */
};

static double
per(uint64_t a, uint64_t b)
{
	return b > 0 ? (double)a / (double)b : 0.0;
}

static void
print_human(const struct bench *b, const struct result *r)
{
	const struct bench_opts *o = &b->o;

	printf("# %s close, concurrency %u, request %u, response %u, msl %u ms, clock %s\n",
	       o->close == CLOSE_CLIENT ? "client" : "server", o->concurrency, o->request,
	       o->response, o->msl_ms, o->clock == CLOCK_MONO ? "mono" : "virtual");
	print_side("client", &b->cli);
	print_side("server", &b->srv);
	printf("# opened %" PRIu64 ", done %" PRIu64 " (+%" PRIu64
	       " while draining), failed %" PRIu64 ", bad exchanges %" PRIu64
	       ", tuple busy %" PRIu64 ", pool full %" PRIu64 "\n",
	       b->opened, r->conns, b->drained, b->failed, b->bad_exchange, b->addr_busy,
	       b->no_space);
	printf("# wire: peak %" PRIu64 "/%" PRIu64 " segments, drops %" PRIu64
	       "; drain took %.3f s of virtual time\n",
	       TD_MAX(b->c2s.peak, b->s2c.peak), (uint64_t)b->c2s.mask + 1,
	       b->c2s.drops + b->s2c.drops, (double)r->drain_us / 1e6);
	printf("# left after drain: conns %u+%u, TIME-WAIT %u+%u, buffers %u+%u, timers %u+%u\n",
	       r->cpi.conns_used, r->spi.conns_used, r->cpi.tw_used, r->spi.tw_used,
	       r->cpi.bufs_used, r->spi.bufs_used, r->cpi.timers_armed, r->spi.timers_armed);
	printf("# cpu %.3f s of %.3f s wall: %.1f ns of CPU per connection\n",
	       (double)r->cpu_ns / 1e9, (double)r->wall_ns / 1e9, per(r->cpu_ns, r->conns));
}

/* One JSON object on one line: the figures named in README.md first. */
static void
print_json(const struct bench *b, const struct result *r)
{
	const struct bench_opts *o = &b->o;
	double secs = (double)r->wall_ns / 1e9;

	printf("{\"bench\":\"core_close\",\"close\":\"%s\",\"concurrency\":%u,"
	       "\"duration_s\":%.3f,\"conns\":%" PRIu64 ",\"cps\":%.1f,\"segs_per_conn\":%.2f,"
	       "\"ns_per_conn\":%.1f,",
	       o->close == CLOSE_CLIENT ? "client" : "server", o->concurrency, secs, r->conns,
	       secs > 0 ? (double)r->conns / secs : 0.0, per(r->segs, r->conns),
	       per(r->wall_ns, r->conns));
	printf("\"data_errors\":%" PRIu64 ",\"data_verified\":%" PRIu64
	       ",\"time_wait_peak\":%" PRIu64 ",\"retransmits\":%" PRIu64
	       ",\"leaked_conns\":%u,\"leaked_tw\":%u,",
	       r->data_errors, r->data_verified, b->tw_peak, r->retransmits, r->leaked_conns,
	       r->leaked_tw);
	printf("\"cpu_ns_per_conn\":%.1f,\"request\":%u,\"response\":%u,\"msl_ms\":%u,"
	       "\"clients\":%u,\"clock\":\"%s\",\"failed\":%" PRIu64 ",\"bad_exchange\":%" PRIu64
	       ",\"tuple_busy\":%" PRIu64 ",\"wire_drops\":%" PRIu64 ",\"drained\":%" PRIu64
	       ",\"drain_virtual_s\":%.3f}\n",
	       per(r->cpu_ns, r->conns), o->request, o->response, o->msl_ms, o->clients,
	       o->clock == CLOCK_MONO ? "mono" : "virtual", b->failed, b->bad_exchange,
	       b->addr_busy, b->c2s.drops + b->s2c.drops, b->drained, (double)r->drain_us / 1e6);
}

/* After a leak: what is left, by 4-tuple and by held handle, on stderr. */
static void
report_leftovers(const struct bench *b)
{
	struct td_tuple t, r;
	unsigned shown = 0;

	memset(&t, 0, sizeof(t));
	t.family = 4;
	t.laddr[0] = 198, t.laddr[1] = 18, t.laddr[2] = 0, t.laddr[3] = 1;
	t.raddr[0] = 198, t.raddr[1] = 18, t.raddr[2] = 0, t.raddr[3] = 2;
	t.rport = SERVER_PORT;
	for (uint32_t k = 0; k < b->o.clients * 65536u && shown < MAX_REPORT; k++) {
		uint32_t p = k & 0xffff;
		if (p < b->o.port_lo || p > b->o.port_hi)
			continue;
		t.lport = (uint16_t)p;
		t.laddr[2] = (uint8_t)(k >> 16);
		r = t;
		memcpy(r.laddr, t.raddr, sizeof(r.laddr));
		memcpy(r.raddr, t.laddr, sizeof(r.raddr));
		r.lport = t.rport;
		r.rport = t.lport;
		enum td_tcp_state cs = td_tcp_lookup_state(b->cli.st, &t);
		enum td_tcp_state ss = td_tcp_lookup_state(b->srv.st, &r);
		if (cs == TD_TCP_CLOSED && ss == TD_TCP_CLOSED)
			continue;
		fprintf(stderr, PROG ": left: 198.18.%u.1:%u client %s server %s\n", k >> 16, p,
			td_tcp_state_name(cs), td_tcp_state_name(ss));
		shown++;
	}
	const struct side *sides[2] = {&b->cli, &b->srv};
	for (int k = 0; k < 2; k++) {
		const struct conn_pool *p = &sides[k]->pool;
		for (uint32_t i = 0; i < p->n && shown < 2 * MAX_REPORT; i++) {
			struct td_tcp_info in;
			if (p->s[i].c == NULL)
				continue;
			td_tcp_info(sides[k]->st, p->s[i].c, &in);
			fprintf(stderr,
				PROG
				": held by the %s: port %u %s snd_una %u snd_nxt %u snd_end %u "
				"rcv_nxt %u rcv_wnd %u fin_sent %d fin_acked %d fin_rcvd %d rtx %d "
				"fw2 %d got %u\n",
				k == 0 ? "client" : "server", p->s[i].port,
				td_tcp_state_name(in.state), in.snd_una, in.snd_nxt, in.snd_end,
				in.rcv_nxt, in.rcv_wnd, in.fin_sent, in.fin_acked, in.fin_rcvd,
				in.rtx_armed, in.fw2_armed, p->s[i].got);
			shown++;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

struct opt_desc {
	const char *name;
	const char *accepted;
};

enum {
	OPT_DURATION = 256,
	OPT_CONCURRENCY,
	OPT_REQUEST,
	OPT_RESPONSE,
	OPT_CLOSE,
	OPT_MSL,
	OPT_DELACK,
	OPT_PORTS,
	OPT_CLIENTS,
	OPT_CLOCK,
	OPT_TICK,
	OPT_TRACE,
	OPT_SERVER_ISN,
	OPT_JSON,
	OPT_HELP,
};

static const struct opt_desc opt_descs[] = {
	[OPT_DURATION - OPT_DURATION] = {"duration", "seconds, 0.001..86400 (default 5)"},
	[OPT_CONCURRENCY - OPT_DURATION] = {"concurrency",
					    "1..65535, at most the tuples of --ports and --clients "
					    "(default 1000)"},
	[OPT_REQUEST - OPT_DURATION] = {"request", "bytes, 0..1073741824 (default 64)"},
	[OPT_RESPONSE - OPT_DURATION] = {"response", "bytes, 0..1073741824 (default 64)"},
	[OPT_CLOSE - OPT_DURATION] = {"close", "client|server (default client)"},
	[OPT_MSL - OPT_DURATION] = {"msl", "ms, 1..600000 (default 20)"},
	[OPT_DELACK - OPT_DURATION] = {"delack", "ms, 0..499 (default 40)"},
	[OPT_PORTS - OPT_DURATION] = {"ports", "LO-HI, 1..65535 (default 1024-65535)"},
	[OPT_CLIENTS - OPT_DURATION] = {"clients",
					"source addresses 198.18.k.1, k < N, 1..256 (default 1)"},
	[OPT_CLOCK - OPT_DURATION] = {"clock", "mono|virtual (default mono)"},
	[OPT_TICK - OPT_DURATION] = {"tick-us",
				     "virtual clock step per loop, 1..1000000 us (default 10)"},
	[OPT_TRACE - OPT_DURATION] = {"trace-port",
				      "a client source port whose segments go to stderr, 1..65535"},
	[OPT_SERVER_ISN - OPT_DURATION] = {"server-isn",
					   "0..4294967295 (0x... accepted): the server's ISN for "
					   "every connection (default RFC 6528)"},
	[OPT_JSON - OPT_DURATION] = {"json", "no value: print only the JSON line"},
	[OPT_HELP - OPT_DURATION] = {"help", "no value"},
};

static const struct option long_opts[] = {
	{"duration", required_argument, NULL, OPT_DURATION},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"request", required_argument, NULL, OPT_REQUEST},
	{"response", required_argument, NULL, OPT_RESPONSE},
	{"close", required_argument, NULL, OPT_CLOSE},
	{"msl", required_argument, NULL, OPT_MSL},
	{"delack", required_argument, NULL, OPT_DELACK},
	{"ports", required_argument, NULL, OPT_PORTS},
	{"clients", required_argument, NULL, OPT_CLIENTS},
	{"clock", required_argument, NULL, OPT_CLOCK},
	{"tick-us", required_argument, NULL, OPT_TICK},
	{"trace-port", required_argument, NULL, OPT_TRACE},
	{"server-isn", required_argument, NULL, OPT_SERVER_ISN},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [options]\n"
		   "lib/tcp's closing path, client and server stacks back to back in memory.\n");
	for (size_t i = 0; i < TD_ARRAY_SIZE(opt_descs); i++)
		fprintf(f, "  --%-12s %s\n", opt_descs[i].name, opt_descs[i].accepted);
}

static int
bad_value(int id, const char *val)
{
	const struct opt_desc *d = &opt_descs[id - OPT_DURATION];

	fprintf(stderr, PROG ": --%s: '%s' is not accepted; accepted: %s\n", d->name, val,
		d->accepted);
	return 2;
}

static bool
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool
parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[32];
	char *dash;
	uint32_t a, b;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash == NULL)
		return false;
	*dash = '\0';
	if (!parse_u32(buf, 1, 65535, &a) || !parse_u32(dash + 1, 1, 65535, &b) || a > b)
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

/* Returns 0, or the exit status (2 for a bad option, 1 for --help done). */
static int
parse_args(int argc, char **argv, struct bench_opts *o)
{
	int id;

	*o = (struct bench_opts){
		.duration_s = 5.0,
		.concurrency = 1000,
		.request = 64,
		.response = 64,
		.close = CLOSE_CLIENT,
		.msl_ms = 20,
		.delack_ms = 40,
		.port_lo = 1024,
		.port_hi = 65535,
		.clients = 1,
		.clock = CLOCK_MONO,
		.tick_us = 10,
	};
	opterr = 0;
	while ((id = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		const char *v = optarg;
		uint32_t u;
		switch (id) {
		case OPT_DURATION: {
			char *end;
			errno = 0;
			double d = strtod(v, &end);
			if (errno != 0 || end == v || *end != '\0' || !(d >= 0.001 && d <= 86400))
				return bad_value(id, v);
			o->duration_s = d;
			break;
		}
		case OPT_CONCURRENCY:
			if (!parse_u32(v, 1, 65535, &o->concurrency))
				return bad_value(id, v);
			break;
		case OPT_REQUEST:
			if (!parse_u32(v, 0, 1u << 30, &o->request))
				return bad_value(id, v);
			break;
		case OPT_RESPONSE:
			if (!parse_u32(v, 0, 1u << 30, &o->response))
				return bad_value(id, v);
			break;
		case OPT_CLOSE:
			if (strcmp(v, "client") == 0)
				o->close = CLOSE_CLIENT;
			else if (strcmp(v, "server") == 0)
				o->close = CLOSE_SERVER;
			else
				return bad_value(id, v);
			break;
		case OPT_MSL:
			if (!parse_u32(v, 1, 600000, &o->msl_ms))
				return bad_value(id, v);
			break;
		case OPT_DELACK:
			if (!parse_u32(v, 0, 499, &o->delack_ms))
				return bad_value(id, v);
			break;
		case OPT_PORTS:
			if (!parse_ports(v, &o->port_lo, &o->port_hi))
				return bad_value(id, v);
			break;
		case OPT_CLIENTS:
			if (!parse_u32(v, 1, 256, &o->clients))
				return bad_value(id, v);
			break;
		case OPT_SERVER_ISN: {
			char *end;
			errno = 0;
			unsigned long long x = strtoull(v, &end, 0);
			if (errno != 0 || end == v || *end != '\0' || *v == '-' || x > UINT32_MAX)
				return bad_value(id, v);
			o->server_isn = (uint32_t)x;
			o->server_isn_set = true;
			break;
		}
		case OPT_CLOCK:
			if (strcmp(v, "mono") == 0)
				o->clock = CLOCK_MONO;
			else if (strcmp(v, "virtual") == 0)
				o->clock = CLOCK_VIRTUAL;
			else
				return bad_value(id, v);
			break;
		case OPT_TICK:
			if (!parse_u32(v, 1, 1000000, &o->tick_us))
				return bad_value(id, v);
			break;
		case OPT_TRACE:
			if (!parse_u32(v, 1, 65535, &u))
				return bad_value(id, v);
			o->trace_port = u;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, PROG ": %s needs a value; accepted: %s\n", argv[optind - 1],
				opt_descs[optopt - OPT_DURATION].accepted);
			return 2;
		default:
			if (optopt >= OPT_DURATION && optopt <= OPT_HELP) {
				fprintf(stderr, PROG ": --%s takes no value\n",
					opt_descs[optopt - OPT_DURATION].name);
				return 2;
			}
			fprintf(stderr,
				PROG
				": unknown option '%s'; accepted: --duration --concurrency "
				"--request --response --close --msl --delack --ports --clients "
				"--clock --tick-us --trace-port --server-isn --json --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			PROG ": unexpected argument '%s'; accepted: options only (--help)\n",
			argv[optind]);
		return 2;
	}
	if (o->concurrency > (uint32_t)(o->port_hi - o->port_lo + 1) * o->clients) {
		char v[16];
		snprintf(v, sizeof(v), "%u", o->concurrency);
		return bad_value(OPT_CONCURRENCY, v);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

/* ops.isn of the server with --server-isn: one ISN for every connection. */
static uint32_t
fixed_isn(void *ctx, const struct td_tuple *t)
{
	const struct side *sd = ctx;

	(void)t;
	return sd->b->o.server_isn;
}

static int
side_init(struct bench *b, struct side *sd, bool client, struct wire *out, uint32_t pool_n,
	  const struct td_tcp_config *cfg, const uint8_t *key)
{
	struct td_tcp_ops ops = {
		.tx = side_tx,
		.event = client ? client_event : server_event,
		.isn = !client && b->o.server_isn_set ? fixed_isn : NULL,
		.ctx = sd,
	};
	char err[256];

	sd->b = b;
	sd->client = client;
	sd->out = out;
	if (pool_init(&sd->pool, pool_n) != 0) {
		fprintf(stderr, PROG ": out of memory for %u connection states\n", pool_n);
		return -TD_ENOMEM;
	}
	sd->st = td_tcp_stack_create(cfg, &ops, CLOCK_START_US, key, err, sizeof(err));
	if (sd->st == NULL) {
		fprintf(stderr, PROG ": %s stack: %s\n", client ? "client" : "server", err);
		return -TD_EINVAL;
	}
	return 0;
}

static void
side_fini(struct side *sd)
{
	td_tcp_stack_destroy(sd->st);
	free(sd->pool.s);
}

int
main(int argc, char **argv)
{
	static const uint8_t ckey[16] = "td-bench-client!";
	static const uint8_t skey[16] = "td-bench-server!";
	const uint8_t srv_addr[4] = {198, 18, 0, 2};
	const struct td_tcp_open_opts lo = {.stream = TD_TCP_STREAM_GENERATED};
	struct td_tcp_config cfg;
	struct bench *b;
	int rc;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return 1;
	rc = parse_args(argc, argv, &b->o);
	if (rc != 0) {
		free(b);
		return rc == 1 ? 0 : rc;
	}
	const struct bench_opts *o = &b->o;
	uint32_t ntuples = (uint32_t)(o->port_hi - o->port_lo + 1) * o->clients;
	uint64_t msg = TD_MAX(o->request, o->response);

	/* Every tuple of the port range can hold one TIME-WAIT entry, on one
	 * side or the other; no more can exist, so none is ever recycled. A
	 * connection block lives a little longer than its bench handle (an
	 * orphan finishing its close), hence the margin on max_conns. */
	td_tcp_config_defaults(&cfg);
	cfg.msl_ms = o->msl_ms;
	cfg.delack_ms = o->delack_ms;
	cfg.max_conns = 4 * o->concurrency + 1024;
	cfg.tw_max = ntuples + 1024;
	cfg.buffers = 0; /* generated payload needs no buffer */
	cfg.timer_slots = 65536;

	/* The wire holds what one side sent and the other has not taken yet:
	 * per connection a handful of control segments and at most one window
	 * of data each way. */
	uint64_t per_segs = 8 + TD_MIN((msg + 511) / 512, 256);
	uint64_t nsegs = TD_MIN((uint64_t)o->concurrency * per_segs + 4096, 1ull << 21);
	uint64_t nbytes =
		(uint64_t)o->concurrency *
			(TD_MIN((uint64_t)o->request + o->response, 2ull * cfg.rcvbuf) + 2048) +
		(1u << 20);

	b->next_port = o->port_lo;
	if (wire_init(&b->c2s, (uint32_t)nsegs, nbytes) != 0 ||
	    wire_init(&b->s2c, (uint32_t)nsegs, nbytes) != 0) {
		fprintf(stderr, PROG ": out of memory for the wire (%" PRIu64 " segments)\n",
			nsegs);
		return 1;
	}
	if (side_init(b, &b->cli, true, &b->c2s, o->concurrency, &cfg, ckey) != 0 ||
	    side_init(b, &b->srv, false, &b->s2c, cfg.max_conns, &cfg, skey) != 0)
		return 1;
	rc = td_tcp_listen(b->srv.st, 4, srv_addr, SERVER_PORT, &lo);
	if (rc != 0) {
		fprintf(stderr, PROG ": listen: %s\n", td_strerror(rc));
		return 1;
	}

	struct result r;
	uint64_t c0 = cpu_ns();
	uint64_t t0 = mono_ns();
	uint64_t now_us = run(b, t0, &r.wall_ns);
	const struct td_tcp_stats *cs = td_tcp_stack_stats(b->cli.st);
	const struct td_tcp_stats *ss = td_tcp_stack_stats(b->srv.st);

	/* The timed figures are taken before the drain. */
	r.cpu_ns = cpu_ns() - c0;
	r.segs = cs->segs_out + ss->segs_out;
	r.conns = b->conns;
	r.drain_us = drain(b, now_us);
	td_tcp_pool_info(b->cli.st, &r.cpi);
	td_tcp_pool_info(b->srv.st, &r.spi);
	r.leaked_conns = r.cpi.conns_used + r.spi.conns_used;
	r.leaked_tw = r.cpi.tw_used + r.spi.tw_used;
	r.data_errors = cs->data_errors + ss->data_errors;
	r.data_verified = cs->data_verified + ss->data_verified;
	r.retransmits = cs->retransmits + ss->retransmits;
	if (!o->json)
		print_human(b, &r);
	print_json(b, &r);
	fflush(stdout);

	bool clean = r.leaked_conns == 0 && r.leaked_tw == 0 && r.data_errors == 0 &&
		     b->failed == 0 && b->bad_exchange == 0 && r.conns > 0;
	if (r.leaked_conns > 0 || r.leaked_tw > 0)
		report_leftovers(b);
	side_fini(&b->cli);
	side_fini(&b->srv);
	wire_free(&b->c2s);
	wire_free(&b->s2c);
	free(b);
	return clean ? 0 : 1;
}
