/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 1 (the CLOSE, SHUTDOWN, RELEASE and ABORT calls,
 * C-01..C-19) and section 9 (half-close, C-95..C-98).
 *
 * Unless a test says otherwise the connection is the harness's default one:
 * ESTABLISHED, SND.UNA = SND.NXT = 100, RCV.NXT = 300, both windows 1000.
 * Passive opens listen on port 40000 (the harness tuple's local port) and
 * take our ISS 0, as in the hints (`< S 0:0(0)`, `> S. 0:0(0) ack 1`).
 */
#include "harness.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static const struct td_tcp_open_opts buffered = {.stream = TD_TCP_STREAM_BUFFER};

/* h_expect_data_and_fin(), the data being stream bytes @off.. (h_send()). */
static void
expect_data_and_fin(uint32_t seq, uint32_t ack, uint32_t len, uint32_t off)
{
	h_assert_sent_bytes(h_expect_data_and_fin(seq, ack, len), off);
}

/* Receive @len bytes and check they are the peer's bytes from sequence @seq
 * (h_seg() writes byte i of a segment at SEQ s as (uint8_t)(s + i)). */
static void
expect_recv_bytes(uint32_t seq, uint32_t len)
{
	static uint8_t buf[4096];

	cr_assert_leq(len, sizeof(buf));
	memset(buf, 0xee, len);
	int n = h_recv_into(buf, len);
	cr_assert_eq(n, (int)len, "RECEIVE returned %d, expected %u bytes", n, len);
	h_assert_peer_bytes(buf, len, seq);
}

/* RECEIVE gives the peer's 10 bytes 300..309, then "connection closing" (0), twice. */
static void
expect_recv_10_then_closing(void)
{
	expect_recv_bytes(300, 10);
	cr_assert_eq(h_recv(10), 0);
	cr_assert_eq(h_recv(10), 0);
}

/* ------------------------------------------------------------------------ */
/* C-01: CLOSE in LISTEN                                                     */

/* C-01: there is no RECEIVE on a listener in this API (td_tcp_recv() takes a
 * connection), so "a pending RECEIVE ends closing" cannot be checked; what is
 * checked: nothing sent, the listener gone, and its port refusing SYNs. */
Test(calls, c01_close_in_listen_deletes_silently, .init = h_setup, .fini = h_teardown)
{
	cr_assert_eq(td_tcp_listen(H.st, 4, NULL, 40000, &buffered), 0);
	cr_assert_eq(h_pools().listeners_used, 1);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), 0);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_pools().listeners_used, 0);
	h_assert_pools_full();
	/* A second CLOSE finds nothing. */
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), -TD_ENOTCONN);
	/* The port no longer listens: the SYN gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
	h_in(S, 0, 0, 0, 1000);
	h_expect(R | A, 0, 1, 0);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_assert_pools_full();
}

/* ------------------------------------------------------------------------ */
/* C-02: CLOSE in SYN-SENT                                                   */

Test(calls, c02_close_in_syn_sent_deletes_silently, .init = h_setup, .fini = h_teardown)
{
	H.isn = 0;
	cr_assert_eq(td_tcp_connect(H.st, &H.t, &buffered, &H.c), 0);
	const struct h_out *syn = h_next();
	cr_assert_not_null(syn, "no SYN");
	cr_assert(syn->flags == S && syn->seq == 0 && syn->len == 0, "expected S 0:0(0)");
	cr_assert_eq(h_state(), TD_TCP_SYN_SENT);

	/* A SEND in SYN-SENT is queued (RFC 9293 3.10.2) or refused for now
	 * (EAGAIN, a non-blocking socket); either way it is pending. */
	int n = h_send(10);
	cr_assert(n == 10 || n == -TD_EAGAIN, "SEND in SYN-SENT returned %d", n);

	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	/* The pending SEND and RECEIVE end "connection closing". */
	h_expect_ev(TD_TCP_EV_CLOSED, TD_EPIPE);
	h_expect_no_ev();
	cr_assert_eq(h_send(10), -TD_EPIPE);
	/* End of stream, or the error whose text is "connection closing". */
	n = h_recv(10);
	cr_assert(n == 0 || n == -TD_EPIPE, "RECEIVE after CLOSE in SYN-SENT returned %d", n);
	h_expect_none();

	/* No retransmitted SYN, nothing at all later. */
	h_adv_ms(100 * 1000);
	h_expect_none();
	h_release();
	h_assert_pools_full();

	/* The 4-tuple is free: the peer's SYN-ACK gets <SEQ=SEG.ACK><CTL=RST>. */
	h_in(S | A, 0, 1, 0, 1000);
	h_expect_rst(1);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-03: CLOSE in SYN-RECEIVED                                               */

Test(calls, c03_close_in_syn_received_sends_fin, .init = h_setup, .fini = h_teardown)
{
	h_passive_open(0, 0, NULL, 0);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect(F | A, 1, 1, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), 0);
}

