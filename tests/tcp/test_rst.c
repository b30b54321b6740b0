/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 6 (RFC 5961 in the closing states, C-77 to C-81) and
 * section 8 (RST generation, C-90 to C-94).
 *
 * The default connection is the harness's: ESTABLISHED, SND.NXT 100, RCV.NXT
 * 300, both windows 1000. Probes that expect a reply on one connection are
 * spaced by at least 1 s, outside the invalid-reply rate limit (C-81), except
 * in the C-81 tests themselves.
 */
#include "harness.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/*
 * Let @ms pass so that the next probe is outside the invalid-reply rate limit,
 * consuming the retransmissions of our FIN (or SYN-ACK) that fall due
 * meanwhile; anything else stays unread for the next check.
 */
static void
wait_skip_rexmit(uint64_t ms)
{
	h_adv_ms(ms);
	while (h_pending() > 0 &&
	       (H.out[H.rd].rexmit || (H.out[H.rd].flags & (TD_TH_FIN | TD_TH_SYN))))
		H.rd++;
}

/* What a probe must leave alone: sequence variables and every timer. */
static void
assert_same_conn(const struct td_tcp_info *a, const struct td_tcp_info *b, const char *what)
{
	cr_assert_eq(a->state, b->state, "%s changed the state", what);
	cr_assert_eq(a->snd_una, b->snd_una, "%s changed SND.UNA", what);
	cr_assert_eq(a->snd_nxt, b->snd_nxt, "%s changed SND.NXT", what);
	cr_assert_eq(a->rcv_nxt, b->rcv_nxt, "%s changed RCV.NXT", what);
	cr_assert_eq(a->rtx_armed, b->rtx_armed, "%s changed the retransmission timer", what);
	cr_assert_eq(a->rtx_due_us, b->rtx_due_us, "%s moved the retransmission timer", what);
	cr_assert_eq(a->backoff, b->backoff, "%s changed the backoff", what);
	cr_assert_eq(a->persist_armed, b->persist_armed, "%s changed the persist timer", what);
	cr_assert_eq(a->delack_armed, b->delack_armed, "%s changed the delayed-ACK timer", what);
	cr_assert_eq(a->fw2_armed, b->fw2_armed, "%s changed the FIN-WAIT-2 timer", what);
}

/* A 4-tuple with nothing on it: peer 198.18.0.2:40001 to our 198.18.0.1:8080. */
static struct td_tuple
stray_tuple(void)
{
	struct td_tuple t = h_tuple(40001);

	t.lport = 8080;
	return t;
}

static void
listen_on(uint16_t port)
{
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};

	cr_assert_eq(td_tcp_listen(H.st, 4, NULL, port, &oo), 0);
}

static void
assert_same_tuple(const struct h_out *o, const struct td_tuple *t)
{
	cr_assert(o->tuple.lport == t->lport && o->tuple.rport == t->rport &&
			  memcmp(o->tuple.laddr, t->laddr, 4) == 0 &&
			  memcmp(o->tuple.raddr, t->raddr, 4) == 0,
		  "segment sent on the wrong 4-tuple (ports %u -> %u)", o->tuple.lport,
		  o->tuple.rport);
}

/* Consume the unread output and fail on any segment with the RST bit. */
static void
assert_no_rst_out(const char *what)
{
	const struct h_out *o;

	while ((o = h_next()) != NULL)
		cr_assert_not(o->flags & R, "%s: a RST was sent (%u:%u ack %u)", what, o->seq,
			      o->seq + o->len, o->ack);
}

/* ------------------------------------------------------------------------ */
/* C-77: RST outside the window                                              */

/* C-77: in @s, RSTs beyond the window, below it, and with an ACK are dropped silently, counted,
 * with state and timers unchanged. */
