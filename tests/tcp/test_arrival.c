/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 2: segment arrival in the closing states (RFC 9293
 * 3.10.7.4, in its order), rows C-20 to C-42.
 *
 * The default connection is the harness's: ESTABLISHED, SND.NXT 100, RCV.NXT
 * 300, both windows 1000. Where a row needs a zero receive window the
 * 1000-byte receive buffer is filled without reading, which moves RCV.NXT to
 * 1300: the hint's 300 then reads 1300 and its 301 reads 1301.
 */
#include "harness.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/*
 * Fill the 1000-byte receive buffer of the default connection without reading
 * it: RCV.NXT becomes 1300 and RCV.WND 0. The in-order data may be ACKed
 * through the delayed-ACK timer, so time moves on by 50 ms.
 */
static void
fill_rcvbuf(void)
{
	h_in(P | A, 300, 100, 1000, 1000);
	h_adv_ms(50);
	const struct h_out *o = h_expect(A, 100, 1300, 0);
	cr_assert_eq(o->wnd, 0, "setup: window %u advertised with a full buffer", o->wnd);
	h_expect_none();
	cr_assert_eq(td_tcp_readable(H.c), 1000);
}

/*
 * The default connection with a full receive buffer (fill_rcvbuf()), then
 * CLOSE and the peer's ACK of our FIN: FIN-WAIT-2 with RCV.NXT 1300 and
 * RCV.WND 0. The events raised are consumed.
 */
static void
fin_wait_2_zero_window(void)
{
	h_establish();
	fill_rcvbuf();
	cr_assert_eq(h_close_expect_fin(1300)->wnd, 0);
	h_in(A, 1300, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	h_ev_drain();
}

/* Advance 1 ms at a time until something is transmitted, at most @max_ms. */
static void
adv_until_output(uint64_t max_ms)
{
	for (uint64_t i = 0; i < max_ms && h_pending() == 0; i++)
		h_adv_ms(1);
	cr_assert_gt(h_pending(), 0, "nothing transmitted within %llu ms",
		     (unsigned long long)max_ms);
}

/* Sum of every drop counter. */
static uint64_t
total_drops(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < TD_TCP_DROP_MAX; i++)
		n += h_stats()->drops[i];
	return n;
}

/* Read everything queued into @buf; return the byte count (RECEIVE until it stops giving data). */
static uint32_t
read_all(uint8_t *buf, uint32_t cap)
{
	uint32_t got = 0;
	int n;

	while (got < cap && (n = h_recv_into(buf + got, cap - got)) > 0)
		got += (uint32_t)n;
	return got;
}

/* ------------------------------------------------------------------------ */
/* C-20 .. C-24: the acceptability test (RFC 9293 3.4, table 5)              */

/* C-20: FIN-WAIT-2 with RCV.WND 0: a bare segment at RCV.NXT passes silently, one at RCV.NXT + 1
 * gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with window 0. */
Test(arrival, c20_zero_window_bare_segment_only_at_rcv_nxt, .init = h_setup, .fini = h_teardown)
{
	fin_wait_2_zero_window();

	/* < . 300:300(0) ack 101 */
	h_in(A, 1300, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 0);

	/* < . 301:301(0) ack 101 */
	h_in(A, 1301, 101, 0, 1000);
	const struct h_out *o = h_expect(A, 101, 1300, 0);
	cr_assert_eq(o->wnd, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 1);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 1300);
}

/* C-21: window 1000 at RCV.NXT 300: SEQ 300 and 1299 pass silently, 299 and 1300 get an ACK. */
Test(arrival, c21_bare_segment_window_edges, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(A, 300, 100, 0, 1000);
	h_in(A, 1299, 100, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 0);

	h_in(A, 299, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	h_adv_ms(1000); /* outside the invalid-reply rate limit (C-81) */
	h_in(A, 1300, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 2);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	cr_assert_eq(h_info().rcv_nxt, 300);
}

/* C-21, repeated with RCV.NXT = 0xFFFFFF00: the window [0xFFFFFF00, 0x2E8) wraps past zero. */
Test(arrival, c21_bare_segment_window_edges_wrapped, .init = h_setup, .fini = h_teardown)
{
	const uint32_t rn = 0xFFFFFF00u;

	h_establish_irs(rn - 1);
	cr_assert_eq(h_info().rcv_nxt, rn);
	cr_assert_eq(h_info().rcv_wnd, 1000);
	h_in(A, rn, 100, 0, 1000);
	h_in(A, rn + 999, 100, 0, 1000); /* 0x2E7 */
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 0);

	h_in(A, rn - 1, 100, 0, 1000);
	h_expect(A, 100, rn, 0);
	h_expect_none();
	h_adv_ms(1000);
	h_in(A, rn + 1000, 100, 0, 1000); /* 0x2E8 */
	h_expect(A, 100, rn, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 2);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	cr_assert_eq(h_info().rcv_nxt, rn);
}

