/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 4: retransmission and timers (C-49 .. C-64).
 *
 * Times are harness milliseconds (0 = when the harness started, stack clock
 * 1000000 us). Timers are run at their own due times (h_run_to_ms()), so every
 * segment a timer sends carries its due time; expiries are checked to one
 * 1 ms wheel tick.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Assert @o was sent at stack time @us, to one timer tick. */
static void
sent_at_us(const struct h_out *o, uint64_t us)
{
	cr_assert(o->t_us >= us && o->t_us <= us + H_TICK_US,
		  "segment %u:%u (flags 0x%x) sent at %.3f ms, expected at %.3f ms", o->seq,
		  o->seq + o->len, o->flags, h_ms_of(o->t_us), h_ms_of(us));
}

static void
sent_at_ms(const struct h_out *o, uint64_t ms)
{
	sent_at_us(o, H_US(ms));
}

/* Nothing is sent before harness time @due_ms; by @until_ms the next segment
 * is @flags @seq:@seq+@len ack @ack, sent at @due_ms. Returns it. */
static const struct h_out *
expect_next_at_ms(uint64_t due_ms, uint64_t until_ms, uint8_t flags, uint32_t seq, uint32_t ack,
		  uint32_t len)
{
	h_run_to_ms(due_ms - 1);
	h_expect_none();
	h_run_to_ms(until_ms);
	const struct h_out *o = h_expect(flags, seq, ack, len);
	sent_at_ms(o, due_ms);
	return o;
}

/* The peer closes its window: a pure window update to 0. */
static void
peer_window_zero(void)
{
	h_in(A, 300, 100, 0, 0);
	h_expect_none();
	cr_assert_eq(h_info().snd_wnd, 0);
}

/* SEND @len at the current time and the peer's ACK of it @rtt_ms later: one
 * RTT sample of @rtt_ms (the data is sent at once: nothing is in flight). */