static void
rst_out_of_window_dropped(enum td_tcp_state s)
{
	const uint32_t rn = h_rcv_nxt_in(s);
	struct td_tcp_info before, after;
	struct td_tcp_tw_info twb, twa;

	h_goto_state(s);
	if (s == TD_TCP_TIME_WAIT)
		cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &twb), 0);
	else
		td_tcp_info(H.st, H.c, &before);

	h_in(R, 5000, 0, 0, 1000);
	h_in(R, rn - 100, 0, 0, 1000);
	h_in(R | A, 5000, h_snd_nxt_in(s), 0, 1000);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_state(), s, "%s: out-of-window RST left %s", td_tcp_state_name(s),
		     td_tcp_state_name(h_state()));
	if (s == TD_TCP_TIME_WAIT) {
		cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &twa), 0);
		cr_assert_eq(twa.expire_us, twb.expire_us);
		/* C-67 may count every RST in TIME-WAIT as ignored by RFC 1337 */
		cr_assert_eq(h_stats()->drops[TD_TCP_DROP_RST_OUT_OF_WINDOW] +
				     h_stats()->drops[TD_TCP_DROP_TW_RST],
			     3);
	} else {
		td_tcp_info(H.st, H.c, &after);
		assert_same_conn(&before, &after, "an out-of-window RST");
		cr_assert_eq(h_stats()->drops[TD_TCP_DROP_RST_OUT_OF_WINDOW], 3);
	}
	cr_assert_eq(h_stats()->challenge_acks, 0);
	if (s == TD_TCP_SYN_RECEIVED)
		cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, H.t.lport), 0);
}

/* C-77: FIN-WAIT-2, < R 5000:5000(0): > nothing, state unchanged. */
Test(rfc5961, c77_rst_out_of_window_dropped_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_FIN_WAIT_2);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_syn_received, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_SYN_RECEIVED);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_established, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_ESTABLISHED);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_FIN_WAIT_1);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_close_wait, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_CLOSE_WAIT);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_closing, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_CLOSING);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_last_ack, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_LAST_ACK);
}

/* C-77 */
Test(rfc5961, c77_rst_out_of_window_dropped_time_wait, .init = h_setup, .fini = h_teardown)
{
	rst_out_of_window_dropped(TD_TCP_TIME_WAIT);
}

/* ------------------------------------------------------------------------ */
/* C-78: RST in the window, not at RCV.NXT                                   */

/* C-78: in @s, < R at RCV.NXT + 1 gets one challenge ACK, state and timers unchanged; < R at
 * RCV.NXT then resets (C-28). */
static void
rst_in_window_challenged(enum td_tcp_state s)
{
	const uint32_t rn = h_rcv_nxt_in(s), sn = h_snd_nxt_in(s);
	struct td_tcp_info before, after;

	h_goto_state(s);
	td_tcp_info(H.st, H.c, &before);
	h_in(R, rn + 1, 0, 0, 1000);
	h_expect(A, sn, rn, 0);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_state(), s, "%s: in-window RST left %s", td_tcp_state_name(s),
		     td_tcp_state_name(h_state()));
	td_tcp_info(H.st, H.c, &after);
	assert_same_conn(&before, &after, "an in-window RST");
	cr_assert_eq(h_stats()->challenge_acks, 1);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_RST_CHALLENGED], 1);

	h_in(R, rn, 0, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET), 1);
}

/* C-78 */
Test(rfc5961, c78_rst_in_window_challenged_established, .init = h_setup, .fini = h_teardown)
{
	rst_in_window_challenged(TD_TCP_ESTABLISHED);
}

/* C-78 */
Test(rfc5961, c78_rst_in_window_challenged_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	rst_in_window_challenged(TD_TCP_FIN_WAIT_1);
}

/* C-78 */
Test(rfc5961, c78_rst_in_window_challenged_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	rst_in_window_challenged(TD_TCP_FIN_WAIT_2);
}

/* C-78 */
Test(rfc5961, c78_rst_in_window_challenged_close_wait, .init = h_setup, .fini = h_teardown)
{
	rst_in_window_challenged(TD_TCP_CLOSE_WAIT);
}

/* C-78 */
Test(rfc5961, c78_rst_in_window_challenged_closing, .init = h_setup, .fini = h_teardown)
{
	rst_in_window_challenged(TD_TCP_CLOSING);
}

