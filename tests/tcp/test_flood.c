/* SPDX-License-Identifier: BSD-3-Clause */
/* Issue 6: a million TIME-WAIT entries falling due at the same instant are
 * freed a budget at a time, and segments keep being served in between. */
#include <criterion/criterion.h>
#include <string.h>

#include "td_tcp.h"

#define FLOOD 1000000u
#define BUDGET 1000u

static unsigned sent;
static struct td_tcp_out last;

static void
count_tx(void *ctx, const struct td_tcp_out *o)
{
	(void)ctx;
	sent++;
	last = *o;
}

static uint32_t
fixed_isn(void *ctx, const struct td_tuple *t)
{
	(void)ctx;
	(void)t;
	return 1000;
}

static struct td_tuple
tuple(uint32_t i)
{
	struct td_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = 4;
	t.laddr[0] = 198, t.laddr[1] = 18, t.laddr[2] = 0, t.laddr[3] = 1;
	t.raddr[0] = 198, t.raddr[1] = 19, t.raddr[2] = (uint8_t)(i >> 16), t.raddr[3] = 1;
	t.lport = (uint16_t)(1024 + (i & 0xffff));
	t.rport = 80;
	return t;
}

static void
in(struct td_tcp_stack *st, const struct td_tuple *t, uint8_t flags, uint32_t seq, uint32_t ack,
   uint32_t len)
{
	static const uint8_t zeros[16];
	struct td_seg s = {.tuple = *t,
			   .seq = seq,
			   .ack = ack,
			   .wnd = 65535,
			   .flags = flags,
			   .data = len ? zeros : NULL,
			   .len = len};

	td_tcp_input(st, &s);
}

Test(flood, million_time_wait_expiries_are_bounded_per_poll, .timeout = 240)
{
	struct td_tcp_ops ops = {.tx = count_tx, .isn = fixed_isn};
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_GENERATED};
	struct td_tcp_config cfg;
	struct td_tcp_pool_info pi;
	struct td_tcp_conn *c;
	char err[256];
	uint64_t now = 1000000;

	td_tcp_config_defaults(&cfg);
	cfg.max_conns = 64;
	cfg.tw_max = FLOOD;
	cfg.buffers = 0;
	cfg.timestamps = cfg.sack = cfg.window_scaling = 0;
	cfg.delack_ms = 0;
	struct td_tcp_stack *st = td_tcp_stack_create(&cfg, &ops, now, NULL, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);

	/* One connection that stays open through the flood. */
	struct td_tuple live = tuple(FLOOD);
	struct td_tcp_conn *lc;
	cr_assert_eq(td_tcp_connect(st, &live, &oo, &lc), 0);
	in(st, &live, TD_TH_SYN | TD_TH_ACK, 5000, 1001, 0);
	cr_assert_eq(td_tcp_state(st, lc), TD_TCP_ESTABLISHED);

	/* A million connections closed by us, all entering TIME-WAIT at once. */
	for (uint32_t i = 0; i < FLOOD; i++) {
		struct td_tuple t = tuple(i);
		cr_assert_eq(td_tcp_connect(st, &t, &oo, &c), 0);
		in(st, &t, TD_TH_SYN | TD_TH_ACK, 5000, 1001, 0);
		cr_assert_eq(td_tcp_shutdown(st, c), 0);
		td_tcp_release(st, c);
		in(st, &t, TD_TH_FIN | TD_TH_ACK, 5001, 1002, 0);
	}
	td_tcp_pool_info(st, &pi);
	cr_assert_eq(pi.tw_used, FLOOD);
	cr_assert_eq(pi.conns_used, 1);

	/* 2*MSL later every entry is due. Each poll frees at most BUDGET of
	 * them, and a segment arriving between polls is answered at once. */
	now += 2ull * cfg.msl_ms * 1000;
	unsigned polls = 0;
	uint32_t seq = 5001;
	for (;;) {
		unsigned n = td_tcp_advance(st, now, BUDGET);
		cr_assert_leq(n, BUDGET);
		polls++;
		unsigned before = sent;
		in(st, &live, TD_TH_ACK | TD_TH_PSH, seq, 1001, 16);
		seq += 16;
		cr_assert_eq(sent, before + 1, "no ACK for data during the flood (poll %u)", polls);
		cr_assert_eq(last.ack, seq);
		td_tcp_pool_info(st, &pi);
		if (pi.tw_used == 0)
			break;
		cr_assert_eq(n, BUDGET, "poll %u freed %u with entries still due", polls, n);
	}
	cr_assert_eq(polls, FLOOD / BUDGET);
	cr_assert_eq(td_tcp_stack_stats(st)->ends[TD_TCP_END_TW_EXPIRED], FLOOD);
	cr_assert_eq(td_tcp_state(st, lc), TD_TCP_ESTABLISHED);
	cr_assert_eq(td_tcp_advance(st, now, BUDGET), 0);

	cr_assert_eq(td_tcp_abort(st, lc), 0);
	td_tcp_release(st, lc);
	td_tcp_pool_info(st, &pi);
	cr_assert_eq(pi.conns_used + pi.tw_used + pi.timers_armed, 0);
	td_tcp_stack_destroy(st);
}
