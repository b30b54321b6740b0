/* SPDX-License-Identifier: BSD-3-Clause */
#include "harness.h"

#include <string.h>

struct harness H;
static uint32_t h_sent; /* stream bytes SENT through h_send() */

static void
h_tx(void *ctx, const struct td_tcp_out *o)
{
	(void)ctx;
	cr_assert_lt(H.nout, H_MAX_OUT, "harness: too many segments captured");
	struct h_out *s = &H.out[H.nout++];
	memset(s, 0, sizeof(*s));
	s->tuple = *o->tuple;
	s->seq = o->seq;
	s->ack = o->ack;
	s->len = o->len;
	s->wnd = o->wnd;
	s->flags = o->flags;
	s->rexmit = o->rexmit;
	s->optlen = o->optlen;
	s->t_us = td_tcp_now(H.st);
	cr_assert_eq(td_tcp_opts_parse(o->opts, o->optlen, &s->opts), 0,
		     "harness: the stack sent malformed options");
	cr_assert_leq(o->len, H_MAX_DATA, "harness: segment too large to capture");
	if (o->len > 0)
		td_tcp_out_payload(H.st, o, s->data);
}

static void
h_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	(void)ctx;
	cr_assert_lt(H.nev, H_MAX_EV, "harness: too many events");
	H.ev[H.nev++] = (struct h_ev){.c = c, .ev = ev, .err = err, .t_us = td_tcp_now(H.st)};
	if (H.on_event != NULL)
		H.on_event(c, ev, err);
}

static uint32_t
h_isn(void *ctx, const struct td_tuple *t)
{
	(void)ctx;
	if (H.isn_rfc6528)
		return td_tcp_isn_rfc6528(H.st, t, td_tcp_now(H.st));
	return H.isn;
}

static const struct td_tcp_ops h_ops = {.tx = h_tx, .event = h_event, .isn = h_isn};

static void
h_create(const struct td_tcp_config *cfg)
{
	char err[256];

	H.st = td_tcp_stack_create(cfg, &h_ops, H.now_us, NULL, err, sizeof(err));
	cr_assert_not_null(H.st, "stack_create: %s", err);
}

void
h_setup(void)
{
	memset(&H, 0, sizeof(H));
	h_sent = 0;
	td_tcp_config_defaults(&H.cfg);
	H.cfg.rcvbuf = 1000; /* the default connection's receive window */
	H.cfg.max_conns = 64;
	H.cfg.tw_max = 64;
	H.cfg.buffers = 128;
	H.cfg.timer_slots = 4096;
	H.isn = 99;
	H.now_us = 1000000; /* not zero, so that a zero time stands out */
	H.t = h_tuple(8080);
	h_create(&H.cfg);
}

void
h_restart(const struct td_tcp_config *cfg)
{
	if (cfg != &H.cfg)
		H.cfg = *cfg;
	if (H.st != NULL)
		td_tcp_stack_destroy(H.st);
	H.c = NULL;
	H.nout = H.rd = H.nev = H.evrd = 0;
	h_create(&H.cfg);
}

void
h_teardown(void)
{
	if (H.st == NULL)
		return;
	if (H.c != NULL)
		h_release();
	/* Everything the stack still holds must end by itself: orphans time
	 * out, TIME-WAIT expires. Then every pool is full again. */
	h_adv_ms(4000ull * 1000);
	h_assert_pools_full();
	td_tcp_stack_destroy(H.st);
	H.st = NULL;
}

struct td_tuple
h_tuple(uint16_t rport)
{
	struct td_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = 4;
	t.laddr[0] = 198, t.laddr[1] = 18, t.laddr[2] = 0, t.laddr[3] = 1;
	t.raddr[0] = 198, t.raddr[1] = 18, t.raddr[2] = 0, t.raddr[3] = 2;
	t.lport = 40000;
	t.rport = rport;
	return t;
}