Test(calls, c03_close_in_syn_received_with_data_waits_for_handshake, .init = h_setup,
     .fini = h_teardown)
{
	h_passive_open(0, 0, NULL, 0);
	cr_assert_eq(h_send(10), 10);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	/* Nothing before the handshake completes. */
	h_expect_none();
	h_in(A, 1, 1, 0, 1000);
	expect_data_and_fin(1, 1, 10, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), 0);
}

/* ------------------------------------------------------------------------ */
/* C-04: CLOSE in ESTABLISHED                                                */

Test(calls, c04_close_in_established_fin_after_last_byte, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 0, 1000, NULL, 0); /* the peer offers win 0 */
	cr_assert_eq(h_send(10), 10);
	h_expect_none();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	/* FIN-WAIT-1 at once, although neither data nor FIN can go out yet. */
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_expect_none();
	cr_assert_eq(h_info().snd_nxt, 100);

	/* The window opens: the data 100:110, then the FIN at 110. */
	h_in(A, 300, 100, 0, 1000);
	expect_data_and_fin(100, 300, 10, 0);
	h_expect_none();
	cr_assert_eq(h_info().snd_nxt, 111);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
}

/* ------------------------------------------------------------------------ */
/* C-05: CLOSE implies PUSH                                                  */

Test(calls, c05_close_implies_push, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 10000, 1000, NULL, 0);
	cr_assert_eq(h_send(2500), 2500);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);

	const struct h_out *o = h_expect(A, 100, 300, 1000);
	h_assert_sent_bytes(o, 0);
	o = h_expect(A, 1100, 300, 1000);
	h_assert_sent_bytes(o, 1000);
	/* The last 500 bytes are not held back, and carry PSH. */
	expect_data_and_fin(2100, 300, 500, 2000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
}

/* ------------------------------------------------------------------------ */
/* C-06: the FIN rides on the last data segment, never held by Nagle         */

/* C-06: "SEND 500 and CLOSE before it is sent": the stack is corked around
 * the two calls (SEMANTICS.md), so both leave as one FP. segment. */
Test(calls, c06_fin_rides_on_last_data_segment, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 10000, 1000, NULL, 0);
	td_tcp_cork(H.st);
	cr_assert_eq(h_send(500), 500);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect_none();
	td_tcp_uncork(H.st);
	const struct h_out *o = h_expect(F | P | A, 100, 300, 500);
	h_assert_sent_bytes(o, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
}

/* C-06, another way to hold the data: a zero window that the peer then opens
 * to 10000; data and FIN leave as one FP. segment. */
Test(calls, c06_fin_rides_on_data_released_by_window, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 0, 1000, NULL, 0);
	cr_assert_eq(h_send(500), 500);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect_none();
	h_in(A, 300, 100, 0, 10000);
	const struct h_out *o = h_expect(F | P | A, 100, 300, 500);
	h_assert_sent_bytes(o, 0);
	h_expect_none();
}

Test(calls, c06_fin_not_delayed_by_nagle, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 10000, 1000, NULL, 0); /* Nagle on: nodelay off */
	cr_assert_eq(h_send(1000), 1000);
	h_expect(P | A, 100, 300, 1000);
	/* 100:1100 unacknowledged: Nagle holds a partial segment... */
	cr_assert_eq(h_send(10), 10);
	h_expect_none();
	/* ...but not once CLOSE has queued the FIN behind it. */
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	const struct h_out *o = h_expect(F | P | A, 1100, 300, 10);
	h_assert_sent_bytes(o, 1000);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-07: CLOSE in CLOSE-WAIT                                                 */

Test(calls, c07_close_in_close_wait_sends_fin, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);
	h_assert_sent_bytes(h_send_and_close(10, 301), 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_LAST_ACK);
}

/* ------------------------------------------------------------------------ */
/* C-08: CLOSE after CLOSE                                                   */