static void
rtt_sample(uint32_t seq, uint32_t len, uint64_t rtt_ms)
{
	cr_assert_eq(h_send(len), (int)len);
	const struct h_out *o = h_next();
	cr_assert_not_null(o, "data not sent at once");
	cr_assert(o->seq == seq && o->len == len && !(o->flags & F), "unexpected segment %u:%u",
		  o->seq, o->seq + o->len);
	h_expect_none();
	h_adv_ms(rtt_ms);
	h_in(A, 300, seq + len, 0, 1000);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-49: data and FIN stay queued until acknowledged; each expiry resends the
 * earliest unacknowledged segment with its original sequence numbers. */

/* C-49 */
Test(timers, c49_data_and_fin_resent_until_acked, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_send_and_close(10, 300);
	h_expect_none();

	h_run_to_ms(1500);
	const struct h_out *o = h_expect(F | P | A, 100, 300, 10);
	sent_at_ms(o, 1000);
	cr_expect(o->rexmit, "a retransmission must be flagged as one");
	h_assert_sent_bytes(o, 0);
	h_expect_none();

	/* The data is acknowledged, the FIN is not: the next expiry resends the
	 * FIN alone, at its own sequence number. */
	h_in(A, 300, 110, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_run_to_ms(1500 + 2000 + 1);
	o = h_expect(F | A, 110, 300, 0);
	cr_assert(o->t_us > H_US(1500), "FIN resent before the restarted timer could expire");
	h_expect_none();
	h_in(A, 300, 111, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
}

/* C-49: a FIN alone stays on the retransmission queue through several expiries. */
Test(timers, c49_fin_resent_with_original_seq, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_run_to_ms(3500);
	h_expect(F | A, 100, 300, 0);
	h_expect(F | A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_info().snd_nxt, 101);
	cr_assert_eq(h_info().snd_una, 100);
}

/* ------------------------------------------------------------------------ */

/* C-50: until the first RTT sample the RTO is 1 s. */
Test(timers, c50_first_fin_resent_after_1s, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_info().srtt_us, 0, "the harness connection has no RTT sample");
	cr_assert_eq(h_info().rto_us, 1000000);
	h_at_ms(250);
	const struct h_out *o = h_close_expect_fin(300);
	sent_at_ms(o, 250);
	expect_next_at_ms(1250, 1800, F | A, 100, 300, 0);
	h_expect_none();
}

/* C-50: the same for data and for a connection whose RTT estimate was reset. */
Test(timers, c50_data_resent_after_1s, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_send(10), 10);
	h_expect(P | A, 100, 300, 10);
	expect_next_at_ms(1000, 1500, P | A, 100, 300, 10);
}

/* ------------------------------------------------------------------------ */
/* C-51: RFC 6298 2.2 and 2.3. */

/* C-51: first sample R = 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms. */
Test(timers, c51_first_sample_rto_300ms, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	rtt_sample(100, 10, 100);
	struct td_tcp_info i = h_info();
	cr_assert_eq(i.srtt_us, 100000, "SRTT %u us", i.srtt_us);
	cr_assert_eq(i.rttvar_us, 50000, "RTTVAR %u us", i.rttvar_us);
	cr_assert_eq(i.rto_us, 300000, "RTO %u us", i.rto_us);

	/* A FIN sent next is resent 300 ms later. */
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	const struct h_out *o = h_expect(F | A, 110, 300, 0);
	sent_at_ms(o, 100);
	expect_next_at_ms(400, 500, F | A, 110, 300, 0);
}

/* C-51: a second sample R' = 200 ms: RTTVAR 62.5, SRTT 112.5, RTO 362.5 ms. */
Test(timers, c51_second_sample_rto_362ms, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	rtt_sample(100, 10, 100);
	rtt_sample(110, 10, 200);
	struct td_tcp_info i = h_info();
	cr_assert(i.srtt_us >= 112000 && i.srtt_us <= 113000, "SRTT %u us, expected 112500",
		  i.srtt_us);
	cr_assert(i.rttvar_us >= 62000 && i.rttvar_us <= 63000, "RTTVAR %u us, expected 62500",
		  i.rttvar_us);
	cr_assert(i.rto_us >= 361500 && i.rto_us <= 363500, "RTO %u us, expected 362500", i.rto_us);

	/* Clock at 300 ms: the FIN is resent 362.5 ms later (to one tick). */
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	const struct h_out *o = h_expect(F | A, 120, 300, 0);
	sent_at_ms(o, 300);
	h_run_to_ms(661);
	h_expect_none();
	h_run_to_ms(800);
	o = h_expect(F | A, 120, 300, 0);
	cr_assert(o->t_us >= H_US(662) && o->t_us <= H_US(664),
		  "FIN resent at %.3f ms, expected 662.5", h_ms_of(o->t_us));
}

/* ------------------------------------------------------------------------ */
/* C-52: Karn's algorithm. */

/* C-52: the ACK of a retransmitted FIN gives no sample. */
Test(timers, c52_no_sample_from_retransmitted_fin, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	rtt_sample(100, 10, 100); /* SRTT 100 ms, RTO 300 ms; clock 100 ms */
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect(F | A, 110, 300, 0);
	h_run_to_ms(420);
	const struct h_out *o = h_expect(F | A, 110, 300, 0);
	sent_at_ms(o, 400);
	h_at_ms(450); /* 350 ms after the first FIN, 50 ms after the second */
	h_in(A, 300, 111, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	struct td_tcp_info i = h_info();
	cr_assert_eq(i.srtt_us, 100000, "SRTT changed to %u us by an ambiguous ACK", i.srtt_us);
	cr_assert_eq(i.rttvar_us, 50000, "RTTVAR changed to %u us by an ambiguous ACK",
		     i.rttvar_us);
}

/* C-52: the same for retransmitted data. */
Test(timers, c52_no_sample_from_retransmitted_data, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	rtt_sample(100, 10, 100);
	cr_assert_eq(h_send(10), 10);
	h_expect(P | A, 110, 300, 10);
	h_run_to_ms(405);
	const struct h_out *o = h_expect(P | A, 110, 300, 10);
	sent_at_ms(o, 400);
	h_at_ms(410);
	h_in(A, 300, 120, 0, 1000);
	struct td_tcp_info i = h_info();
	cr_assert_eq(i.srtt_us, 100000, "SRTT changed to %u us by an ambiguous ACK", i.srtt_us);
	cr_assert_eq(i.rttvar_us, 50000);
}

/* C-52: with timestamps, an ACK echoing the retransmission's TSval gives a
 * sample (RFC 7323 4: the echo says which transmission it acknowledges). */
Test(timers, c52_ts_echo_of_retransmission_gives_sample, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.ts = true, .wscale = -1});
	h_close_expect_fin(300);
	h_run_to_ms(1050);
	const struct h_out *o = h_expect(F | A, 100, 300, 0);
	sent_at_ms(o, 1000);
	uint32_t tsval = o->opts.ts_val;
	h_at_ms(1100);
	h_in_ts(A, 300, 101, 0, 1000, 501, tsval);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	struct td_tcp_info i = h_info();
	cr_assert(i.srtt_us >= 99000 && i.srtt_us <= 101000,
		  "SRTT %u us, expected a 100 ms sample from the TS echo", i.srtt_us);
}