/* C-22: FIN-WAIT-1 with RCV.WND 0: < P. 300:310(10) ack 101 loses its data and gets an ACK with
 * window 0, but its ACK of our FIN still moves the connection to FIN-WAIT-2. */
Test(arrival, c22_zero_window_data_refused_ack_processed, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	fill_rcvbuf();
	h_close_expect_fin(1300);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	unsigned readable0 = h_ev_count(TD_TCP_EV_READABLE);

	h_in(P | A, 1300, 101, 10, 1000);
	const struct h_out *o = h_expect(A, 101, 1300, 0);
	cr_assert_eq(o->wnd, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 1300);
	cr_assert_eq(h_info().snd_una, 101);
	cr_assert_eq(td_tcp_readable(H.c), 1000, "refused data was queued");
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), readable0);
}

/* C-22: with RCV.WND 0 the RST field is still processed: a RST at RCV.NXT resets. */
Test(arrival, c22_zero_window_rst_processed, .init = h_setup, .fini = h_teardown)
{
	fin_wait_2_zero_window();

	h_in(R, 1300, 0, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET), 1);
}

/* C-23: < P. 290:310(20) ack 100 (first byte before the window, last inside) is accepted: bytes
 * 300..309 are delivered and ACKed. */
Test(arrival, c23_segment_last_byte_in_window_accepted, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[64];

	h_establish();
	h_in(P | A, 290, 100, 20, 1000);
	h_adv_ms(50); /* the ACK may wait for the delayed-ACK timer */
	h_expect(A, 100, 310, 0);
	h_expect_none();
	cr_assert_eq(h_info().rcv_nxt, 310);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 0);
	cr_assert_eq(read_all(buf, sizeof(buf)), 10);
	h_assert_peer_bytes(buf, 10, 300);
}

/* C-23: < P. 1299:1400(101) ack 100 (first byte in the window, the rest beyond it) is accepted:
 * byte 1299 is kept, as the ACK after the hole is filled shows. */
Test(arrival, c23_segment_first_byte_in_window_accepted, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[1000];

	h_establish();
	h_in(P | A, 1299, 100, 101, 1000);
	h_expect(A, 100, 300, 0); /* out of order: ACKed at once */
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 0);
	cr_assert_eq(h_info().rcv_nxt, 300);

	h_in(P | A, 300, 100, 999, 1000);
	h_adv_ms(50);
	h_expect(A, 100, 1300, 0);
	h_expect_none();
	cr_assert_eq(h_info().rcv_nxt, 1300);
	cr_assert_eq(read_all(buf, sizeof(buf)), 1000);
	h_assert_peer_bytes(buf, 1000, 300);
}

/* C-23: < F. 1300:1300(0) ack 100 (just past the window) is unacceptable: ACK, and the FIN is
 * not kept (filling the window later leaves the connection ESTABLISHED). */
Test(arrival, c23_fin_beyond_window_refused, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | A, 1300, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 1);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	cr_assert_eq(h_info().rcv_nxt, 300);

	h_in(P | A, 300, 100, 1000, 1000);
	h_adv_ms(50);
	h_expect(A, 100, 1300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 0);
}

/* C-23: < P. 280:300(20) ack 100 (entirely before the window) is unacceptable: ACK, nothing
 * delivered. */
Test(arrival, c23_old_segment_refused, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(P | A, 280, 100, 20, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 1);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(td_tcp_readable(H.c), 0);
	cr_assert_eq(h_recv(100), -TD_EAGAIN);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
}