/* A second CLOSE: "connection closing", nothing sent, nothing changed. */
static void
expect_second_close_noop(void)
{
	struct td_tcp_info b = h_info();
	struct td_tcp_pool_info pb = h_pools();

	cr_assert_eq(td_tcp_shutdown(H.st, H.c), -TD_EPIPE);
	h_expect_none();
	h_expect_no_ev();

	struct td_tcp_info a = h_info();
	struct td_tcp_pool_info pa = h_pools();
	cr_assert_eq(a.state, b.state);
	cr_assert_eq(a.snd_nxt, b.snd_nxt);
	cr_assert_eq(a.snd_una, b.snd_una);
	cr_assert_eq(a.fin_sent, b.fin_sent);
	cr_assert_eq(a.rtx_armed, b.rtx_armed);
	cr_assert_eq(a.rtx_due_us, b.rtx_due_us);
	cr_assert_eq(a.persist_armed, b.persist_armed);
	cr_assert_eq(a.fw2_armed, b.fw2_armed);
	cr_assert_eq(a.delack_armed, b.delack_armed);
	cr_assert_eq(pa.timers_armed, pb.timers_armed);
	cr_assert_eq(pa.bufs_used, pb.bufs_used);
}

/* C-08 in @s, with our FIN unacknowledged: the second CLOSE changes nothing, and only the first
 * FIN, > F. 100:100(0) ack @ack, is retransmitted, once, one RTO later. */
static void
close_again_fin_resent_once(enum td_tcp_state s, uint32_t ack)
{
	h_goto_state(s);
	expect_second_close_noop();
	cr_assert_eq(h_info().snd_nxt, 101);
	h_adv_ms(999);
	h_expect_none();
	h_adv_ms(2);
	h_expect(F | A, 100, ack, 0);
	h_expect_none();
}

Test(calls, c08_close_again_in_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	close_again_fin_resent_once(TD_TCP_FIN_WAIT_1, 300);
}

Test(calls, c08_close_again_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	expect_second_close_noop();
	cr_assert_eq(h_info().snd_nxt, 101);
	h_adv_ms(10 * 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
}

Test(calls, c08_close_again_in_closing, .init = h_setup, .fini = h_teardown)
{
	close_again_fin_resent_once(TD_TCP_CLOSING, 301);
}

Test(calls, c08_close_again_in_last_ack, .init = h_setup, .fini = h_teardown)
{
	close_again_fin_resent_once(TD_TCP_LAST_ACK, 301);
}

Test(calls, c08_close_again_in_time_wait, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info b, a;

	h_goto_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &b), 0);
	struct td_tcp_pool_info pb = h_pools();
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), -TD_EPIPE);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &a), 0);
	cr_assert_eq(a.snd_nxt, b.snd_nxt);
	cr_assert_eq(a.snd_nxt, 101);
	cr_assert_eq(a.rcv_nxt, b.rcv_nxt);
	cr_assert_eq(a.expire_us, b.expire_us);
	cr_assert_eq(h_pools().timers_armed, pb.timers_armed);
}

/* ------------------------------------------------------------------------ */
/* C-09: SEND after CLOSE                                                    */

/* C-09 in @s (our FIN sent): SEND is refused, queues nothing and sends nothing, then or later. */
static void
send_after_close_refused(enum td_tcp_state s)
{
	h_goto_state(s);
	struct td_tcp_info b = h_info();
	struct td_tcp_pool_info pb = h_pools();

	cr_assert_eq(h_send(10), -TD_EPIPE);
	h_expect_none();
	struct td_tcp_info a = h_info();
	cr_assert_eq(a.snd_nxt, b.snd_nxt);
	cr_assert_eq(a.snd_end, b.snd_end, "SEND queued data after CLOSE");
	cr_assert_eq(h_pools().bufs_used, pb.bufs_used);
	/* Nor does anything come out later because of it. */
	h_adv_ms(999);
	h_expect_none();
	cr_assert_eq(h_info().snd_nxt, 101);
}

Test(calls, c09_send_after_close_in_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	send_after_close_refused(TD_TCP_FIN_WAIT_1);
}

Test(calls, c09_send_after_close_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	send_after_close_refused(TD_TCP_FIN_WAIT_2);
}

Test(calls, c09_send_after_close_in_closing, .init = h_setup, .fini = h_teardown)
{
	send_after_close_refused(TD_TCP_CLOSING);
}

