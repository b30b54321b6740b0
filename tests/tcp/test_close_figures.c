/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 3 (what the user is told, C-43..C-48) and section 10
 * (the RFC 793 closing figures, C-99 and C-100), replayed segment by segment
 * with the figures' exact SEQ, ACK and flags.
 *
 * Unless a test says otherwise the connection is the harness's default one:
 * ESTABLISHED, SND.UNA = SND.NXT = 100, RCV.NXT = 300, both windows 1000.
 */
#include "harness.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static const struct td_tcp_open_opts buffered = {.stream = TD_TCP_STREAM_BUFFER};

/* Snapshot of the end counters, and a check that exactly one of them moved,
 * by one, since the snapshot (C-48). */
struct ends {
	uint64_t n[TD_TCP_END_MAX];
};

static struct ends
ends_now(void)
{
	struct ends e;

	memcpy(e.n, h_stats()->ends, sizeof(e.n));
	return e;
}

static void
expect_only_end(const struct ends *before, enum td_tcp_end which)
{
	const uint64_t *now = h_stats()->ends;

	for (int i = 0; i < TD_TCP_END_MAX; i++) {
		uint64_t want = before->n[i] + (i == (int)which);
		cr_assert_eq(now[i], want, "ends[%s] = %llu, expected %llu (ending %s)",
			     td_tcp_end_name((enum td_tcp_end)i), (unsigned long long)now[i],
			     (unsigned long long)want, td_tcp_end_name(which));
	}
}

/* ------------------------------------------------------------------------ */
/* C-43: the user is told the peer closed                                    */

Test(told, c43_peer_fin_fires_one_peer_closed, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, 100, 301, 0);
	h_expect_ev_kind(TD_TCP_EV_PEER_CLOSED);
	h_expect_no_ev();
	/* A retransmitted FIN is re-acknowledged but not reported again. */
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, 100, 301, 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
}

Test(told, c43_readable_comes_before_peer_closed, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_expect_ev_kind(TD_TCP_EV_READABLE);
	h_expect_no_ev();
	h_in(F | A, 310, 100, 0, 1000);
	h_expect(A, 100, 311, 0);
	h_expect_ev_kind(TD_TCP_EV_PEER_CLOSED);
	h_expect_no_ev();
	cr_assert_eq(td_tcp_readable(H.c), 10);
}

/* C-43: data and FIN in one segment: "readable" still comes first. */
Test(told, c43_readable_before_peer_closed_same_segment, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 311, 0);
	h_expect_ev_kind(TD_TCP_EV_READABLE);
	h_expect_ev_kind(TD_TCP_EV_PEER_CLOSED);
	h_expect_no_ev();
}

/* ------------------------------------------------------------------------ */
/* C-44: pending RECEIVEs complete at the FIN                                */

/* C-44: RECEIVE never blocks in this API; a pending RECEIVE is the READABLE
 * and PEER_CLOSED events (SEMANTICS.md), after which two RECEIVEs complete at
 * once: the first with the data, the second with "connection closing". */
Test(told, c44_pending_receives_complete_at_fin, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[64];

	h_establish();
	cr_assert_eq(h_recv(64), -TD_EAGAIN); /* the RECEIVE is pending */
	h_in(F | P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 311, 0);
	h_expect_ev_kind(TD_TCP_EV_READABLE);
	h_expect_ev_kind(TD_TCP_EV_PEER_CLOSED);
	cr_assert_eq(h_recv_into(buf, sizeof(buf)), 10);
	h_assert_peer_bytes(buf, 10, 300);
	cr_assert_eq(h_recv_into(buf, sizeof(buf)), 0);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
}

/* ------------------------------------------------------------------------ */
/* C-45: how the connection ended                                            */

/* C-45, normal close as TCP A: CLOSED with no error on entering TIME-WAIT. */
Test(told, c45_reason_normal_close_active, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
	cr_assert_eq(h_ev_first(TD_TCP_EV_CLOSED)->err, 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET) + h_ev_count(TD_TCP_EV_TIMED_OUT), 0);
	cr_assert_eq(td_tcp_take_error(H.c), 0);
	/* The expiry of TIME-WAIT tells nothing more. */
	h_adv_ms(60 * 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
}