struct td_tcp_conn *
h_establish_ex(const struct td_tuple *t, uint16_t wnd, uint16_t mss, const uint8_t *opts,
	       uint8_t optlen)
{
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};
	struct td_tcp_conn *c = NULL;
	uint8_t o[40];
	uint8_t n = 0;

	cr_assert_eq(td_tcp_connect(H.st, t, &oo, &c), 0, "connect failed");
	cr_assert_not_null(c);
	const struct h_out *syn = h_next();
	cr_assert_not_null(syn, "no SYN sent");
	cr_assert_eq(syn->flags, TD_TH_SYN);
	if (mss != 0) {
		o[n++] = 2, o[n++] = 4, o[n++] = mss >> 8, o[n++] = mss & 0xff;
	}
	if (opts != NULL) {
		memcpy(o + n, opts, optlen);
		n += optlen;
	}
	struct td_seg s = {.tuple = *t,
			   .seq = 299,
			   .ack = syn->seq + 1,
			   .wnd = wnd,
			   .flags = TD_TH_SYN | TD_TH_ACK,
			   .opts = o,
			   .optlen = n};
	td_tcp_input(H.st, &s);
	const struct h_out *ack = h_next();
	cr_assert_not_null(ack, "no ACK of the SYN-ACK");
	cr_assert_eq(ack->flags, TD_TH_ACK);
	cr_assert_eq(ack->ack, 300);
	cr_assert_eq(td_tcp_state(H.st, c), TD_TCP_ESTABLISHED);
	td_tcp_reset_rtt(H.st, c);
	h_drain();
	h_ev_drain();
	return c;
}

struct td_tcp_conn *
h_establish(void)
{
	H.c = h_establish_ex(&H.t, 1000, 1000, NULL, 0);
	return H.c;
}

struct td_seg
h_seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd)
{
	static uint8_t data[8][70000];
	static unsigned next;
	uint8_t *d = data[next++ % 8];

	cr_assert_leq(len, sizeof(data[0]));
	for (uint32_t i = 0; i < len; i++)
		d[i] = (uint8_t)(seq + i);
	return (struct td_seg){.tuple = H.t,
			       .seq = seq,
			       .ack = ack,
			       .wnd = wnd,
			       .flags = flags,
			       .data = len ? d : NULL,
			       .len = len};
}

void
h_in(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd)
{
	struct td_seg s = h_seg(flags, seq, ack, len, wnd);

	td_tcp_input(H.st, &s);
}

void
h_in_opts(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd,
	  const uint8_t *opts, uint8_t optlen)
{
	struct td_seg s = h_seg(flags, seq, ack, len, wnd);

	s.opts = opts;
	s.optlen = optlen;
	td_tcp_input(H.st, &s);
}

void
h_in_ts(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd, uint32_t tsval,
	uint32_t tsecr)
{
	uint8_t o[12] = {1, 1, 8, 10};

	o[4] = tsval >> 24, o[5] = tsval >> 16, o[6] = tsval >> 8, o[7] = tsval;
	o[8] = tsecr >> 24, o[9] = tsecr >> 16, o[10] = tsecr >> 8, o[11] = tsecr;
	h_in_opts(flags, seq, ack, len, wnd, o, sizeof(o));
}

void
h_burst(const struct td_seg *segs, uint16_t n)
{
	cr_assert_eq(td_tcp_input_burst(H.st, segs, n), n);
}

void
h_adv_us(uint64_t us)
{
	H.now_us += us;
	td_tcp_advance(H.st, H.now_us, 0);
}

void
h_adv_ms(uint64_t ms)
{
	h_adv_us(ms * 1000);
}

void
h_at_ms(uint64_t ms)
{
	uint64_t t = 1000000 + ms * 1000;

	cr_assert_geq(t, H.now_us, "harness: the clock only moves forward");
	h_adv_us(t - H.now_us);
}

uint64_t
h_now_ms(void)
{
	return (H.now_us - 1000000) / 1000;
}

unsigned
h_pending(void)
{
	return H.nout - H.rd;
}

const struct h_out *
h_next(void)
{
	if (H.rd == H.nout)
		return NULL;
	return &H.out[H.rd++];
}

void
h_drain(void)
{
	H.rd = H.nout;
}