Test(calls, c09_send_after_close_in_last_ack, .init = h_setup, .fini = h_teardown)
{
	send_after_close_refused(TD_TCP_LAST_ACK);
}

Test(calls, c09_send_after_close_in_time_wait, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_TIME_WAIT);
	struct td_tcp_pool_info pb = h_pools();
	cr_assert_eq(h_send(10), -TD_EPIPE);
	h_expect_none();
	cr_assert_eq(h_pools().bufs_used, pb.bufs_used);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert_eq(tw.snd_nxt, 101);
	h_adv_ms(999);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-10: SEND in CLOSE-WAIT                                                  */

Test(calls, c10_send_in_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);

	cr_assert_eq(h_send(10), 10);
	const struct h_out *o = h_expect(P | A, 100, 301, 10);
	h_assert_sent_bytes(o, 0);
	cr_assert(!o->rexmit);
	h_adv_ms(999);
	h_expect_none();
	h_adv_ms(2);
	o = h_expect(P | A, 100, 301, 10);
	h_assert_sent_bytes(o, 0);
	cr_assert(o->rexmit);

	unsigned writable = h_ev_count(TD_TCP_EV_WRITABLE);
	h_in(A, 301, 110, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_info().snd_una, 110);
	cr_assert_eq(h_ev_count(TD_TCP_EV_WRITABLE), writable + 1, "the SEND was not completed");
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	/* Acknowledged: never retransmitted again. */
	h_adv_ms(100 * 1000);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-11: RECEIVE goes on after CLOSE                                         */

/* C-11: in FIN-WAIT-1, < P. 300:310(10) ack @ack (@s after it): the pending RECEIVE completes
 * with the data, which is ACKed within the delayed-ACK time. */
static void
receive_after_close(uint32_t ack, enum td_tcp_state s)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	uint64_t t0 = H.now_us;
	h_in(P | A, 300, ack, 10, 1000);
	cr_assert_eq(h_state(), s);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 1, "the pending RECEIVE was not completed");
	expect_recv_bytes(300, 10);
	h_adv_ms(40);
	const struct h_out *o = h_expect(A, 101, 310, 0);
	cr_assert_leq(o->t_us - t0, 40000, "ACK after %llu us", (unsigned long long)(o->t_us - t0));
	h_expect_none();
}

/* C-11 (FIN-WAIT-2): the data comes with the ACK of our FIN. */
Test(calls, c11_receive_after_close_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	receive_after_close(101, TD_TCP_FIN_WAIT_2);
}

/* C-11 (FIN-WAIT-1): the data comes before the ACK of our FIN. */
Test(calls, c11_receive_after_close_in_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	receive_after_close(100, TD_TCP_FIN_WAIT_1);
}

/* ------------------------------------------------------------------------ */
/* C-12: RECEIVE after the peer's FIN                                        */

Test(calls, c12_receive_after_peer_fin, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_in(F | A, 310, 100, 0, 1000);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	expect_recv_10_then_closing();
	cr_assert_eq(h_recv(10), 0);
}

/* ------------------------------------------------------------------------ */
/* C-13: RECEIVE returns queued data in CLOSING, LAST-ACK and TIME-WAIT      */

Test(calls, c13_receive_queued_data_in_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | P | A, 300, 101, 10, 1000);
	h_expect(A, 101, 311, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_readable(H.c), 10);
	expect_recv_10_then_closing();
}

Test(calls, c13_receive_queued_data_in_closing, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_in(F | P | A, 300, 100, 10, 1000);
	h_expect(A, 101, 311, 0);
	cr_assert_eq(h_state(), TD_TCP_CLOSING);
	expect_recv_10_then_closing();
}

Test(calls, c13_receive_queued_data_in_last_ack, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 311, 0);
	h_close_expect_fin(311);
	cr_assert_eq(h_state(), TD_TCP_LAST_ACK);
	expect_recv_10_then_closing();
}

/* ------------------------------------------------------------------------ */
/* C-14: RELEASE with unread data sends a RST                                */

/* RELEASE with unread data: > R. @seq:@seq(0) ack @ack and nothing else, "RST, unread data" +1,
 * the connection deleted and every pool full. */
static void
release_unread_sends_rst(uint32_t seq, uint32_t ack)
{
	uint64_t before = h_stats()->ends[TD_TCP_END_RST_UNREAD];

	h_release();
	h_expect(R | A, seq, ack, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_RST_UNREAD], before + 1);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_assert_pools_full();
}