/* C-45, normal close as TCP B: CLOSED with no error on deletion in LAST-ACK. */
Test(told, c45_reason_normal_close_passive, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_LAST_ACK);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 0);
	h_in(A, 301, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
	cr_assert_eq(h_ev_first(TD_TCP_EV_CLOSED)->err, 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET) + h_ev_count(TD_TCP_EV_TIMED_OUT), 0);
	cr_assert_eq(td_tcp_take_error(H.c), 0);
}

Test(told, c45_reason_peer_reset, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(R, 300, 0, 0, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_expect_ev(TD_TCP_EV_RESET, TD_ECONNRESET);
	h_expect_no_ev();
	cr_assert_eq(td_tcp_take_error(H.c), TD_ECONNRESET);
}

/* C-45 (as C-56): user timeout 5 s, CLOSE, the peer silent. */
Test(told, c45_reason_user_timeout, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	uint64_t t0 = H.now_us;
	h_close_expect_fin(300);
	h_adv_ms(4999);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_TIMED_OUT), 0);
	h_drain(); /* the FIN retransmissions at 1 and 3 s */
	h_adv_ms(2);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_expect_none();
	cr_assert_eq(h_ev_count(TD_TCP_EV_TIMED_OUT), 1);
	const struct h_ev *e = h_ev_first(TD_TCP_EV_TIMED_OUT);
	cr_assert_eq(e->err, TD_ETIMEDOUT);
	cr_assert_leq(e->t_us - t0, 5001000);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED) + h_ev_count(TD_TCP_EV_RESET), 0);
	cr_assert_eq(td_tcp_take_error(H.c), TD_ETIMEDOUT);
}

Test(told, c45_reason_refused, .init = h_setup, .fini = h_teardown)
{
	cr_assert_eq(td_tcp_connect(H.st, &H.t, &buffered, &H.c), 0);
	const struct h_out *syn = h_next();
	cr_assert_not_null(syn);
	cr_assert(syn->flags == S && syn->seq == 99);
	h_in(R | A, 0, 100, 0, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_expect_ev(TD_TCP_EV_RESET, TD_ECONNREFUSED);
	h_expect_no_ev();
	cr_assert_eq(td_tcp_take_error(H.c), TD_ECONNREFUSED);
}

/* ------------------------------------------------------------------------ */
/* C-46: CLOSE completes when our FIN is acknowledged                        */

Test(told, c46_close_done_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_send_and_close(10, 300);
	h_in(A, 300, 110, 0, 1000);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 0, "CLOSE done before the FIN was ACKed");
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_in(A, 300, 111, 0, 1000);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 0);
}

Test(told, c46_close_done_closing_to_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSING);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 0);
	h_in(A, 301, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
	cr_assert_lt(h_ev_first(TD_TCP_EV_CLOSE_DONE), h_ev_first(TD_TCP_EV_CLOSED));
}

Test(told, c46_close_done_last_ack_deleted, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_LAST_ACK);
	h_in(A, 301, 100, 0, 1000); /* a duplicate ACK: not our FIN */
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 0);
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
	h_in(A, 301, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
	cr_assert_lt(h_ev_first(TD_TCP_EV_CLOSE_DONE), h_ev_first(TD_TCP_EV_CLOSED));
}

Test(told, c46_close_done_fin_wait_1_to_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
	cr_assert_lt(h_ev_first(TD_TCP_EV_CLOSE_DONE), h_ev_first(TD_TCP_EV_CLOSED));
}

/* ------------------------------------------------------------------------ */
/* C-47: one "excessive retransmissions" report                              */