/* C-24: FIN-WAIT-2 with RCV.WND 0: a bare FIN at RCV.NXT is accepted, ACKed with window 0, and
 * the connection enters TIME-WAIT. */
Test(arrival, c24_zero_window_bare_fin_accepted, .init = h_setup, .fini = h_teardown)
{
	fin_wait_2_zero_window();

	h_in(F | A, 1300, 101, 0, 1000);
	const struct h_out *o = h_expect(A, 101, 1301, 0);
	cr_assert_eq(o->wnd, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
}

/* C-24: with RCV.WND 0 a FIN that carries data, < FP. 300:310(10) ack 101, is still refused. */
Test(arrival, c24_zero_window_fin_with_data_refused, .init = h_setup, .fini = h_teardown)
{
	fin_wait_2_zero_window();

	h_in(F | P | A, 1300, 101, 10, 1000);
	const struct h_out *o = h_expect(A, 101, 1300, 0);
	cr_assert_eq(o->wnd, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 1300);
	cr_assert_eq(td_tcp_readable(H.c), 1000);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 0);
}

/* ------------------------------------------------------------------------ */
/* C-25 .. C-27: unacceptable and overlapping segments                       */

/* C-25: FIN-WAIT-2: < P. 2000:2010(10) ack 101 is dropped and answered with
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
Test(arrival, c25_unacceptable_gets_ack_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(P | A, 2000, 101, 10, 1000);
	h_expect(A, 101, 300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_SEQ_OUT_OF_WINDOW], 1);
	cr_assert_eq(td_tcp_readable(H.c), 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
}

/* C-25: in @s, where the peer's FIN was received, the peer's FIN again, < F. 300:300(0) ack 100,
 * is re-acknowledged with > . @snd_nxt:@snd_nxt(0) ack 301: no state change, no second
 * "peer closed". */
static void
retransmitted_fin_reacked(enum td_tcp_state s, uint32_t snd_nxt)
{
	h_goto_state(s);
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, snd_nxt, 301, 0);
	h_expect_none();
	h_assert_state(s);
	cr_assert_eq(h_info().rcv_nxt, 301);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1, "a second \"peer closed\"");
}

/* C-25: LAST-ACK: > . 101:101(0) ack 301. */
Test(arrival, c25_retransmitted_fin_reacked_last_ack, .init = h_setup, .fini = h_teardown)
{
	retransmitted_fin_reacked(TD_TCP_LAST_ACK, 101);
}

/* C-25: CLOSE-WAIT: > . 100:100(0) ack 301. */
Test(arrival, c25_retransmitted_fin_reacked_close_wait, .init = h_setup, .fini = h_teardown)
{
	retransmitted_fin_reacked(TD_TCP_CLOSE_WAIT, 100);
}

/* C-25: CLOSING: a retransmitted FIN that does not ACK our FIN, > . 101:101(0) ack 301. */
Test(arrival, c25_retransmitted_fin_reacked_closing, .init = h_setup, .fini = h_teardown)
{
	retransmitted_fin_reacked(TD_TCP_CLOSING, 101);
}

/* C-26: CLOSING: a retransmitted FIN that also ACKs our FIN, < F. 300:300(0) ack 101, gets its
 * ACK processed first: TIME-WAIT, and > . 101:101(0) ack 301. */
Test(arrival, c26_retransmitted_fin_with_ack_completes_closing, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSING);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
}

/* C-26: LAST-ACK: < F. 300:300(0) ack 101 deletes the connection, with nothing sent. */
Test(arrival, c26_retransmitted_fin_with_ack_completes_last_ack, .init = h_setup,
     .fini = h_teardown)
{
	h_goto_state(TD_TCP_LAST_ACK);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
}

/* C-27: after 300:310, < FP. 305:320(15) ack 100 delivers only 310..319, once; RCV.NXT 321, one
 * ACK of 321, CLOSE-WAIT. */
