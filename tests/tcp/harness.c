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

const uint8_t h_mss_1000[4] = {2, 4, 1000 >> 8, 1000 & 0xff};

/* Active open on @t: our SYN, kept in H.syn. */
static const struct h_out *
open_syn(const struct td_tuple *t, const struct td_tcp_open_opts *oo, struct td_tcp_conn **c)
{
	*c = NULL;
	cr_assert_eq(td_tcp_connect(H.st, t, oo, c), 0, "connect failed");
	cr_assert_not_null(*c);
	const struct h_out *syn = h_next();
	cr_assert_not_null(syn, "no SYN sent");
	cr_assert_eq(syn->flags, TD_TH_SYN);
	H.syn = *syn;
	return syn;
}

/* The peer's SYN-ACK @irs to @syn, window @wnd, options @o: our ACK, then
 * ESTABLISHED. The RTT estimate is reset and all output and events consumed. */
static void
answer_syn(const struct td_tuple *t, struct td_tcp_conn *c, const struct h_out *syn, uint32_t irs,
	   uint16_t wnd, const uint8_t *o, uint8_t n)
{
	struct td_seg s = {.tuple = *t,
			   .seq = irs,
			   .ack = syn->seq + 1,
			   .wnd = wnd,
			   .flags = TD_TH_SYN | TD_TH_ACK,
			   .opts = o,
			   .optlen = n};

	td_tcp_input(H.st, &s);
	h_expect(TD_TH_ACK, syn->seq + 1, irs + 1, 0);
	cr_assert_eq(td_tcp_state(H.st, c), TD_TCP_ESTABLISHED);
	td_tcp_reset_rtt(H.st, c);
	h_drain();
	h_ev_drain();
}

/* h_establish_ex() with the peer's ISN @irs. */
static struct td_tcp_conn *
establish(const struct td_tuple *t, uint32_t irs, uint16_t wnd, uint16_t mss, const uint8_t *opts,
	  uint8_t optlen)
{
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};
	struct td_tcp_conn *c;
	uint8_t o[40];
	uint8_t n = 0;

	const struct h_out *syn = open_syn(t, &oo, &c);
	if (mss != 0) {
		o[n++] = 2, o[n++] = 4, o[n++] = mss >> 8, o[n++] = mss & 0xff;
	}
	if (opts != NULL) {
		memcpy(o + n, opts, optlen);
		n += optlen;
	}
	answer_syn(t, c, syn, irs, wnd, o, n);
	return c;
}

struct td_tcp_conn *
h_establish_ex(const struct td_tuple *t, uint16_t wnd, uint16_t mss, const uint8_t *opts,
	       uint8_t optlen)
{
	return establish(t, 299, wnd, mss, opts, optlen);
}

struct td_tcp_conn *
h_establish(void)
{
	H.c = h_establish_ex(&H.t, 1000, 1000, NULL, 0);
	return H.c;
}

struct td_tcp_conn *
h_establish_irs(uint32_t irs)
{
	H.c = establish(&H.t, irs, 1000, 1000, NULL, 0);
	cr_assert_eq(H.syn.seq, 99, "setup: our SYN at %u, not 99", H.syn.seq);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	return H.c;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
	return p + 4;
}