/* C-78 */
Test(rfc5961, c78_rst_in_window_challenged_last_ack, .init = h_setup, .fini = h_teardown)
{
	rst_in_window_challenged(TD_TCP_LAST_ACK);
}

/* ------------------------------------------------------------------------ */
/* C-79: SYN in a synchronized state                                         */

/* C-79: in @s, < S 300:300(0) and, 1 s later, < S 9000:9000(0) get one challenge ACK each, never
 * a RST; the state is unchanged. */
static void
syn_challenged(enum td_tcp_state s)
{
	const uint32_t rn = h_rcv_nxt_in(s), sn = h_snd_nxt_in(s);
	struct td_tcp_info before, after;

	h_goto_state(s);
	td_tcp_info(H.st, H.c, &before);
	h_in(S, 300, 0, 0, 1000);
	h_expect(A, sn, rn, 0);
	h_expect_none();
	td_tcp_info(H.st, H.c, &after);
	assert_same_conn(&before, &after, "a SYN");

	wait_skip_rexmit(1000);
	h_in(S, 9000, 0, 0, 1000);
	h_expect(A, sn, rn, 0);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_state(), s, "%s: SYN left %s", td_tcp_state_name(s),
		     td_tcp_state_name(h_state()));
	cr_assert_eq(h_stats()->challenge_acks, 2);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SYN_CHALLENGED], 2);
	cr_assert_eq(h_stats()->rst_sent, 0);
	cr_assert_eq(h_pools().conns_used, 1, "a SYN made a new connection");
}

/* C-79 */
Test(rfc5961, c79_syn_challenged_established, .init = h_setup, .fini = h_teardown)
{
	syn_challenged(TD_TCP_ESTABLISHED);
}

/* C-79 */
Test(rfc5961, c79_syn_challenged_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	syn_challenged(TD_TCP_FIN_WAIT_1);
}

/* C-79 */
Test(rfc5961, c79_syn_challenged_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	syn_challenged(TD_TCP_FIN_WAIT_2);
}

/* C-79 */
Test(rfc5961, c79_syn_challenged_close_wait, .init = h_setup, .fini = h_teardown)
{
	syn_challenged(TD_TCP_CLOSE_WAIT);
}

/* C-79 */
Test(rfc5961, c79_syn_challenged_closing, .init = h_setup, .fini = h_teardown)
{
	syn_challenged(TD_TCP_CLOSING);
}

/* C-79 */
Test(rfc5961, c79_syn_challenged_last_ack, .init = h_setup, .fini = h_teardown)
{
	syn_challenged(TD_TCP_LAST_ACK);
}

/* ------------------------------------------------------------------------ */
/* C-80: ACK too old                                                         */

/* FIN-WAIT-2 with SND.UNA = SND.NXT = 50001 (our ISN 49999), MAX.SND.WND 1000. */
static void
goto_fin_wait_2_at_50001(void)
{
	H.isn = 49999;
	h_establish();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect(F | A, 50000, 300, 0);
	h_in(A, 300, 50001, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().snd_una, 50001);
	cr_assert_eq(h_info().max_snd_wnd, 1000);
	h_ev_drain();
}

/* C-80: < F. 300:300(0) ack 40000 is dropped whole, FIN included, and answered with
 * > . 50001:50001(0) ack 300; still FIN-WAIT-2. */
Test(rfc5961, c80_ack_too_old_drops_fin, .init = h_setup, .fini = h_teardown)
{
	goto_fin_wait_2_at_50001();
	h_in(F | A, 300, 40000, 0, 1000);
	h_expect(A, 50001, 300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_ACK_TOO_OLD], 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 0);
}

/* C-80: the bound is SND.UNA - MAX.SND.WND: ack 49000 (one below) is refused, data included;
 * ack 49001 is an acceptable old ACK and its FIN is processed. */