/* ------------------------------------------------------------------------ */
/* C-53: RTO within [rto_min, rto_max]. */

/* C-53: a 1 ms sample gives RTO = rto_min = 200 ms. */
Test(timers, c53_rto_floor_200ms, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	rtt_sample(100, 10, 1);
	cr_assert_eq(h_info().rto_us, 200000, "RTO %u us", h_info().rto_us);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	const struct h_out *o = h_expect(F | A, 110, 300, 0);
	sent_at_ms(o, 1);
	expect_next_at_ms(201, 300, F | A, 110, 300, 0);
}

/* C-53: a smaller rto_min in the config is honoured (the floor is the config's). */
Test(timers, c53_rto_floor_configurable, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rto_min_ms = 50;
	h_restart(&H.cfg);
	h_establish();
	rtt_sample(100, 10, 1);
	cr_assert_eq(h_info().rto_us, 50000, "RTO %u us", h_info().rto_us);
}

/* C-53: the backoff stops growing at rto_max = 60 s: intervals 1, 2, 4, 8,
 * 16, 32, then 60, 60, 60 s. */
Test(timers, c53_backoff_capped_at_60s, .init = h_setup, .fini = h_teardown)
{
	static const uint64_t at[] = {0, 1, 3, 7, 15, 31, 63, 123, 183, 243};

	h_establish();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_run_to_ms(299000);
	const struct h_out *prev = NULL;
	for (unsigned k = 0; k < TD_ARRAY_SIZE(at); k++) {
		const struct h_out *o = h_expect(F | A, 100, 300, 0);
		if (prev == NULL) {
			sent_at_ms(o, 0);
		} else {
			/* Each interval from the previous send, to one tick. */
			sent_at_us(o, prev->t_us + (at[k] - at[k - 1]) * 1000000ull);
		}
		prev = o;
	}
	h_expect_none();
}

/* @cfg, the defaults with one field out of range, is refused by
 * td_tcp_config_validate() and by td_tcp_stack_create(), each with an error
 * naming @field. */
static void
config_refused(const struct td_tcp_config *cfg, const char *field)
{
	char err[256] = "";

	cr_assert_lt(td_tcp_config_validate(cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, field) != NULL, "error \"%s\" does not name %s", err, field);
	memset(err, 0, sizeof(err));
	cr_assert_null(
		td_tcp_stack_create(cfg, &(struct td_tcp_ops){0}, H_US(0), NULL, err, sizeof(err)));
	cr_assert(strstr(err, field) != NULL, "stack_create error \"%s\"", err);
}

/* C-53: rto_max below 60 s is rejected with one line naming rto_max_ms. */
Test(timers, c53_config_rto_max_30s_rejected, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_config cfg;
	char err[256] = "";

	h_expect_config_error("rto_max_ms", "30000", -TD_ERANGE, "rto_max_ms", "60000", "3600000");

	td_tcp_config_defaults(&cfg);
	cfg.rto_max_ms = 30000;
	config_refused(&cfg, "rto_max_ms");

	td_tcp_config_defaults(&cfg);
	cr_assert_eq(td_tcp_config_set(&cfg, "rto_max_ms", "60000", err, sizeof(err)), 0);
	cr_assert_eq(td_tcp_config_set(&cfg, "rto_max_ms", "120000", err, sizeof(err)), 0);
	cr_assert_eq(cfg.rto_max_ms, 120000);
}

/* C-53: a larger rto_max lets the backoff grow past 60 s. */
Test(timers, c53_backoff_cap_follows_rto_max, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rto_max_ms = 100000;
	H.cfg.user_timeout_ms = 0;
	H.cfg.retries2 = 20;
	h_restart(&H.cfg);
	h_establish();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	/* 64 s is below the cap; 128 s is capped to 100 s. */
	h_run_to_ms(227000 + 100);
	static const uint64_t at[] = {0, 1, 3, 7, 15, 31, 63, 127, 227};
	const struct h_out *prev = NULL;
	for (unsigned k = 0; k < TD_ARRAY_SIZE(at); k++) {
		const struct h_out *o = h_expect(F | A, 100, 300, 0);
		if (prev != NULL)
			sent_at_us(o, prev->t_us + (at[k] - at[k - 1]) * 1000000ull);
		prev = o;
	}
	h_expect_none();
	td_tcp_abort(H.st, H.c);
}

/* ------------------------------------------------------------------------ */

/* C-54: RTO 1 s, peer silent: identical FINs at t = 0, 1, 3, 7, 15, 31 s and
 * at no other time. */
