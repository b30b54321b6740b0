/* SPDX-License-Identifier: BSD-3-Clause */
/* Bad input is never fatal: random segments (flags, sequence and ACK numbers
 * around the windows, option bytes, lengths) and random user calls against
 * connections in every state never crash the core, never emit a malformed
 * segment (the harness parses every option list it sends), and every pool
 * is full again once the user lets go and the timers run out. */
#include "harness.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* A sequence number near @base: mostly in or around the window, sometimes
 * anywhere. */
static uint32_t
near(uint32_t base)
{
	switch (rnd() % 4) {
	case 0:
		return base;
	case 1:
		return base + rnd() % 2000 - 1000;
	case 2:
		return base + rnd() % 70000;
	}
	return rnd();
}

static void
random_segment(const struct td_tcp_info *i)
{
	static const uint8_t flag_set[] = {A, A | P, F | A, F | P | A, R, R | A, S, S | A, F, 0, P};
	uint8_t opts[40];
	uint8_t optlen = (uint8_t)((rnd() % 11) * 4);
	uint32_t len = rnd() % 3 == 0 ? rnd() % 1500 : 0;

	for (unsigned k = 0; k < optlen; k++)
		opts[k] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() % 9); /* mostly known kinds */
	struct td_seg s = h_seg(flag_set[rnd() % sizeof(flag_set)], near(i->rcv_nxt),
				near(i->snd_una), len, (uint16_t)rnd());
	s.opts = optlen ? opts : NULL;
	s.optlen = optlen;
	td_tcp_input(H.st, &s);
}

static void
random_call(void)
{
	uint8_t buf[256];

	switch (rnd() % 10) {
	case 0:
		h_send(rnd() % 3000);
		break;
	case 1:
		h_recv_into(buf, sizeof(buf));
		break;
	case 2:
		td_tcp_shutdown(H.st, H.c);
		break;
	case 3:
		td_tcp_shutdown_rd(H.st, H.c);
		break;
	case 4:
		h_adv_ms(rnd() % 3000);
		break;
	case 5:
		td_tcp_take_error(H.c);
		break;
	default:
		break;
	}
}

Test(fuzz, random_segments_and_calls_in_every_state, .init = h_setup, .fini = h_teardown,
     .timeout = 120)
{
	static const enum td_tcp_state states[] = {
		TD_TCP_ESTABLISHED, TD_TCP_FIN_WAIT_1, TD_TCP_FIN_WAIT_2,
		TD_TCP_CLOSE_WAIT,  TD_TCP_CLOSING,    TD_TCP_LAST_ACK,
	};

	for (unsigned round = 0; round < 3000; round++) {
		h_restart(&H.cfg);
		h_goto_state(states[round % TD_ARRAY_SIZE(states)]);
		for (unsigned k = 0; k < 60; k++) {
			struct td_tcp_info i = h_info();
			if (rnd() % 4 == 0)
				random_call();
			else
				random_segment(&i);
			H.nout = H.rd = 0; /* the harness parsed each one as it was sent */
			H.nev = H.evrd = 0;
		}
		if (rnd() % 2)
			td_tcp_abort(H.st, H.c);
		h_release();
		h_adv_ms(4000ull * 1000);
		h_assert_pools_full();
	}
}