Test(rfc5961, c80_ack_too_old_boundary, .init = h_setup, .fini = h_teardown)
{
	goto_fin_wait_2_at_50001();
	h_in(F | P | A, 300, 49000, 10, 1000);
	h_expect(A, 50001, 300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(td_tcp_readable(H.c), 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_ACK_TOO_OLD], 1);

	h_adv_ms(1000);
	h_in(F | A, 300, 49001, 0, 1000);
	h_expect(A, 50001, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_ACK_TOO_OLD], 1);
}

/* ------------------------------------------------------------------------ */
/* C-81: rate limits                                                         */

/* C-81: < R 301:301(0) twice 100 ms apart: one challenge ACK, "reply rate-limited" +1; another
 * RST 600 ms later gets a challenge ACK again. */
Test(rfc5961, c81_challenge_ack_rate_limited_per_connection, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(R, 301, 0, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_adv_ms(100);
	h_in(R, 301, 0, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_stats()->replies_ratelimited, 1);
	cr_assert_eq(h_stats()->challenge_acks, 1);

	h_adv_ms(600);
	h_in(R, 301, 0, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->challenge_acks, 2);
	cr_assert_eq(h_stats()->replies_ratelimited, 1);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
}

/* C-81: the ACK answering an unacceptable sequence number is limited the same way. */
Test(rfc5961, c81_unacceptable_reply_rate_limited, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(A, 2000, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_adv_ms(100);
	h_in(A, 2000, 100, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_stats()->replies_ratelimited, 1);
	h_adv_ms(600);
	h_in(A, 2000, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->replies_ratelimited, 1);
}

/* C-81: TIME-WAIT replies are limited the same way. */
Test(rfc5961, c81_time_wait_reply_rate_limited, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	h_in(A, 302, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_adv_ms(100);
	h_in(A, 302, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_stats()->replies_ratelimited, 1);
	h_adv_ms(600);
	h_in(A, 302, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->replies_ratelimited, 1);
}

/* C-81: the 500 ms limit is per connection: a challenge ACK on one connection does not hold back
 * one on another at the same moment. */
Test(rfc5961, c81_rate_limit_is_per_connection, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t2 = h_tuple(8081);

	h_establish();
	struct td_tcp_conn *c2 = h_establish_ex(&t2, 1000, 1000, NULL, 0);

	h_in(R, 301, 0, 0, 1000);
	h_in_tuple(&t2, R, 301, 0, 0, 1000);
	assert_same_tuple(h_expect(A, 100, 300, 0), &H.t);
	assert_same_tuple(h_expect(A, 100, 300, 0), &t2);
	h_expect_none();
	cr_assert_eq(h_stats()->challenge_acks, 2);
	cr_assert_eq(h_stats()->replies_ratelimited, 0);
	td_tcp_release(H.st, c2);
}

/* C-81: per-lcore limit 2 and per-connection limit off: in-window RSTs to 5 connections within 1 s
 * give 2 challenge ACKs and 3 suppressed; a second later the budget is back. */
Test(rfc5961, c81_per_lcore_challenge_ack_limit, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t[5];
	struct td_tcp_conn *c[5];

	H.cfg.challenge_ack_limit = 2;
	H.cfg.invalid_ratelimit_ms = 0;
	h_restart(&H.cfg);
	for (unsigned i = 0; i < 5; i++) {
		t[i] = h_tuple((uint16_t)(8081 + i));
		c[i] = h_establish_ex(&t[i], 1000, 1000, NULL, 0);
	}
	for (unsigned i = 0; i < 5; i++)
		h_in_tuple(&t[i], R, 301, 0, 0, 1000);
	assert_same_tuple(h_expect(A, 100, 300, 0), &t[0]);
	assert_same_tuple(h_expect(A, 100, 300, 0), &t[1]);
	h_expect_none();
	cr_assert_eq(h_stats()->challenge_acks, 2);
	cr_assert_eq(h_stats()->replies_ratelimited, 3);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(td_tcp_lookup_state(H.st, &t[i]), TD_TCP_ESTABLISHED);

	h_adv_ms(1100);
	h_in_tuple(&t[4], R, 301, 0, 0, 1000);
	assert_same_tuple(h_expect(A, 100, 300, 0), &t[4]);
	h_expect_none();
	cr_assert_eq(h_stats()->challenge_acks, 3);
	for (unsigned i = 0; i < 5; i++)
		td_tcp_release(H.st, c[i]);
}

/* ------------------------------------------------------------------------ */
/* C-90 .. C-92: replies to segments for no connection                       */

/* C-90: no connection ever: < P. 300:310(10) ack 555 gets > R 555:555(0); nothing delivered. */
Test(rst_gen, c90_ack_to_no_connection_gets_rst, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t = stray_tuple();

	h_in_tuple(&t, P | A, 300, 555, 10, 1000);
	assert_same_tuple(h_expect_rst(555), &t);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_pools().conns_used, 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_NO_CONN], 1);
}

/* C-90: a connection already deleted (by the peer's RST): the same segment gets > R 555:555(0). */
Test(rst_gen, c90_ack_to_deleted_connection_gets_rst, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(R, 300, 0, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_expect_none();
	h_ev_drain();

	h_in(P | A, 300, 555, 10, 1000);
	assert_same_tuple(h_expect_rst(555), &H.t);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(td_tcp_readable(H.c), 0);
}

/* C-90: only a LISTEN on the port: the same segment gets the same RST, and no connection is
 * made. */
Test(rst_gen, c90_ack_to_listener_gets_rst, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t = stray_tuple();

	listen_on(t.lport);
	h_in_tuple(&t, P | A, 300, 555, 10, 1000);
	assert_same_tuple(h_expect_rst(555), &t);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_pools().conns_used, 0);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, t.lport), 0);
}