Test(timers, c54_fin_backoff_1_3_7_15_31, .init = h_setup, .fini = h_teardown)
{
	static const uint64_t at[] = {0, 1, 3, 7, 15, 31};

	h_establish();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_run_to_ms(62900);
	const struct h_out *prev = NULL;
	for (unsigned k = 0; k < TD_ARRAY_SIZE(at); k++) {
		const struct h_out *o = h_expect(F | A, 100, 300, 0);
		cr_assert_eq(o->wnd, 1000);
		cr_assert_eq(o->optlen, 0);
		if (prev == NULL)
			sent_at_ms(o, 0);
		else
			sent_at_us(o, prev->t_us + (at[k] - at[k - 1]) * 1000000ull);
		cr_assert_eq(o->rexmit, k > 0);
		prev = o;
	}
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	/* The next one, 32 s after the sixth. */
	h_run_to_us(prev->t_us + 32000000ull + H_TICK_US);
	const struct h_out *o = h_expect(F | A, 100, 300, 0);
	sent_at_us(o, prev->t_us + 32000000ull);
	cr_assert_eq(h_stats()->fin_retransmits, 6);
}

/* C-54: the same doubling for data, and the RTO counts from the previous
 * send (never earlier). */
Test(timers, c54_data_backoff_doubles, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_send(10), 10);
	h_expect(P | A, 100, 300, 10);
	h_run_to_ms(15500);
	static const uint64_t at[] = {1, 3, 7, 15};
	for (unsigned k = 0; k < TD_ARRAY_SIZE(at); k++) {
		const struct h_out *o = h_expect(P | A, 100, 300, 10);
		sent_at_ms(o, at[k] * 1000);
	}
	h_expect_none();
}

/* ------------------------------------------------------------------------ */

/* C-55: zero window: probes at t = 1, 3, 7 s ..., answered with win 0 for an
 * hour without an abort; the window opening releases the data and FIN. */
Test(timers, c55_persist_probes_then_fin_released, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	peer_window_zero();
	cr_assert_eq(h_send(10), 10);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_expect_none();

	unsigned nprobe = 0;
	uint64_t prev = H_US(0), prev_iv = 0;
	const uint64_t end = H_US(3600000);
	while (H.now_us < end) {
		uint64_t nt = td_tcp_next_timer(H.st);
		cr_assert_neq(nt, UINT64_MAX, "no persist timer armed at %.3f ms",
			      h_ms_of(H.now_us));
		if (nt > end)
			break;
		h_run_to_us(nt);
		while (h_pending() > 0) {
			const struct h_out *o = h_expect(A, 99, 300, 0);
			uint64_t iv = o->t_us - prev;
			if (nprobe < 3) {
				static const uint64_t first[] = {1000, 3000, 7000};
				sent_at_ms(o, first[nprobe]);
			} else {
				cr_assert(iv + H_TICK_US >= prev_iv,
					  "probe interval shrank from %.3f to %.3f ms",
					  prev_iv / 1e3, iv / 1e3);
				cr_assert(iv <= 120000000ull + H_TICK_US, "probe interval %.3f ms",
					  iv / 1e3);
			}
			prev = o->t_us;
			prev_iv = iv;
			nprobe++;
			h_in(A, 300, 100, 0, 0);
		}
		cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1, "state %s at %.3f ms",
			     td_tcp_state_name(h_state()), h_ms_of(H.now_us));
	}
	cr_assert_geq(nprobe, 30, "only %u probes in an hour", nprobe);
	cr_assert_null(h_ev_first(TD_TCP_EV_TIMED_OUT), "a held connection timed out");
	cr_assert_null(h_ev_first(TD_TCP_EV_RESET));
	cr_assert_eq(h_stats()->ends[TD_TCP_END_USER_TIMEOUT], 0);

	h_in(A, 300, 100, 0, 1000);
	const struct h_out *o = h_expect(F | P | A, 100, 300, 10);
	h_assert_sent_bytes(o, 0);
	h_expect_none();
	h_in(A, 300, 111, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
}

/* C-55: a FIN alone (nothing queued) also waits for the window. */
Test(timers, c55_bare_fin_waits_for_window, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	peer_window_zero();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_expect_none();
	h_run_to_ms(1500);
	const struct h_out *o = h_expect(A, 99, 300, 0);
	sent_at_ms(o, 1000);
	h_expect_none();
	h_in(A, 300, 100, 0, 1000);
	h_expect(F | A, 100, 300, 0);
}

/* ------------------------------------------------------------------------ */
/* C-56: the user timeout. */