Test(arrival, c27_straddling_segment_trimmed, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[64];

	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_adv_ms(50);
	h_expect(A, 100, 310, 0);
	h_expect_none();

	h_in(F | P | A, 305, 100, 15, 1000);
	h_expect(A, 100, 321, 0);
	h_expect_none();
	cr_assert_eq(h_info().rcv_nxt, 321);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	cr_assert_eq(td_tcp_readable(H.c), 20);
	cr_assert_eq(read_all(buf, sizeof(buf)), 20);
	h_assert_peer_bytes(buf, 20, 300);
	cr_assert_eq(h_recv(100), 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
}

/* ------------------------------------------------------------------------ */
/* C-28, C-29: RST and missing ACK                                           */

/*
 * C-28: a RST at RCV.NXT in @s deletes the connection: nothing sent, the user
 * told "reset", pending calls end with the error, no retransmission after
 * +100 s, pools full once the handle is released.
 */
static void
rst_at_rcv_nxt_deletes(enum td_tcp_state s)
{
	uint32_t rn = h_rcv_nxt_in(s);

	h_goto_state(s);
	if (s == TD_TCP_ESTABLISHED || s == TD_TCP_CLOSE_WAIT) {
		/* data on the retransmission queue, to be flushed */
		cr_assert_eq(h_send(10), 10);
		h_expect(P | A, 100, rn, 10);
	}
	h_in(R, rn, 0, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED, "%s: RST at RCV.NXT left %s", td_tcp_state_name(s),
		     td_tcp_state_name(h_state()));
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET), 1, "%s: user not told reset",
		     td_tcp_state_name(s));
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED) + h_ev_count(TD_TCP_EV_TIMED_OUT), 0);
	if (s == TD_TCP_ESTABLISHED || s == TD_TCP_FIN_WAIT_1 || s == TD_TCP_FIN_WAIT_2)
		cr_assert_eq(h_recv(100), -TD_ECONNRESET);
	if (s == TD_TCP_CLOSE_WAIT)
		cr_assert_eq(h_send(10), -TD_EPIPE);
	h_adv_ms(100000);
	h_expect_none();
	h_release();
	h_assert_pools_full();
}

/* C-28 */
Test(arrival, c28_rst_at_rcv_nxt_resets_established, .init = h_setup, .fini = h_teardown)
{
	rst_at_rcv_nxt_deletes(TD_TCP_ESTABLISHED);
}

/* C-28 */
Test(arrival, c28_rst_at_rcv_nxt_resets_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	rst_at_rcv_nxt_deletes(TD_TCP_FIN_WAIT_1);
}

/* C-28 */
Test(arrival, c28_rst_at_rcv_nxt_resets_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	rst_at_rcv_nxt_deletes(TD_TCP_FIN_WAIT_2);
}

/* C-28 */
Test(arrival, c28_rst_at_rcv_nxt_resets_close_wait, .init = h_setup, .fini = h_teardown)
{
	rst_at_rcv_nxt_deletes(TD_TCP_CLOSE_WAIT);
}

/* C-28 */
Test(arrival, c28_rst_at_rcv_nxt_resets_closing, .init = h_setup, .fini = h_teardown)
{
	rst_at_rcv_nxt_deletes(TD_TCP_CLOSING);
}

/* C-28 */
Test(arrival, c28_rst_at_rcv_nxt_resets_last_ack, .init = h_setup, .fini = h_teardown)
{
	rst_at_rcv_nxt_deletes(TD_TCP_LAST_ACK);
}

/* C-28: SYN-RECEIVED (from a passive OPEN) is synchronized too: < R 300:300(0) deletes the
 * embryonic connection, with nothing sent and no SYN-ACK retransmitted afterwards. */
Test(arrival, c28_rst_at_rcv_nxt_resets_syn_received, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_SYN_RECEIVED);
	h_in(R, 300, 0, 0, 1000);
	h_expect_none();
	cr_assert_neq(h_state(), TD_TCP_SYN_RECEIVED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	h_adv_ms(100000);
	h_expect_none();
	h_release();
	cr_assert_eq(h_pools().conns_used, 0);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, H.t.lport), 0);
}

/* C-29: FIN-WAIT-2: < F 300:300(0) (no ACK bit) is dropped: nothing sent, still FIN-WAIT-2,
 * RCV.NXT still 300. */