Test(calls, c14_release_with_unread_data_sends_rst, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(P | A, 300, 100, 10, 1000);
	h_adv_ms(40);
	h_expect(A, 100, 310, 0); /* ACKed, not read */
	release_unread_sends_rst(100, 310);
	/* No FIN, ever. */
	h_adv_ms(100 * 1000);
	h_expect_none();

	h_in(A, 310, 100, 0, 1000);
	h_expect_rst(100);
	h_expect_none();
}

Test(calls, c14_release_with_unread_data_in_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_in(F | P | A, 300, 100, 10, 1000);
	h_expect(A, 100, 311, 0);
	cr_assert_eq(h_state(), TD_TCP_CLOSE_WAIT);
	release_unread_sends_rst(100, 311);
	h_adv_ms(100 * 1000);
	h_expect_none();
}

Test(calls, c14_release_with_unread_data_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(P | A, 300, 101, 10, 1000);
	h_adv_ms(40);
	h_drain();
	release_unread_sends_rst(101, 310);
}

/* C-14, "but TIME-WAIT": unread data there does not turn RELEASE into a RST. */
Test(calls, c14_release_with_unread_data_in_time_wait_no_rst, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | P | A, 300, 101, 10, 1000);
	h_expect(A, 101, 311, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	uint64_t before = h_stats()->ends[TD_TCP_END_RST_UNREAD];

	h_release();
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_RST_UNREAD], before);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	/* The entry still answers a retransmitted FIN. */
	h_in(F | P | A, 300, 101, 10, 1000);
	h_expect(A, 101, 311, 0);
}

/* ------------------------------------------------------------------------ */
/* C-15: new data for an orphan in FIN-WAIT-1/2                              */

/* The orphan gets < P. 300:310(10) ack @ack (= SND.UNA): > R @ack:@ack(0) and nothing else, "RST,
 * data after close" +1, the connection deleted and every pool full. */
static void
data_after_release_resets(uint32_t ack)
{
	uint64_t before = h_stats()->ends[TD_TCP_END_RST_DATA_AFTER_CLOSE];

	h_in(P | A, 300, ack, 10, 1000);
	h_expect_rst(ack);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_RST_DATA_AFTER_CLOSE], before + 1);
	h_assert_pools_full();
}

Test(calls, c15_data_after_release_in_fin_wait_2_resets, .init = h_setup, .fini = h_teardown)
{
	h_orphan_fin_wait_2();
	data_after_release_resets(101);
	h_expect_no_ev();
}

Test(calls, c15_data_after_release_in_fin_wait_1_resets, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_release();
	h_expect(F | A, 100, 300, 0);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	data_after_release_resets(100);
	/* No FIN retransmission either: the connection is gone. */
	h_adv_ms(10 * 1000);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-16: RELEASE leaves an orphan that finishes the close                    */

Test(calls, c16_release_leaves_orphan_that_finishes, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_send(10), 10);
	h_release();
	unsigned nev = H.nev;
	expect_data_and_fin(100, 300, 10, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);

	/* The orphan retransmits data and FIN one RTO later. */
	h_adv_ms(999);
	h_expect_none();
	h_adv_ms(2);
	const struct h_out *o = h_expect(F | P | A, 100, 300, 10);
	h_assert_sent_bytes(o, 0);
	h_expect_none();

	h_in(A, 300, 111, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	h_in(F | A, 300, 111, 0, 1000);
	h_expect(A, 111, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(H.nev, nev, "an orphan raised an event");
}

/* ------------------------------------------------------------------------ */
/* C-17: ABORT where no RST is due                                           */

/* C-17 (LISTEN): the API's ABORT of a listener is td_tcp_unlisten() (there is
 * no listener handle to pass to td_tcp_abort()); it sends nothing. */
Test(calls, c17_abort_in_listen, .init = h_setup, .fini = h_teardown)
{
	cr_assert_eq(td_tcp_listen(H.st, 4, NULL, 40000, &buffered), 0);
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), 0);
	h_expect_none();
	cr_assert_eq(h_pools().listeners_used, 0);
	h_assert_pools_full();
}

/* ABORT with no RST due: nothing sent, the user told "reset", the connection deleted. */
static void
abort_sends_nothing(void)
{
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect_none();
	h_expect_ev(TD_TCP_EV_RESET, TD_ECONNRESET);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
}