static void
user_timeout_5s_checks(void)
{
	const struct h_out *o = h_close_expect_fin(300);
	sent_at_ms(o, 0);
	h_run_to_ms(4999);
	o = h_expect(F | A, 100, 300, 0);
	sent_at_ms(o, 1000);
	o = h_expect(F | A, 100, 300, 0);
	sent_at_ms(o, 3000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_null(h_ev_first(TD_TCP_EV_TIMED_OUT), "timed out before 5 s");

	h_run_to_ms(5001);
	h_expect_none(); /* C-57: silent by default */
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	const struct h_ev *e = h_ev_first(TD_TCP_EV_TIMED_OUT);
	cr_assert_not_null(e, "the user was not told of the timeout");
	cr_assert_eq(e->err, TD_ETIMEDOUT);
	cr_assert(e->t_us >= H_US(5000) && e->t_us <= H_US(5001), "timed out at %.3f ms",
		  h_ms_of(e->t_us));
	cr_assert_eq(h_ev_count(TD_TCP_EV_TIMED_OUT), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED) + h_ev_count(TD_TCP_EV_RESET), 0);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_USER_TIMEOUT], 1);
	cr_assert_eq(h_recv(100), -TD_ETIMEDOUT);
}

/* C-56: user timeout 5 s (set on the connection), CLOSE, peer silent. */
Test(timers, c56_user_timeout_aborts_at_5s, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	user_timeout_5s_checks();
}

/* C-56: the user timeout given at OPEN. */
Test(timers, c56_user_timeout_from_open, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.wscale = -1, .user_timeout_ms = 5000});
	user_timeout_5s_checks();
}

/* C-56: the default user timeout is 300 s. */
Test(timers, c56_default_user_timeout_300s, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_run_to_ms(299999);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_null(h_ev_first(TD_TCP_EV_TIMED_OUT));
	h_drain();
	h_run_to_ms(300001);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	const struct h_ev *e = h_ev_first(TD_TCP_EV_TIMED_OUT);
	cr_assert_not_null(e);
	cr_assert_eq(e->err, TD_ETIMEDOUT);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_USER_TIMEOUT], 1);
}

/* C-56: the timeout counts from the oldest unacknowledged transmission: an
 * ACK of the data restarts it for the FIN sent afterwards. */
Test(timers, c56_ack_restarts_user_timeout, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	cr_assert_eq(h_send(10), 10);
	h_expect(P | A, 100, 300, 10);
	h_at_ms(2500); /* the data was resent at 1 s: no sample (Karn) */
	h_in(A, 300, 110, 0, 1000);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_drain();
	h_run_to_ms(7499);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1, "aborted before 5 s without an ACK");
	cr_assert_null(h_ev_first(TD_TCP_EV_TIMED_OUT));
	h_drain();
	h_run_to_ms(7501);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_not_null(h_ev_first(TD_TCP_EV_TIMED_OUT));
}

/* ------------------------------------------------------------------------ */
/* C-57: silent deletion by default; rst_on_user_timeout sends one RST. */

/* C-57 */
Test(timers, c57_user_timeout_silent_then_rst_to_late_ack, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_run_to_ms(4999);
	h_drain();
	h_run_to_ms(5001);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->rst_sent, 0);
	h_at_ms(6000);
	h_in(A, 300, 101, 0, 1000);
	const struct h_out *o = h_expect(R, 101, 0, 0);
	cr_assert_eq(o->optlen, 0);
	h_expect_none();
}

/* C-57: with the option on, exactly one R. 101:101(0) ack 300 at t = 5 s. */
Test(timers, c57_rst_on_user_timeout_option, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rst_on_user_timeout = 1;
	h_restart(&H.cfg);
	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	h_close_expect_fin(300);
	h_run_to_ms(4999);
	h_expect(F | A, 100, 300, 0);
	h_expect(F | A, 100, 300, 0);
	h_expect_none();
	h_run_to_ms(6000);
	const struct h_out *o = h_expect(R | A, 101, 300, 0);
	sent_at_ms(o, 5000);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	const struct h_ev *e = h_ev_first(TD_TCP_EV_TIMED_OUT);
	cr_assert_not_null(e);
	cr_assert_eq(e->err, TD_ETIMEDOUT);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_USER_TIMEOUT], 1);
}

/* ------------------------------------------------------------------------ */
/* C-58: orphans behind a zero window are reclaimed at the user timeout. */