Test(arrival, c29_fin_without_ack_dropped, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F, 300, 0, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_NO_ACK], 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 0);
}

/* C-29: FIN-WAIT-2: data without the ACK bit, < P 300:310(10), is dropped too. */
Test(arrival, c29_data_without_ack_dropped, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(P, 300, 0, 10, 1000);
	h_adv_ms(100);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(td_tcp_readable(H.c), 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_NO_ACK], 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
}

/* ------------------------------------------------------------------------ */
/* C-30 .. C-34: the ACK field in the closing states                         */

/* SEND 500 and CLOSE on the default connection: 100:600 and the FIN at 600 go out. */
static void
send_500_and_close(uint32_t ack)
{
	h_send_and_close(500, ack);
	h_expect_none();
	cr_assert_eq(h_info().snd_nxt, 601);
}

/* With 400:600 unacknowledged, the next segment sent (within 3 s) is its retransmission. */
static void
expect_rexmit_400_600(void)
{
	adv_until_output(3000);
	const struct h_out *o = h_next();
	cr_assert(o->seq == 400 && o->len == 200 && o->ack == 301 && o->rexmit,
		  "expected a retransmission of 400:600 ack 301, got flags 0x%x %u:%u(%u) ack %u",
		  o->flags, o->seq, o->seq + o->len, o->len, o->ack);
}

/* C-30: LAST-ACK with 100:600 and the FIN outstanding: < . 301:301(0) ack 400 frees 300 bytes
 * (the next retransmission starts at 400) and the connection stays in LAST-ACK. */
Test(arrival, c30_partial_ack_frees_data_last_ack, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);
	send_500_and_close(301);
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);

	h_in(A, 301, 400, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
	cr_assert_eq(h_info().snd_una, 400);
	expect_rexmit_400_600();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
}

/* C-30: FIN-WAIT-2: a duplicate ACK, < F. 300:300(0) ack 100, is ignored but its FIN is
 * processed: TIME-WAIT. */
Test(arrival, c30_old_ack_fin_still_processed_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
}

/* C-30: FIN-WAIT-1: ack 400 of 100:600 advances SND.UNA and keeps FIN-WAIT-1; then data with an
 * old ACK (ack 100) is still delivered and ACKed. */
Test(arrival, c30_partial_ack_then_old_ack_data_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[16];

	h_establish();
	send_500_and_close(300);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);

	h_in(A, 300, 400, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(h_info().snd_una, 400);

	h_in(P | A, 300, 100, 10, 1000);
	h_adv_ms(50);
	h_expect(A, 601, 310, 0);
	cr_assert_eq(h_info().snd_una, 400);
	cr_assert_eq(h_info().rcv_nxt, 310);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(read_all(buf, sizeof(buf)), 10);
	h_assert_peer_bytes(buf, 10, 300);
}

/* C-30: CLOSE-WAIT: ack 400 of 100:600 advances SND.UNA and completes that part of the SEND
 * (WRITABLE); an older ACK afterwards is ignored. */
Test(arrival, c30_partial_ack_then_old_ack_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_send(500), 500);
	h_expect(P | A, 100, 301, 500);
	unsigned writable0 = h_ev_count(TD_TCP_EV_WRITABLE);

	h_in(A, 301, 400, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_info().snd_una, 400);
	cr_assert_gt(h_ev_count(TD_TCP_EV_WRITABLE), writable0);

	h_in(A, 301, 100, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_info().snd_una, 400);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	expect_rexmit_400_600();
}

/* C-30: CLOSING with 100:600 and the FIN outstanding: ack 400 advances SND.UNA, still CLOSING. */
Test(arrival, c30_partial_ack_closing, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	send_500_and_close(300);
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, 601, 301, 0);
	cr_assert_eq(h_state(), TD_TCP_CLOSING);

	h_in(A, 301, 400, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
	cr_assert_eq(h_info().snd_una, 400);
	h_in(A, 301, 100, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_info().snd_una, 400);
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
}

/* C-31: peer window 0, SEND 10, CLOSE (SND.NXT still 100): < . 300:300(0) ack 111 gets
 * > . 100:100(0) ack 300 and is dropped; still FIN-WAIT-1. */