struct td_tcp_conn *
h_handshake(const struct h_hs *p)
{
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER,
				      .user_timeout_ms = p->user_timeout_ms};
	struct td_tcp_conn *c;
	uint8_t o[40], *q = o;
	uint16_t mss = p->mss ? p->mss : 1000;

	const struct h_out *syn = open_syn(&H.t, &oo, &c);
	cr_assert_eq(syn->seq, 99, "setup: our SYN at %u, not 99", syn->seq);
	*q++ = 2, *q++ = 4, *q++ = mss >> 8, *q++ = mss & 0xff;
	if (p->ts) {
		cr_assert(syn->opts.has & TD_OPT_TS, "our SYN offers no timestamps");
		h_ts_learn(syn);
		if (p->sack)
			*q++ = 4, *q++ = 2;
		else
			*q++ = 1, *q++ = 1;
		*q++ = 8, *q++ = 10;
		q = put32(q, 500);
		q = put32(q, syn->opts.ts_val);
	} else if (p->sack) {
		*q++ = 1, *q++ = 1, *q++ = 4, *q++ = 2;
	}
	if (p->wscale >= 0)
		*q++ = 1, *q++ = 3, *q++ = 3, *q++ = (uint8_t)p->wscale;
	answer_syn(&H.t, c, syn, 299, p->wnd ? p->wnd : 1000, o, (uint8_t)(q - o));
	H.c = c;
	struct td_tcp_info i = h_info();
	cr_assert_eq(i.ts_ok, p->ts, "timestamps %snegotiated", i.ts_ok ? "" : "not ");
	cr_assert_eq(i.sack_ok, p->sack, "SACK %snegotiated", i.sack_ok ? "" : "not ");
	return c;
}

const struct h_out *
h_passive_open(uint32_t iss, uint32_t irs, const uint8_t *opts, uint8_t optlen)
{
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};

	H.isn = iss;
	cr_assert_eq(td_tcp_listen(H.st, 4, NULL, H.t.lport, &oo), 0);
	h_in_opts(TD_TH_SYN, irs, 0, 0, 1000, opts, optlen);
	const struct h_out *sa = h_expect(TD_TH_SYN | TD_TH_ACK, iss, irs + 1, 0);
	const struct h_ev *e = h_expect_ev_kind(TD_TCP_EV_ACCEPTED);
	cr_assert_not_null(e->c, "setup: ACCEPTED without a connection");
	H.c = e->c;
	cr_assert_eq(h_state(), TD_TCP_SYN_RECEIVED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_SYN_RECEIVED);
	return sa;
}

const struct h_out *
h_close_expect_fin(uint32_t ack)
{
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	return h_expect(TD_TH_FIN | TD_TH_ACK, 100, ack, 0);
}

const struct h_out *
h_send_and_close(uint32_t len, uint32_t ack)
{
	cr_assert_eq(h_send(len), (int)len);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	return h_expect_data_and_fin(100, ack, len);
}

static void
assert_setup_state(enum td_tcp_state s)
{
	cr_assert_eq(h_state(), s, "setup: wanted %s, got %s", td_tcp_state_name(s),
		     td_tcp_state_name(h_state()));
}

void
h_goto_state(enum td_tcp_state s)
{
	if (s == TD_TCP_SYN_RECEIVED)
		h_passive_open(99, 299, h_mss_1000, sizeof(h_mss_1000));
	else
		h_establish();
	if (s == TD_TCP_FIN_WAIT_1 || s == TD_TCP_FIN_WAIT_2 || s == TD_TCP_CLOSING ||
	    s == TD_TCP_TIME_WAIT) {
		h_close_expect_fin(300);
		assert_setup_state(TD_TCP_FIN_WAIT_1);
	}
	if (s == TD_TCP_FIN_WAIT_2 || s == TD_TCP_TIME_WAIT) {
		h_in(A, 300, 101, 0, 1000);
		h_expect_none();
		assert_setup_state(TD_TCP_FIN_WAIT_2);
	}
	if (s == TD_TCP_CLOSE_WAIT || s == TD_TCP_LAST_ACK) {
		h_in(F | A, 300, 100, 0, 1000);
		h_expect(A, 100, 301, 0);
		assert_setup_state(TD_TCP_CLOSE_WAIT);
	}
	if (s == TD_TCP_CLOSING) {
		h_in(F | A, 300, 100, 0, 1000);
		h_expect(A, 101, 301, 0);
	}
	if (s == TD_TCP_LAST_ACK)
		h_close_expect_fin(301);
	if (s == TD_TCP_TIME_WAIT) {
		h_in(F | A, 300, 101, 0, 1000);
		h_expect(A, 101, 301, 0);
	}
	h_expect_none();
	assert_setup_state(s);
	h_ev_drain();
}