/* C-91: no connection, no ACK bit: < F 300:300(0) gets > R. 0:0(0) ack 301, < FP 300:310(10)
 * gets > R. 0:0(0) ack 311, < S 7:7(0) gets > R. 0:0(0) ack 8. */
Test(rst_gen, c91_no_ack_to_no_connection_gets_rst_ack, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t = stray_tuple();

	h_in_tuple(&t, F, 300, 0, 0, 1000);
	assert_same_tuple(h_expect(R | A, 0, 301, 0), &t);
	h_in_tuple(&t, F | P, 300, 0, 10, 1000);
	assert_same_tuple(h_expect(R | A, 0, 311, 0), &t);
	h_in_tuple(&t, S, 7, 0, 0, 1000);
	assert_same_tuple(h_expect(R | A, 0, 8, 0), &t);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_pools().conns_used, 0);
}

/* C-91: the same for a connection already deleted: < F 300:300(0) gets > R. 0:0(0) ack 301. */
Test(rst_gen, c91_no_ack_to_deleted_connection_gets_rst_ack, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(R, 300, 0, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_expect_none();

	h_in(F, 300, 0, 0, 1000);
	assert_same_tuple(h_expect(R | A, 0, 301, 0), &H.t);
	h_expect_none();
}

/* C-92: an unknown 4-tuple: < R 1:1(0) and < R. 1:1(0) ack 9 get nothing. */
Test(rst_gen, c92_no_rst_for_rst_unknown_tuple, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t = stray_tuple();

	h_in_tuple(&t, R, 1, 0, 0, 1000);
	h_in_tuple(&t, R | A, 1, 9, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_stats()->rst_sent, 0);
}

/* C-92: a LISTEN: the same RSTs get nothing and make no connection. */
Test(rst_gen, c92_no_rst_for_rst_listen, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t = stray_tuple();

	listen_on(t.lport);
	h_in_tuple(&t, R, 1, 0, 0, 1000);
	h_in_tuple(&t, R | A, 1, 9, 0, 1000);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_pools().conns_used, 0);
	cr_assert_eq(h_stats()->rst_sent, 0);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, t.lport), 0);
}

/* C-92: in @s, out-of-window < R 1:1(0) and < R. 1:1(0) ack 9 never get a RST. */
static void
no_rst_for_rst(enum td_tcp_state s)
{
	h_goto_state(s);
	h_in(R, 1, 0, 0, 1000);
	h_in(R | A, 1, 9, 0, 1000);
	assert_no_rst_out(td_tcp_state_name(s));
	cr_assert_eq(h_stats()->rst_sent, 0);
	cr_assert_eq(h_state(), s);
}