static void
flags_str(uint8_t f, char *b)
{
	int n = 0;

	if (f & TD_TH_SYN)
		b[n++] = 'S';
	if (f & TD_TH_FIN)
		b[n++] = 'F';
	if (f & TD_TH_RST)
		b[n++] = 'R';
	if (f & TD_TH_PSH)
		b[n++] = 'P';
	if (f & TD_TH_ACK)
		b[n++] = '.';
	if (n == 0)
		b[n++] = '-';
	b[n] = 0;
}

const struct h_out *
h_expect(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	char ef[8], gf[8];
	const struct h_out *o = h_next();

	flags_str(flags, ef);
	cr_assert_not_null(o, "expected %s %u:%u(%u) ack %u, got nothing", ef, seq, seq + len, len,
			   ack);
	flags_str(o->flags, gf);
	cr_assert(o->flags == flags && o->seq == seq && o->ack == ack && o->len == len,
		  "expected %s %u:%u(%u) ack %u, got %s %u:%u(%u) ack %u at %llu ms", ef, seq,
		  seq + len, len, ack, gf, o->seq, o->seq + o->len, o->len, o->ack,
		  (unsigned long long)((o->t_us - 1000000) / 1000));
	return o;
}

void
h_expect_none(void)
{
	const struct h_out *o = h_next();
	char gf[8];

	if (o == NULL)
		return;
	flags_str(o->flags, gf);
	cr_assert_fail("expected nothing, got %s %u:%u(%u) ack %u at %llu ms", gf, o->seq,
		       o->seq + o->len, o->len, o->ack,
		       (unsigned long long)((o->t_us - 1000000) / 1000));
}

unsigned
h_ev_count(enum td_tcp_event ev)
{
	unsigned n = 0;

	for (unsigned i = 0; i < H.nev; i++)
		n += H.ev[i].ev == ev;
	return n;
}

const struct h_ev *
h_ev_next(void)
{
	if (H.evrd == H.nev)
		return NULL;
	return &H.ev[H.evrd++];
}

void
h_expect_ev(enum td_tcp_event ev, int err)
{
	const struct h_ev *e = h_ev_next();

	cr_assert_not_null(e, "expected event %s, got none", td_tcp_event_name(ev));
	cr_assert(e->ev == ev && e->err == err, "expected event %s (%d), got %s (%d)",
		  td_tcp_event_name(ev), err, td_tcp_event_name(e->ev), e->err);
}

void
h_expect_no_ev(void)
{
	const struct h_ev *e = h_ev_next();

	if (e != NULL)
		cr_assert_fail("expected no event, got %s (%d)", td_tcp_event_name(e->ev), e->err);
}

void
h_ev_drain(void)
{
	H.evrd = H.nev;
}

enum td_tcp_state
h_state(void)
{
	return td_tcp_lookup_state(H.st, &H.t);
}

struct td_tcp_info
h_info(void)
{
	struct td_tcp_info i;

	cr_assert_not_null(H.c, "harness: no connection held");
	td_tcp_info(H.st, H.c, &i);
	return i;
}

void
h_assert_pools_full(void)
{
	struct td_tcp_pool_info pi;

	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.conns_used, 0, "connections still in use: %u", pi.conns_used);
	cr_assert_eq(pi.tw_used, 0, "TIME-WAIT entries still in use: %u", pi.tw_used);
	cr_assert_eq(pi.bufs_used, 0, "buffers still in use: %u", pi.bufs_used);
	cr_assert_eq(pi.timers_armed, 0, "timers still armed: %u", pi.timers_armed);
}

const struct td_tcp_stats *
h_stats(void)
{
	return td_tcp_stack_stats(H.st);
}

int
h_send(uint32_t len)
{
	static uint8_t buf[1 << 20];

	cr_assert_leq(len, sizeof(buf));
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(h_sent + i);
	int n = td_tcp_send(H.st, H.c, buf, len);
	if (n > 0)
		h_sent += (uint32_t)n;
	return n;
}

int
h_recv(uint32_t len)
{
	static uint8_t buf[1 << 20];

	cr_assert_leq(len, sizeof(buf));
	return td_tcp_recv(H.st, H.c, buf, len);
}

int
h_recv_into(void *buf, uint32_t len)
{
	return td_tcp_recv(H.st, H.c, buf, len);
}

void
h_release(void)
{
	td_tcp_release(H.st, H.c);
	H.c = NULL;
}