/* Run to @until_ms answering every window probe (SEQ 99, ACK @ack) with win 0. */
static unsigned
answer_probes(uint64_t until_ms, uint32_t peer_seq, uint32_t ack)
{
	unsigned n = 0;

	while (H.now_us < H_US(until_ms)) {
		uint64_t nt = td_tcp_next_timer(H.st);
		if (nt == UINT64_MAX || nt > H_US(until_ms))
			break;
		h_run_to_us(nt);
		while (h_pending() > 0) {
			h_expect(A, 99, ack, 0);
			h_in(A, peer_seq, 100, 0, 0);
			n++;
		}
	}
	h_run_to_ms(until_ms);
	return n;
}

/* C-58: the orphan in @s, with data behind a zero window, answers every probe
 * (SEQ 99, ACK @rcv_nxt) and is still in @s at 299.99 s; by 300 s it is gone,
 * silently, counted as a user timeout, and every pool is full again. Returns
 * the number of probes. */
static unsigned
reclaimed_at_user_timeout(enum td_tcp_state s, uint32_t rcv_nxt)
{
	unsigned n = answer_probes(299990, rcv_nxt, rcv_nxt);

	cr_assert_eq(h_state(), s);
	h_run_to_ms(300001);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_USER_TIMEOUT], 1);
	h_assert_pools_full();
	return n;
}

/* C-58: RELEASE with 10 bytes queued behind a zero window (FIN-WAIT-1): the
 * orphan is deleted silently at 300 s and counted. */
Test(timers, c58_orphan_fin_wait_1_zero_window_reclaimed, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	peer_window_zero();
	cr_assert_eq(h_send(10), 10);
	h_release();
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	unsigned nev = H.nev;

	unsigned n = reclaimed_at_user_timeout(TD_TCP_FIN_WAIT_1, 300);
	cr_assert_geq(n, 5, "only %u probes", n);
	cr_assert_eq(H.nev, nev, "an orphan raised an event");
}

/* C-58: the same for an orphan in LAST-ACK. */
Test(timers, c58_orphan_last_ack_zero_window_reclaimed, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | A, 300, 100, 0, 0);
	h_expect(A, 100, 301, 0);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_send(10), 10);
	h_expect_none();
	h_release();
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);

	reclaimed_at_user_timeout(TD_TCP_LAST_ACK, 301);
}

/* ------------------------------------------------------------------------ */
/* C-59: the FIN-WAIT-2 timeout of orphans. */

/* C-59: RELEASE, ACK of the FIN at t = 0: FIN-WAIT-2 at 59.99 s, gone at 60 s,
 * silently; a later FIN gets a RST. Arriving segments do not restart it. */
Test(timers, c59_orphan_fin_wait_2_timeout_60s, .init = h_setup, .fini = h_teardown)
{
	h_orphan_fin_wait_2();
	h_at_ms(30000);
	h_in(A, 300, 101, 0, 1000); /* a bare ACK does not restart the timeout */
	h_expect_none();
	h_expect_gone_at_ms(TD_TCP_FIN_WAIT_2, 60000);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_FIN_WAIT2_TIMEOUT], 1);
	h_assert_pools_full();
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(R, 101, 0, 0);
	h_expect_none();
}

/* C-59: the timeout counts from RELEASE when FIN-WAIT-2 was entered before;
 * a held connection stays in FIN-WAIT-2 meanwhile. */
Test(timers, c59_timeout_counts_from_release, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_run_to_ms(100000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	h_release();
	h_expect_none();
	h_expect_gone_at_ms(TD_TCP_FIN_WAIT_2, 160000);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_FIN_WAIT2_TIMEOUT], 1);
}

/* C-59: the timeout counts from entry into FIN-WAIT-2 when RELEASE came first. */
Test(timers, c59_timeout_counts_from_entry, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_release();
	h_expect(F | A, 100, 300, 0);
	h_at_ms(500);
	h_in(A, 300, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	h_expect_gone_at_ms(TD_TCP_FIN_WAIT_2, 60500);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_FIN_WAIT2_TIMEOUT], 1);
}

/* C-59: fin_wait2_timeout is configurable. */
Test(timers, c59_timeout_configurable, .init = h_setup, .fini = h_teardown)
{
	H.cfg.fin_wait2_timeout_ms = 5000;
	h_restart(&H.cfg);
	h_orphan_fin_wait_2();
	h_expect_gone_at_ms(TD_TCP_FIN_WAIT_2, 5000);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_FIN_WAIT2_TIMEOUT], 1);
}

/* ------------------------------------------------------------------------ */
/* C-60: TIME-WAIT lasts exactly 2 MSL. */