/* C-92 */
Test(rst_gen, c92_no_rst_for_rst_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	no_rst_for_rst(TD_TCP_FIN_WAIT_1);
}

/* C-92 */
Test(rst_gen, c92_no_rst_for_rst_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	no_rst_for_rst(TD_TCP_FIN_WAIT_2);
}

/* C-92 */
Test(rst_gen, c92_no_rst_for_rst_close_wait, .init = h_setup, .fini = h_teardown)
{
	no_rst_for_rst(TD_TCP_CLOSE_WAIT);
}

/* C-92 */
Test(rst_gen, c92_no_rst_for_rst_closing, .init = h_setup, .fini = h_teardown)
{
	no_rst_for_rst(TD_TCP_CLOSING);
}

/* C-92 */
Test(rst_gen, c92_no_rst_for_rst_last_ack, .init = h_setup, .fini = h_teardown)
{
	no_rst_for_rst(TD_TCP_LAST_ACK);
}

/* C-92 */
Test(rst_gen, c92_no_rst_for_rst_time_wait, .init = h_setup, .fini = h_teardown)
{
	no_rst_for_rst(TD_TCP_TIME_WAIT);
}

/* ------------------------------------------------------------------------ */
/* C-93, C-94: RSTs we send on our own initiative                            */

/* C-93, C-94: 100:600 unacknowledged, ABORT: exactly > R. 600:600(0) ack 300, nothing more. */
Test(rst_gen, c93_abort_rst_seq_is_snd_nxt, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_send(500), 500);
	h_expect(P | A, 100, 300, 500);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 600, 300, 0);
	h_expect_none();
	h_adv_ms(100000);
	h_expect_none();
	cr_assert_eq(h_stats()->rst_sent, 1);
}

/* C-93, C-94: RELEASE with 10 unread bytes and 100:600 unacknowledged: > R. 600:600(0) ack 310. */
Test(rst_gen, c93_release_unread_rst_seq_is_snd_nxt, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_send(500), 500);
	h_expect(P | A, 100, 300, 500);
	h_in(P | A, 300, 100, 10, 1000);
	h_adv_ms(50);
	h_expect(A, 600, 310, 0);
	h_release();
	h_expect(R | A, 600, 310, 0);
	h_expect_none();
	h_adv_ms(100000);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_RST_UNREAD], 1);
}

/* C-93, C-94: user timeout 5 s with rst_on_user_timeout, CLOSE, peer silent: the RST at 5 s is
 * > R. 101:101(0) ack 300 (after the FIN, SND.NXT is 101). */
Test(rst_gen, c93_user_timeout_rst_seq_is_snd_nxt, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rst_on_user_timeout = 1;
	h_restart(&H.cfg);
	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	h_close_expect_fin(300);
	h_adv_ms(5100);
	while (h_pending() > 0 && H.out[H.rd].flags == (F | A))
		H.rd++; /* the FIN's retransmissions */
	h_expect(R | A, 101, 300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_TIMED_OUT), 1);
}

/* C-94: the RST of an ABORT acknowledges RCV.NXT: after 10 bytes received and read,
 * > R. 100:100(0) ack 310, flags exactly RST and ACK. */
Test(rst_gen, c94_abort_rst_acks_rcv_nxt_established, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_adv_ms(50);
	h_expect(A, 100, 310, 0);
	cr_assert_eq(h_recv(100), 10);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	const struct h_out *o = h_expect(R | A, 100, 310, 0);
	assert_same_tuple(o, &H.t);
	h_expect_none();
}

/* C-94: ABORT in CLOSE-WAIT: > R. 100:100(0) ack 301. */
Test(rst_gen, c94_abort_rst_acks_rcv_nxt_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 100, 301, 0);
	h_expect_none();
}

/* C-94: ABORT in FIN-WAIT-2: > R. 101:101(0) ack 300. */
Test(rst_gen, c94_abort_rst_acks_rcv_nxt_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 101, 300, 0);
	h_expect_none();
}