void
h_orphan_fin_wait_2(void)
{
	h_establish();
	h_release();
	h_expect(F | A, 100, 300, 0);
	h_in(A, 300, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
}

uint32_t
h_snd_nxt_in(enum td_tcp_state s)
{
	return TD_TCP_HAVE_CLOSED(s) ? 101 : 100;
}

uint32_t
h_rcv_nxt_in(enum td_tcp_state s)
{
	return TD_TCP_HAVE_RCVD_FIN(s) ? 301 : 300;
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
	cr_assert_eq(pi.ooo_used, 0, "out-of-order entries still in use: %u", pi.ooo_used);
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

void
h_run_to_us(uint64_t end_us)
{
	for (unsigned guard = 0; guard < 1000000; guard++) {
		uint64_t nt = td_tcp_next_timer(H.st);

		if (nt == UINT64_MAX || nt > end_us)
			break;
		h_adv_us(nt > H.now_us ? nt - H.now_us : 1);
	}
	if (end_us > H.now_us)
		h_adv_us(end_us - H.now_us);
}

void
h_run_to_ms(uint64_t ms)
{
	h_run_to_us(H_US(ms));
}

void
h_expect_gone_at_ms(enum td_tcp_state s, uint64_t ms)
{
	h_run_to_ms(ms - 1);
	h_assert_state(s);
	h_run_to_ms(ms + 1);
	h_assert_state(TD_TCP_CLOSED);
}

double
h_ms_of(uint64_t us)
{
	return (double)(us - H_US(0)) / 1000;
}

void
h_in_tuple(const struct td_tuple *t, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
	   uint16_t wnd)
{
	struct td_seg s = h_seg(flags, seq, ack, len, wnd);

	s.tuple = *t;
	td_tcp_input(H.st, &s);
}

void
h_tw_tuple(const struct td_tuple *t)
{
	struct td_tcp_conn *c = h_establish_ex(t, 1000, 1000, NULL, 0);

	cr_assert_eq(td_tcp_shutdown(H.st, c), 0);
	h_expect(F | A, 100, 300, 0);
	h_in_tuple(t, F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	cr_assert_eq(td_tcp_lookup_state(H.st, t), TD_TCP_TIME_WAIT);
	td_tcp_release(H.st, c);
	h_ev_drain();
	cr_assert_eq(td_tcp_lookup_state(H.st, t), TD_TCP_TIME_WAIT);
}

const struct h_out *
h_expect_data_and_fin(uint32_t seq, uint32_t ack, uint32_t len)
{
	const struct h_out *o = h_next();

	cr_assert_not_null(o, "expected P. %u:%u(%u) ack %u and the FIN, got nothing", seq,
			   seq + len, len, ack);
	cr_assert(o->seq == seq && o->ack == ack && o->len == len &&
			  (o->flags == (P | A) || o->flags == (F | P | A)),
		  "expected (F)P. %u:%u(%u) ack %u, got flags 0x%02x %u:%u(%u) ack %u", seq,
		  seq + len, len, ack, o->flags, o->seq, o->seq + o->len, o->len, o->ack);
	if (!(o->flags & F))
		h_expect(F | A, seq + len, ack, 0);
	return o;
}

const struct h_out *
h_expect_rst(uint32_t seq)
{
	const struct h_out *o = h_next();

	cr_assert_not_null(o, "expected R %u:%u(0), got nothing", seq, seq);
	cr_assert(o->flags == R && o->seq == seq && o->len == 0,
		  "expected R %u:%u(0), got flags 0x%02x %u:%u(%u) ack %u", seq, seq, o->flags,
		  o->seq, o->seq + o->len, o->len, o->ack);
	return o;
}

void
h_assert_sent_bytes(const struct h_out *o, uint32_t off)
{
	for (uint32_t i = 0; i < o->len; i++)
		cr_assert_eq(o->data[i], (uint8_t)(off + i), "byte %u of the segment at %u", i,
			     o->seq);
}

void
h_assert_peer_bytes(const uint8_t *buf, uint32_t len, uint32_t seq0)
{
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], (uint8_t)(seq0 + i), "byte %u (seq %u) is %u, not %u", i,
			     seq0 + i, buf[i], (uint8_t)(seq0 + i));
}

/* Our TSval at stack time @us: the TS clock ticks every 1 ms. */
static uint32_t
ts_at(uint64_t us)
{
	return H.ts_base + (uint32_t)((us - H_US(0)) / 1000);
}

void
h_ts_learn(const struct h_out *o)
{
	H.ts_base = o->opts.ts_val - (uint32_t)((o->t_us - H_US(0)) / 1000);
}

uint32_t
h_ts_now(void)
{
	return ts_at(H.now_us);
}

void
h_expect_tsval(const struct h_out *o)
{
	cr_assert(o->opts.has & TD_OPT_TS, "segment flags 0x%x %u:%u without TSopt", o->flags,
		  o->seq, o->seq + o->len);
	uint32_t want = ts_at(o->t_us);
	cr_assert(o->opts.ts_val + 1 - want <= 2, "TSval %u, expected %u from the clock",
		  o->opts.ts_val, want);
}

void
h_expect_ts(const struct h_out *o, uint32_t ecr)
{
	h_expect_tsval(o);
	cr_assert_eq(o->opts.ts_ecr, ecr, "TSecr %u, expected TS.Recent %u", o->opts.ts_ecr, ecr);
}

const struct h_ev *
h_expect_ev_kind(enum td_tcp_event ev)
{
	const struct h_ev *e = h_ev_next();

	cr_assert_not_null(e, "expected event %s, got none", td_tcp_event_name(ev));
	cr_assert_eq(e->ev, ev, "expected event %s, got %s", td_tcp_event_name(ev),
		     td_tcp_event_name(e->ev));
	return e;
}

const struct h_ev *
h_ev_first(enum td_tcp_event ev)
{
	for (unsigned i = 0; i < H.nev; i++)
		if (H.ev[i].ev == ev)
			return &H.ev[i];
	return NULL;
}

void
h_assert_state(enum td_tcp_state s)
{
	cr_assert_eq(h_state(), s, "state %s, expected %s", td_tcp_state_name(h_state()),
		     td_tcp_state_name(s));
}

struct td_tcp_pool_info
h_pools(void)
{
	struct td_tcp_pool_info pi;

	td_tcp_pool_info(H.st, &pi);
	return pi;
}

uint64_t
h_tw_expiry(void)
{
	struct td_tcp_tw_info tw;

	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0, "no TIME-WAIT entry");
	return tw.expire_us;
}

void
h_expect_tw_expiry(uint64_t us)
{
	uint64_t e = h_tw_expiry();

	cr_assert(e >= us && e <= us + H_TICK_US, "TIME-WAIT expires at %.3f ms, expected %.3f ms",
		  h_ms_of(e), h_ms_of(us));
}

void
h_expect_config_error(const char *name, const char *value, int want, const char *must1,
		      const char *must2, const char *must3)
{
	struct td_tcp_config c;
	char err[256];

	td_tcp_config_defaults(&c);
	memset(err, 0, sizeof(err));
	int rc = td_tcp_config_set(&c, name, value, err, sizeof(err));
	cr_assert_eq(rc, want, "set %s=%s returned %d, expected %d (%s)", name, value, rc, want,
		     err);
	const char *must[] = {must1, must2, must3};
	for (unsigned i = 0; i < 3; i++)
		if (must[i] != NULL)
			cr_assert(strstr(err, must[i]) != NULL,
				  "set %s=%s: error \"%s\" lacks \"%s\"", name, value, err,
				  must[i]);
	char *nl = strchr(err, '\n');
	cr_assert(nl == NULL || nl[1] == 0, "error is more than one line: \"%s\"", err);
}