Test(arrival, c31_ack_of_unsent_fin_gets_ack, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 0, 1000, NULL, 0);
	cr_assert_eq(h_send(10), 10);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(h_info().snd_nxt, 100);

	h_in(A, 300, 111, 0, 0);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(h_info().snd_una, 100);
	cr_assert_eq(h_info().snd_nxt, 100);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_ACK_UNSENT], 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 0);
}

/* C-32: SEND 10, CLOSE, then < . 300:300(0) ack 110 (data only): still FIN-WAIT-1, and the FIN
 * is resent one RTO later. */
Test(arrival, c32_data_ack_keeps_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_send_and_close(10, 300);
	h_expect_none();

	h_in(A, 300, 110, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	struct td_tcp_info i = h_info();
	cr_assert(i.rtx_armed, "retransmission timer stopped with the FIN unacknowledged");
	cr_assert_eq(i.snd_una, 110);
	uint64_t t_ack = H.now_us;

	adv_until_output(3000);
	const struct h_out *o = h_expect(F | A, 110, 300, 0);
	cr_assert(o->rexmit);
	uint64_t dt = o->t_us - t_ack;
	cr_assert(dt + 1000 >= i.rto_us && dt <= i.rto_us + 1000,
		  "FIN resent %llu us after the ACK, RTO is %u us", (unsigned long long)dt,
		  i.rto_us);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
}

/* C-32: SEND 10, CLOSE, then < . 300:300(0) ack 111: FIN-WAIT-2, the retransmission timer is
 * stopped. */
Test(arrival, c32_fin_ack_enters_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_send_and_close(10, 300);

	h_in(A, 300, 111, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_not(h_info().rtx_armed);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	h_adv_ms(10000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
}

/* The TIME-WAIT entry expires 2 MSL (60 s) from now, to 1 ms either way. */
static void
expect_2msl_from_now(void)
{
	uint64_t e = h_tw_expiry(), due = H.now_us + 60000000ull;

	cr_assert(e + 1000 >= due && e <= due + 1000, "TIME-WAIT expires at %llu, expected %llu",
		  (unsigned long long)e, (unsigned long long)due);
}

/* C-33: CLOSING: < . 301:301(0) ack 100 stays in CLOSING; < . 301:301(0) ack 101 gives
 * TIME-WAIT with the 2 MSL timer running and the FIN timer off. */
Test(arrival, c33_closing_fin_ack_enters_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSING);
	h_in(A, 301, 100, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
	cr_assert(h_info().rtx_armed);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 0);

	h_in(A, 301, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	expect_2msl_from_now();
	h_adv_ms(10000); /* the FIN would have been resent at +1 s and +3 s */
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
}

/* C-34: C-07, then < . 301:301(0) ack 111: the connection is gone at once, no TIME-WAIT; the same
 * segment again gets > R 111:111(0). */
Test(arrival, c34_last_ack_fin_ack_deletes, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_CLOSE_WAIT);
	h_send_and_close(10, 301);
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);

	h_in(A, 301, 111, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), -TD_ENOTCONN);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);

	h_in(A, 301, 111, 0, 1000);
	h_expect_rst(111);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-35: text after the peer's FIN                                           */

/* C-35: in @s (RCV.NXT 301): < P. 301:311(10) ack 100 is ignored: nothing sent, RECEIVE says
 * "connection closing", "data after FIN" +1, no state change. */
static void
data_after_fin_ignored(enum td_tcp_state s)
{
	h_goto_state(s);
	h_in(P | A, 301, 100, 10, 1000);
	h_adv_ms(100);
	h_expect_none();
	cr_assert_eq(h_info().rcv_nxt, 301);
	cr_assert_eq(h_recv(100), 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_DATA_AFTER_FIN], 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
	h_assert_state(s);
}

/* C-35: CLOSE-WAIT. */
Test(arrival, c35_data_after_fin_ignored_close_wait, .init = h_setup, .fini = h_teardown)
{
	data_after_fin_ignored(TD_TCP_CLOSE_WAIT);
}

/* C-35: CLOSING: data after the FIN (old ACK, so the state holds) is ignored and counted. */
Test(arrival, c35_data_after_fin_ignored_closing, .init = h_setup, .fini = h_teardown)
{
	data_after_fin_ignored(TD_TCP_CLOSING);
}