Test(calls, c17_abort_in_syn_sent, .init = h_setup, .fini = h_teardown)
{
	H.isn = 0;
	cr_assert_eq(td_tcp_connect(H.st, &H.t, &buffered, &H.c), 0);
	h_drain(); /* the SYN */
	int n = h_send(10);
	cr_assert(n == 10 || n == -TD_EAGAIN, "SEND in SYN-SENT returned %d", n);

	abort_sends_nothing(); /* the pending SEND: "connection reset" */
	h_expect_no_ev();
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	h_adv_ms(100 * 1000);
	h_expect_none(); /* no SYN retransmission */
	h_release();
	h_assert_pools_full();
}

Test(calls, c17_abort_in_closing, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSING);
	abort_sends_nothing();
	h_adv_ms(100 * 1000);
	h_expect_none(); /* no FIN retransmission */
	h_release();
	h_assert_pools_full();
}

Test(calls, c17_abort_in_last_ack, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_LAST_ACK);
	abort_sends_nothing();
	h_release();
	h_assert_pools_full();
	/* The ACK of our FIN now finds no connection. */
	h_in(A, 301, 101, 0, 1000);
	h_expect_rst(101);
	h_expect_none();
}

Test(calls, c17_abort_in_time_wait_deletes_entry, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	uint64_t killed = h_stats()->ends[TD_TCP_END_TW_KILLED];
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), -TD_ENOTCONN);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_KILLED], killed + 1);
	h_release();
	h_assert_pools_full();
	/* The peer's retransmitted FIN finds nothing now. */
	h_in(F | A, 300, 101, 0, 1000);
	h_expect_rst(101);
}

/* ------------------------------------------------------------------------ */
/* C-18: ABORT where a RST is due                                            */

/* After the RST: nothing more, the user told "reset", pools full. */
static void
expect_aborted_quietly(void)
{
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET), 1);
	cr_assert_eq(h_ev_count(TD_TCP_EV_CLOSED), 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_TIMED_OUT), 0);
	h_adv_ms(100 * 1000);
	h_expect_none();
	h_release();
	h_assert_pools_full();
}

Test(calls, c18_abort_in_established, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(h_send(500), 500);
	h_expect(P | A, 100, 300, 500);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 600, 300, 0);
	h_expect_ev(TD_TCP_EV_RESET, TD_ECONNRESET);
	expect_aborted_quietly();
}

Test(calls, c18_abort_in_syn_received, .init = h_setup, .fini = h_teardown)
{
	h_passive_open(0, 0, NULL, 0);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 1, 1, 0);
	expect_aborted_quietly();
	cr_assert_eq(td_tcp_unlisten(H.st, 4, NULL, 40000), 0);
}

Test(calls, c18_abort_in_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	h_assert_sent_bytes(h_send_and_close(500, 300), 0);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
	h_ev_drain();
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 601, 300, 0); /* SND.NXT is after our FIN */
	expect_aborted_quietly();
}

Test(calls, c18_abort_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 101, 300, 0);
	expect_aborted_quietly();
}

Test(calls, c18_abort_in_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_send(500), 500);
	h_expect(P | A, 100, 301, 500);
	h_ev_drain();
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	h_expect(R | A, 600, 301, 0);
	expect_aborted_quietly();
}

/* ------------------------------------------------------------------------ */
/* C-19: SO_LINGER {1, 0}                                                    */

Test(calls, c19_release_with_linger0_is_abort, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 0, 1000, NULL, 0); /* win 0: the data stays queued */
	cr_assert_eq(h_send(100), 100);
	h_expect_none();
	uint64_t before = h_stats()->ends[TD_TCP_END_LOCAL_ABORT];

	td_tcp_set_linger0(H.c, true);
	h_release();
	h_expect(R | A, 100, 300, 0);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_LOCAL_ABORT], before + 1);
	cr_assert_eq(h_state(), TD_TCP_CLOSED);
	h_assert_pools_full();
	h_adv_ms(100 * 1000);
	h_expect_none(); /* no FIN, no probe */
}

/* ------------------------------------------------------------------------ */
/* C-95: shutdown(SHUT_WR) is CLOSE                                          */