/* C-60 */
Test(timers, c60_time_wait_lasts_2msl, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert(tw.expire_us >= H_US(60000) && tw.expire_us <= H_US(60000) + H_TICK_US,
		  "expires at %.3f ms", h_ms_of(tw.expire_us));
	h_run_to_ms(59999);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_TIME_WAIT);
	h_run_to_ms(60001);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	cr_assert_neq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	h_in(A, 301, 101, 0, 1000);
	h_expect(R, 101, 0, 0);
}

/* C-60: 2 MSL counts from entry (here at t = 10 s). */
Test(timers, c60_time_wait_counts_from_entry, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_at_ms(10000);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_release();
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 70000);
}

/* C-60: MSL is configurable (1 s: TIME-WAIT 2 s). */
Test(timers, c60_msl_configurable, .init = h_setup, .fini = h_teardown)
{
	H.cfg.msl_ms = 1000;
	h_restart(&H.cfg);
	h_goto_state(TD_TCP_TIME_WAIT);
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 2000);
}

/* ------------------------------------------------------------------------ */
/* C-61: delayed ACKs. */

/* C-61: FIN-WAIT-2, data at t = 0: the ACK at t = 40 ms. */
Test(timers, c61_delayed_ack_40ms_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(P | A, 300, 101, 10, 1000);
	h_expect_none();
	expect_next_at_ms(40, 100, A, 101, 310, 0);
	h_expect_none();
}

/* C-61: delack_ms is configurable below 500 ms. */
Test(timers, c61_delayed_ack_configurable, .init = h_setup, .fini = h_teardown)
{
	H.cfg.delack_ms = 499;
	h_restart(&H.cfg);
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(P | A, 300, 101, 10, 1000);
	expect_next_at_ms(499, 600, A, 101, 310, 0);
}

/* C-61: a delayed ACK of 500 ms is rejected with one line naming the field. */
Test(timers, c61_delack_500_rejected, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_config cfg;
	char err[256] = "";

	h_expect_config_error("delack_ms", "500", -TD_ERANGE, "delack_ms", "0", "499");
	h_expect_config_error("delack_ms", "1000", -TD_ERANGE, "delack_ms", "0", "499");
	td_tcp_config_defaults(&cfg);
	cfg.delack_ms = 500;
	config_refused(&cfg, "delack_ms");
	td_tcp_config_defaults(&cfg);
	cr_assert_eq(td_tcp_config_set(&cfg, "delack_ms", "499", err, sizeof(err)), 0);
	cr_assert_eq(cfg.delack_ms, 499);
}

/* ------------------------------------------------------------------------ */
/* C-62: immediate ACKs for every second full segment and for reordering. */

/* C-62: FIN-WAIT-2, receive window 10000. */
Test(timers, c62_second_full_segment_and_ooo_acked_at_once, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rcvbuf = 10000;
	H.cfg.mss = 1000;
	h_restart(&H.cfg);
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_at_ms(1000);
	h_in(A, 300, 101, 1000, 1000);
	h_expect_none();
	h_at_ms(1005);
	h_in(A, 1300, 101, 1000, 1000);
	const struct h_out *o = h_expect(A, 101, 2300, 0);
	sent_at_ms(o, 1005);
	h_expect_none();

	/* Out of order: at once, ACK = RCV.NXT. */
	h_at_ms(1010);
	h_in(P | A, 3000, 101, 10, 1000);
	o = h_expect(A, 101, 2300, 0);
	sent_at_ms(o, 1010);
	h_expect_none();

	/* Filling the gap: at once. */
	h_at_ms(1020);
	h_in(A, 2300, 101, 700, 1000);
	o = h_expect(A, 101, 3010, 0);
	sent_at_ms(o, 1020);
	h_run_to_ms(1200);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
}

/* C-62: out-of-order data in FIN-WAIT-1 is acknowledged at once too. */
Test(timers, c62_ooo_acked_at_once_in_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_at_ms(100);
	h_in(P | A, 310, 100, 10, 1000);
	const struct h_out *o = h_expect(A, 101, 300, 0);
	sent_at_ms(o, 100);
	h_at_ms(200);
	h_in(P | A, 300, 100, 10, 1000);
	o = h_expect(A, 101, 320, 0);
	sent_at_ms(o, 200);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
}

/* ------------------------------------------------------------------------ */
/* C-63: the ACK of a FIN. */

/* C-63: a FIN is acknowledged at +0. */
Test(timers, c63_fin_acked_at_once, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_at_ms(100);
	h_in(F | A, 300, 100, 0, 1000);
	const struct h_out *o = h_expect(A, 100, 301, 0);
	cr_assert_eq(o->t_us, H_US(100), "ACK of the FIN delayed to %.3f ms", h_ms_of(o->t_us));
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	h_run_to_ms(500);
	h_expect_none();
}