/* C-35: LAST-ACK: data after the FIN is ignored and counted. */
Test(arrival, c35_data_after_fin_ignored_last_ack, .init = h_setup, .fini = h_teardown)
{
	data_after_fin_ignored(TD_TCP_LAST_ACK);
}

/* C-35: TIME-WAIT: data after the FIN is never delivered and RCV.NXT stays 301; the segment gets
 * the TIME-WAIT reply of C-68 and its drop is counted (under whichever reason). */
Test(arrival, c35_data_after_fin_ignored_time_wait, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_TIME_WAIT);
	uint64_t drops0 = total_drops();
	h_in(P | A, 301, 101, 10, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert_eq(tw.rcv_nxt, 301);
	cr_assert_eq(h_recv(100), 0);
	cr_assert_eq(total_drops(), drops0 + 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
}

/* ------------------------------------------------------------------------ */
/* C-36 .. C-42: the FIN bit                                                 */

/* C-36: ESTABLISHED: < F. 300:300(0) ack 100 gets > . 100:100(0) ack 301 at once, CLOSE-WAIT. */
Test(arrival, c36_fin_in_established_enters_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, 100, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_info().rcv_nxt, 301);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
	h_adv_ms(100);
	h_expect_none();
}

/* C-36: SYN-RECEIVED after > S. 0:0(0) ack 1: < F. 1:1(0) ack 1 (ACKs our SYN) gets
 * > . 1:1(0) ack 2, CLOSE-WAIT. */
Test(arrival, c36_fin_in_syn_received_enters_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_passive_open(0, 0, NULL, 0);

	h_in(F | A, 1, 1, 0, 1000);
	h_expect(A, 1, 2, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_info().rcv_nxt, 2);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, H.t.lport), 0);
}

/* C-37: CLOSE, > F. 100:100(0) ack 300, < F. 300:300(0) ack 100: > . 101:101(0) ack 301, CLOSING,
 * and the FIN timer still runs (the FIN is resent one RTO after it was sent). */
Test(arrival, c37_fin_in_fin_wait_1_enters_closing, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
	cr_assert_eq(h_info().rcv_nxt, 301);
	cr_assert(h_info().rtx_armed, "FIN timer stopped in CLOSING");
	h_adv_ms(990);
	h_expect_none();
	h_adv_ms(20);
	cr_assert(h_expect(F | A, 100, 301, 0)->rexmit);
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
}

/* C-38: CLOSE, < F. 300:300(0) ack 101: > . 101:101(0) ack 301, TIME-WAIT with the 2 MSL timer,
 * no FIN retransmission after +10 s. */
Test(arrival, c38_fin_ack_in_fin_wait_1_enters_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	expect_2msl_from_now();
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSE_DONE), 1);
	h_adv_ms(10000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
}

/* C-39: CLOSE, < . 300:300(0) ack 101, < F. 300:300(0) ack 101: > . 101:101(0) ack 301,
 * TIME-WAIT. */
Test(arrival, c39_fin_in_fin_wait_2_enters_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	expect_2msl_from_now();
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 1);
}

/* C-39: an orphan's FIN-WAIT-2 timeout (60 s) is stopped by the FIN: entering TIME-WAIT 30 s
 * into FIN-WAIT-2, the entry lives its full 60 s, to 90 s. */
Test(arrival, c39_fin_stops_fin_wait_2_timeout, .init = h_setup, .fini = h_teardown)
{
	h_orphan_fin_wait_2();
	h_adv_ms(30000);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);

	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_adv_ms(59990); /* 89.99 s after FIN-WAIT-2 began */
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT, "TIME-WAIT ended early: %s",
		     td_tcp_state_name(h_state()));
	cr_assert_eq(h_stats()->ends[TD_TCP_END_FIN_WAIT2_TIMEOUT], 0);
	h_adv_ms(20);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_EXPIRED], 1);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_FIN_WAIT2_TIMEOUT], 0);
	h_expect_none();
}

/* C-40: < F. 300:310(10) ack 100 (no PSH): one > . 100:100(0) ack 311 at once; "readable" then
 * "peer closed"; RECEIVE gives the 10 bytes, then "connection closing". */
