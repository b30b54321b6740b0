/* SPDX-License-Identifier: BSD-3-Clause */
/* Regressions found by bench/td_bench_close. */
#include "harness.h"

static void
close_on_peer_closed(struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	(void)err;
	if (ev == TD_TCP_EV_PEER_CLOSED)
		cr_assert_eq(td_tcp_shutdown(H.st, c), 0);
}

/* C-07: a CLOSE made from the PEER_CLOSED callback is a CLOSE in CLOSE-WAIT.
 * The state changes before the event, so LAST-ACK follows (not CLOSING and
 * TIME-WAIT), and our FIN carries the ACK of the peer's FIN: one segment. */
Test(regress, close_from_peer_closed_callback_is_last_ack, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	H.on_event = close_on_peer_closed;
	h_in(F | A, 300, 100, 0, 1000);
	h_expect(F | A, 100, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
	h_in(A, 301, 101, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->state_enter[TD_TCP_CLOSING], 0);
	cr_assert_eq(h_stats()->state_enter[TD_TCP_TIME_WAIT], 0);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_NORMAL], 1);
	H.on_event = NULL;
}

/* After an active open, the window used to accept segments is the one the
 * ACK of the SYN-ACK offered, wherever the peer's ISN lies (it was 0 when
 * RCV.NXT fell in [2^31 - 65536, 2^31), so all data was refused). */
Test(regress, window_after_active_open_with_isn_near_2_31, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};
	const uint32_t irs = 0x7fff8000u;
	uint8_t mss[4] = {2, 4, 1000 >> 8, 1000 & 0xff};

	cr_assert_eq(td_tcp_connect(H.st, &H.t, &oo, &H.c), 0);
	h_expect(S, 99, 0, 0);
	struct td_seg s = h_seg(S | A, irs, 100, 0, 1000);
	s.opts = mss;
	s.optlen = sizeof(mss);
	td_tcp_input(H.st, &s);
	h_expect(A, 100, irs + 1, 0);
	cr_assert_eq(h_info().rcv_wnd, 1000);
	h_in(P | A, irs + 1, 100, 10, 1000);
	cr_assert_eq(h_recv(100), 10);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_RCV_WINDOW_FULL], 0);
	h_in(A, irs + 1 + 1000, 100, 0, 1000); /* just past the window */
	h_expect(A, 100, irs + 11, 0);         /* refused, answered */
}

/* MSG_PEEK: the bytes stay queued and the window does not move; the next
 * RECEIVE gets the same bytes. */
Test(regress, peek_leaves_data_queued, .init = h_setup, .fini = h_teardown)
{
	uint8_t a[10], b[10];

	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	cr_assert_eq(td_tcp_peek(H.st, H.c, a, sizeof(a)), 10);
	cr_assert_eq(td_tcp_readable(H.c), 10);
	cr_assert_eq(h_recv_into(b, sizeof(b)), 10);
	cr_assert_arr_eq(a, b, sizeof(a));
	cr_assert_eq(a[0], (uint8_t)300);
	cr_assert_eq(td_tcp_peek(H.st, H.c, a, sizeof(a)), -TD_EAGAIN);
	h_in(F | A, 310, 100, 0, 1000);
	cr_assert_eq(td_tcp_peek(H.st, H.c, a, sizeof(a)), 0);
	h_drain();
}

/* C-56 with PACKETDRILL.md 7: the user timeout runs from the first
 * transmission of the oldest unacknowledged data or FIN, not from the last
 * ACK: data at 0, FIN at 100 ms, the data ACKed at 150 ms, U = 2 s: the
 * abort comes at 2100 ms. */
Test(regress, user_timeout_from_oldest_unacked, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	td_tcp_set_user_timeout(H.c, 2000);
	cr_assert_eq(h_send(10), 10);
	h_expect(P | A, 100, 300, 10);
	h_at_ms(100);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect(F | A, 110, 300, 0);
	h_at_ms(150);
	h_in(A, 300, 110, 0, 1000);
	h_at_ms(2099);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_drain(); /* the FIN's retransmissions */
	h_at_ms(2100);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_USER_TIMEOUT], 1);
	cr_assert_eq(td_tcp_take_error(H.c), TD_ETIMEDOUT);
	h_drain();
}