Test(told, c47_retx_warning_once_at_third_retransmission, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	uint64_t t0 = H.now_us;
	h_close_expect_fin(300);
	/* FIN at t = 0, 1, 3, 7 s. */
	static const uint64_t at_ms[] = {1000, 3000, 7000};
	for (unsigned k = 0; k < 3; k++) {
		h_at_ms((t0 - 1000000) / 1000 + at_ms[k] - 1);
		h_expect_none();
		cr_assert_eq(h_ev_count(TD_TCP_EV_RETX_WARNING), 0, "warning before t = %llu ms",
			     (unsigned long long)at_ms[k]);
		h_adv_ms(1);
		const struct h_out *o = h_expect(F | A, 100, 300, 0);
		cr_assert(o->rexmit);
		cr_assert_eq(o->t_us - t0, at_ms[k] * 1000);
	}
	cr_assert_eq(h_ev_count(TD_TCP_EV_RETX_WARNING), 1);
	const struct h_ev *e = h_ev_first(TD_TCP_EV_RETX_WARNING);
	cr_assert_eq(e->t_us - t0, 7000000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1, "the report must come before any abort");
	/* Once only: the next retransmissions raise no more. */
	h_adv_ms(24 * 1000);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RETX_WARNING), 1);
}

/* ------------------------------------------------------------------------ */
/* C-48: every ending counted once, by reason                                */

Test(told, c48_count_normal_close, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_goto_state(TD_TCP_LAST_ACK);
	h_in(A, 301, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_release();
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_NORMAL);
}

Test(told, c48_count_peer_reset, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_establish();
	h_in(R, 300, 0, 0, 0);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_release();
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_PEER_RESET);
}

Test(told, c48_count_local_abort, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_establish();
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 100, 300, 0);
	h_release();
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_LOCAL_ABORT);
}

Test(told, c48_count_rst_unread, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_release();
	h_drain();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_RST_UNREAD);
}

Test(told, c48_count_user_timeout, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_establish();
	td_tcp_set_user_timeout(H.c, 5000);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_adv_ms(5001);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_release();
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_USER_TIMEOUT);
}

Test(told, c48_count_fin_wait_2_timeout, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_orphan_fin_wait_2();
	h_adv_ms(60 * 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_FIN_WAIT2_TIMEOUT);
}

/* C-48, TIME-WAIT expiry: the whole life of a connection that goes through
 * TIME-WAIT is one ending, counted when the entry expires. */
Test(told, c48_count_time_wait_expiry, .init = h_setup, .fini = h_teardown)
{
	struct ends b = ends_now();

	h_goto_state(TD_TCP_TIME_WAIT);
	h_release();
	h_adv_ms(60 * 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_adv_ms(100 * 1000);
	expect_only_end(&b, TD_TCP_END_TW_EXPIRED);
}

Test(told, c48_count_time_wait_recycled, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t[3] = {h_tuple(8081), h_tuple(8082), h_tuple(8083)};

	H.cfg.tw_max = 2;
	h_restart(&H.cfg);
	struct ends b = ends_now();
	struct ends mid = b;
	for (int i = 0; i < 3; i++) {
		h_tw_tuple(&t[i]);
		if (i == 1)
			mid = ends_now();
		h_adv_ms(1000);
	}
	/* The third entry recycled the first, the one nearest to expiry. */
	cr_assert_eq(td_tcp_lookup_state(H.st, &t[0]), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t[1]), TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t[2]), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_RECYCLED], b.n[TD_TCP_END_TW_RECYCLED] + 1);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_EXPIRED], b.n[TD_TCP_END_TW_EXPIRED]);
	/* The third connection's entry into TIME-WAIT moved only "recycled". */
	expect_only_end(&mid, TD_TCP_END_TW_RECYCLED);
	h_in_tuple(&t[0], A, 301, 101, 0, 1000);
	h_expect_rst(101);
	/* The two others expire normally: exactly two more endings. */
	h_adv_ms(100 * 1000);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_EXPIRED], b.n[TD_TCP_END_TW_EXPIRED] + 2);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_RECYCLED], b.n[TD_TCP_END_TW_RECYCLED] + 1);
}

/* ------------------------------------------------------------------------ */
/* C-99: RFC 793 Figure 13 (RFC 9293 Figure 12), normal close                */