Test(arrival, c40_fin_with_data_handled_after_data, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[64];

	h_establish();
	h_in(F | A, 300, 100, 10, 1000);
	h_expect(A, 100, 311, 0);
	h_expect_none();
	h_expect_ev(TD_TCP_EV_READABLE, 0);
	h_expect_ev(TD_TCP_EV_PEER_CLOSED, 0);
	h_expect_no_ev();
	cr_assert_eq(h_info().rcv_nxt, 311);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	h_adv_ms(100);
	h_expect_none();
	cr_assert_eq(read_all(buf, sizeof(buf)), 10);
	h_assert_peer_bytes(buf, 10, 300);
	cr_assert_eq(h_recv(100), 0);
	cr_assert_eq(h_recv(100), 0);
}

/* C-41: < F. 310:310(0) ack 100 (hole before it): > . 100:100(0) ack 300 at once, still
 * ESTABLISHED, no "peer closed". */
Test(arrival, c41_out_of_order_fin_not_acked, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | A, 310, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 0);
	cr_assert_eq(h_recv(100), -TD_EAGAIN);
	h_adv_ms(100);
	h_expect_none();
}

/* C-42: after C-41, < P. 300:310(10) ack 100 fills the hole: > . 100:100(0) ack 311, CLOSE-WAIT;
 * RECEIVE gives 10 bytes, then "connection closing". */
Test(arrival, c42_out_of_order_fin_kept, .init = h_setup, .fini = h_teardown)
{
	uint8_t buf[64];

	h_establish();
	h_in(F | A, 310, 100, 0, 1000);
	h_expect(A, 100, 300, 0);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);

	h_in(P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 311, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_info().rcv_nxt, 311);
	cr_assert_eq(h_ev_count(TD_TCP_EV_PEER_CLOSED), 1);
	cr_assert_eq(read_all(buf, sizeof(buf)), 10);
	h_assert_peer_bytes(buf, 10, 300);
	cr_assert_eq(h_recv(100), 0);
}

/* The out-of-order side pool: a connection holds an entry only while it has
 * out-of-order data. With one entry taken, another connection's out-of-order
 * data is dropped and counted (OOO_FULL), and the ACK still goes out; filling
 * the hole returns the entry. */
Test(arrival, ooo_pool_exhausted_drops_and_acks, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t2 = h_tuple(8081);
	struct td_tcp_pool_info pi;
	uint8_t buf[64];

	H.cfg.ooo_pool = 1;
	h_restart(&H.cfg);
	struct td_tcp_conn *c2 = h_establish_ex(&t2, 1000, 1000, NULL, 0);
	h_establish();
	h_drain();

	h_in(P | A, 310, 100, 10, 1000);
	h_expect(A, 100, 300, 0);
	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.ooo_max, 1);
	cr_assert_eq(pi.ooo_used, 1);

	uint64_t full = h_stats()->drops[TD_TCP_DROP_OOO_FULL];
	h_in_tuple(&t2, P | A, 310, 100, 10, 1000);
	h_expect(A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_OOO_FULL], full + 1);

	/* The hole is filled: everything is in order and the entry goes back. */
	h_in(P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 320, 0);
	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.ooo_used, 0);
	cr_assert_eq(read_all(buf, sizeof(buf)), 20);
	h_assert_peer_bytes(buf, 20, 300);

	/* Now the second connection can hold its out-of-order data. */
	h_in_tuple(&t2, P | A, 310, 100, 10, 1000);
	h_expect(A, 100, 300, 0);
	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.ooo_used, 1);
	h_in_tuple(&t2, P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 320, 0);
	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.ooo_used, 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_OOO_FULL], full + 1);

	/* An entry held when the connection ends goes back too. */
	h_in_tuple(&t2, P | A, 330, 100, 10, 1000);
	h_expect(A, 100, 320, 0);
	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.ooo_used, 1);
	td_tcp_abort(H.st, c2);
	td_tcp_release(H.st, c2);
	td_tcp_pool_info(H.st, &pi);
	cr_assert_eq(pi.ooo_used, 0);
	h_drain();
	h_ev_drain();
}