Test(halfclose, c95_shut_wr_is_close, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	cr_assert_eq(h_send(10), -TD_EPIPE);
	h_expect_none();

	h_in(P | A, 300, 101, 10, 1000);
	expect_recv_bytes(300, 10);
	cr_assert_eq(h_recv(10), -TD_EAGAIN);
	h_in(F | A, 310, 101, 0, 1000);
	h_expect(A, 101, 311, 0); /* also covers the data */
	cr_assert_eq(h_recv(10), 0);
	cr_assert_eq(h_recv(10), 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
}

/* C-95: the FIN follows data still pending when shutdown() is called. */
Test(halfclose, c95_shut_wr_fin_follows_pending_data, .init = h_setup, .fini = h_teardown)
{
	H.c = h_establish_ex(&H.t, 0, 1000, NULL, 0);
	cr_assert_eq(h_send(10), 10);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_expect_none();
	cr_assert_eq(h_send(10), -TD_EPIPE);
	h_in(A, 300, 100, 0, 1000);
	expect_data_and_fin(100, 300, 10, 0);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-96: a held connection stays in FIN-WAIT-2                               */

Test(halfclose, c96_held_fin_wait_2_has_no_timeout, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	cr_assert(!h_info().fw2_armed);
	h_adv_ms(3600ull * 1000);
	h_expect_none();
	h_expect_no_ev();
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_2);
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_FIN_WAIT_2);

	h_in(P | A, 300, 101, 10, 1000);
	h_expect_ev_kind(TD_TCP_EV_READABLE);
	expect_recv_bytes(300, 10);
	h_adv_ms(40);
	h_expect(A, 101, 310, 0);
}

/* ------------------------------------------------------------------------ */
/* C-97: the receive window keeps opening after our FIN                      */

Test(halfclose, c97_half_closed_window_keeps_opening, .init = h_setup, .fini = h_teardown)
{
	static uint8_t buf[2000];
	struct td_seg segs[2];

	H.cfg.rcvbuf = 2000;
	h_restart(&H.cfg);
	h_goto_state(TD_TCP_FIN_WAIT_2);

	/* The peer fills the buffer. */
	segs[0] = h_seg(A, 300, 101, 1000, 1000);
	segs[1] = h_seg(A, 1300, 101, 1000, 1000);
	h_burst(segs, 2);
	h_adv_ms(40);
	const struct h_out *o = h_expect(A, 101, 2300, 0);
	cr_assert_eq(o->wnd, 0);
	h_expect_none();

	/* The user reads everything: the window opens to 2000 at once or
	 * within the delayed-ACK time. */
	cr_assert_eq(h_recv_into(buf, sizeof(buf)), 2000);
	h_assert_peer_bytes(buf, 2000, 300);
	if (h_pending() == 0)
		h_adv_ms(40);
	o = h_expect(A, 101, 2300, 0);
	cr_assert_eq(o->wnd, 2000);

	/* 10000 more bytes, read as they arrive, all intact. */
	uint32_t seq = 2300;
	for (int k = 0; k < 10; k++, seq += 1000) {
		h_in(A, seq, 101, 1000, 1000);
		cr_assert_eq(h_recv_into(buf, sizeof(buf)), 1000, "segment at %u not taken", seq);
		h_assert_peer_bytes(buf, 1000, seq);
		h_adv_ms(40);
	}
	h_drain();
	cr_assert_eq(h_info().rcv_nxt, 12300);
	h_in(F | A, 12300, 101, 0, 1000);
	h_expect(A, 101, 12301, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_recv(10), 0);
}

/* ------------------------------------------------------------------------ */
/* C-98: shutdown(SHUT_RD)                                                   */

Test(halfclose, c98_shut_rd_then_shut_rdwr, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	cr_assert_eq(td_tcp_shutdown_rd(H.st, H.c), 0);
	h_expect_none();
	cr_assert_eq(h_recv(1000), 0);
	cr_assert_eq(h_state(), TD_TCP_ESTABLISHED);

	/* Data still arriving is acknowledged, queued and readable. */
	h_in(A, 300, 100, 1000, 1000);
	h_adv_ms(40);
	h_expect(A, 100, 1300, 0);
	expect_recv_bytes(300, 1000);
	cr_assert_eq(h_recv(1000), 0);
	h_drain(); /* a window update after the read is not this row's business */

	/* SHUT_RDWR = SHUT_RD (again: no effect) then CLOSE. */
	cr_assert_eq(td_tcp_shutdown_rd(H.st, H.c), 0);
	h_expect_none();
	h_close_expect_fin(1300);
	h_expect_none();
	cr_assert_eq(h_send(10), -TD_EPIPE);
	cr_assert_eq(h_state(), TD_TCP_FIN_WAIT_1);
}