/* C-99, teardown as TCP A. */
Test(figures, c99_normal_close_as_tcp_a, .init = h_setup, .fini = h_teardown)
{
	/* 1. ESTABLISHED */
	h_establish();
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);

	/* 2. (Close) FIN-WAIT-1 --> <SEQ=100><ACK=300><CTL=FIN,ACK> */
	h_close_expect_fin(300);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);

	/* 3. FIN-WAIT-2 <-- <SEQ=300><ACK=101><CTL=ACK> */
	h_in(A, 300, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);

	/* 4. TIME-WAIT <-- <SEQ=300><ACK=101><CTL=FIN,ACK> */
	h_in(F | A, 300, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);

	/* 5. TIME-WAIT --> <SEQ=101><ACK=301><CTL=ACK> */
	h_expect(A, 101, 301, 0);
	h_expect_none();

	/* 6. (2 MSL) CLOSED */
	h_adv_ms(60 * 1000 - 1);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_adv_ms(1);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	h_expect_none();
}

/* C-99, teardown as TCP B (SND.NXT 300, RCV.NXT 100): a passive open with our
 * ISS 299 and the peer's 99. */
Test(figures, c99_normal_close_as_tcp_b, .init = h_setup, .fini = h_teardown)
{
	h_passive_open(299, 99, h_mss_1000, sizeof(h_mss_1000));
	h_in(A, 100, 300, 0, 1000);
	h_expect_none();

	/* 1. ESTABLISHED */
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	h_ev_drain();

	/* 2. CLOSE-WAIT <-- <SEQ=100><ACK=300><CTL=FIN,ACK>; we ACK it. */
	h_in(F | A, 100, 300, 0, 1000);
	h_expect(A, 300, 101, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	h_expect_ev_kind(TD_TCP_EV_PEER_CLOSED);

	/* 3. that ACK is the figure's <SEQ=300><ACK=101><CTL=ACK>, checked above. */

	/* 4. (Close) LAST-ACK --> <SEQ=300><ACK=101><CTL=FIN,ACK> */
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect(F | A, 300, 101, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);

	/* 5. CLOSED <-- <SEQ=101><ACK=301><CTL=ACK> */
	h_in(A, 101, 301, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	h_expect_ev_kind(TD_TCP_EV_CLOSE_DONE);
	h_expect_ev(TD_TCP_EV_CLOSED, 0);
	/* No TIME-WAIT for TCP B. */
	struct td_tcp_tw_info tw;
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), -TD_ENOTCONN);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), 0);
	h_release();
	h_assert_pools_full();
}

/* ------------------------------------------------------------------------ */
/* C-100: RFC 793 Figure 14 (RFC 9293 Figure 13), simultaneous close         */

Test(figures, c100_simultaneous_close_through_closing, .init = h_setup, .fini = h_teardown)
{
	/* 1. ESTABLISHED */
	h_establish();

	/* 2. (Close) FIN-WAIT-1 --> <SEQ=100><ACK=300><CTL=FIN,ACK> */
	h_close_expect_fin(300);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);

	/*    <-- <SEQ=300><ACK=100><CTL=FIN,ACK> (crossing ours) */
	h_in(F | A, 300, 100, 0, 1000);

	/* 3. CLOSING --> <SEQ=101><ACK=301><CTL=ACK> */
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
	struct td_tcp_info i = h_info();
	cr_assert(i.rtx_armed, "the FIN timer must still run in CLOSING");

	/*    <-- <SEQ=301><ACK=101><CTL=ACK> */
	h_in(A, 301, 101, 0, 1000);
	h_expect_none();

	/* 4. TIME-WAIT (2 MSL) CLOSED */
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	struct td_tcp_tw_info tw;
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert_eq(tw.snd_nxt, 101);
	cr_assert_eq(tw.rcv_nxt, 301);
	cr_assert_eq(tw.expire_us, H.now_us + 60 * 1000000ull);
	h_adv_ms(60 * 1000 - 1);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_expect_none(); /* no FIN retransmission: the FIN timer stopped */
	h_adv_ms(1);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_expect_none();
}