/* C-63: a FIN arriving while a delayed ACK is pending is acknowledged at
 * once, the one ACK covering both. */
Test(timers, c63_fin_after_data_acked_at_once, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_expect_none();
	h_at_ms(10);
	h_in(F | A, 310, 100, 0, 1000);
	const struct h_out *o = h_expect(A, 100, 311, 0);
	cr_assert_eq(o->t_us, H_US(10));
	h_run_to_ms(500);
	h_expect_none();
}

/* C-63: in FIN-WAIT-2 the FIN is acknowledged at once (TIME-WAIT). */
Test(timers, c63_fin_in_fin_wait_2_acked_at_once, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_at_ms(100);
	h_in(F | A, 300, 101, 0, 1000);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	cr_assert_eq(o->t_us, H_US(100));
}

/* C-63: option on, CLOSE 10 ms after the FIN: one F. 100:100(0) ack 301. */
Test(timers, c63_option_ack_rides_on_our_fin, .init = h_setup, .fini = h_teardown)
{
	H.cfg.ack_fin_delayed = 1;
	h_restart(&H.cfg);
	h_establish();
	h_in(F | A, 300, 100, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	h_run_to_ms(10);
	h_expect_none();
	const struct h_out *o = h_close_expect_fin(301);
	sent_at_ms(o, 10);
	h_run_to_ms(500);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
}

/* C-63: option on, no CLOSE: the ACK is held at most the delayed-ACK time. */
Test(timers, c63_option_holds_ack_up_to_delack, .init = h_setup, .fini = h_teardown)
{
	H.cfg.ack_fin_delayed = 1;
	h_restart(&H.cfg);
	h_establish();
	h_in(F | A, 300, 100, 0, 1000);
	h_expect_none();
	expect_next_at_ms(40, 100, A, 100, 301, 0);
	h_expect_none();
}

/* C-63: the option concerns CLOSE-WAIT only: in FIN-WAIT-2 the FIN is still
 * acknowledged at once. */
Test(timers, c63_option_only_in_close_wait, .init = h_setup, .fini = h_teardown)
{
	H.cfg.ack_fin_delayed = 1;
	h_restart(&H.cfg);
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | A, 300, 101, 0, 1000);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	cr_assert_eq(o->t_us, H_US(0));
}

/* ------------------------------------------------------------------------ */
/* C-64: one ACK per connection per burst. */

/* C-64: FIN-WAIT-2, one burst of two data segments and the FIN. */
Test(timers, c64_one_ack_per_burst_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	struct td_seg b[3] = {
		h_seg(P | A, 300, 101, 10, 1000),
		h_seg(P | A, 310, 101, 10, 1000),
		h_seg(F | A, 320, 101, 0, 1000),
	};
	h_burst(b, 3);
	const struct h_out *o = h_expect(A, 101, 321, 0);
	cr_assert_eq(o->t_us, H_US(0));
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_run_to_ms(1000);
	h_expect_none();
}

/* C-64: out-of-order segments, each of which alone is ACKed at once, give
 * one ACK per burst. */
Test(timers, c64_one_ack_per_burst_out_of_order, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	struct td_seg b[3] = {
		h_seg(P | A, 310, 100, 10, 1000),
		h_seg(P | A, 330, 100, 10, 1000),
		h_seg(P | A, 350, 100, 10, 1000),
	};
	h_burst(b, 3);
	h_expect(A, 101, 300, 0);
	h_expect_none();
	h_run_to_ms(500);
	h_expect_none();
}

/* C-64: two connections in one burst: one ACK each, after the burst. */
Test(timers, c64_one_ack_per_connection_in_burst, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t2 = h_tuple(8081);

	h_establish();
	struct td_tcp_conn *c2 = h_establish_ex(&t2, 1000, 1000, NULL, 0);
	struct td_seg b[4] = {
		h_seg(P | A, 300, 100, 10, 1000),
		h_seg(P | A, 300, 100, 10, 1000),
		h_seg(F | A, 310, 100, 0, 1000),
		h_seg(F | A, 310, 100, 0, 1000),
	};
	b[1].tuple = t2;
	b[3].tuple = t2;
	h_burst(b, 4);
	const struct h_out *o1 = h_expect(A, 100, 311, 0);
	const struct h_out *o2 = h_expect(A, 100, 311, 0);
	h_expect_none();
	cr_assert(o1->tuple.rport != o2->tuple.rport, "two ACKs for one connection");
	td_tcp_release(H.st, c2);
}
