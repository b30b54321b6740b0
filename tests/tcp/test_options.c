/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 7: options in the closing states (C-82 .. C-89).
 *
 * The connections here are made by h_handshake() rather than
 * h_establish(), so that the peer's SYN-ACK can echo our SYN's TSval and
 * offer exactly the options a test needs. The result is the default state of
 * CONFORMANCE.md (SND.UNA = SND.NXT = 100, RCV.NXT = 300, peer window 1000)
 * plus the negotiated options; the peer's TS.Recent is 500.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* The default connection with timestamps negotiated. */
static struct td_tcp_conn *
handshake_ts(void)
{
	return h_handshake(&(struct h_hs){.ts = true, .wscale = -1});
}

/* With timestamps: < P. 300:310(10) with TSval 600 gets its delayed ACK, with
 * TSecr 600; then the clock is at 100 ms. */
static void
ts_data_acked_600(void)
{
	handshake_ts();
	h_in_ts(P | A, 300, 100, 10, 1000, 600, h_ts_now());
	h_run_to_ms(50);
	h_expect_ts(h_expect(A, 100, 310, 0), 600);
	h_at_ms(100);
}

/* ------------------------------------------------------------------------ */
/* C-82: TSopt on every non-RST segment we send. */

/* C-82: FIN, its retransmission, ACKs, a challenge ACK and TIME-WAIT replies. */
Test(options, c82_every_segment_carries_ts, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_at_ms(1000);
	const struct h_out *o = h_close_expect_fin(300);
	cr_assert_eq(o->opts.ts_val, H.ts_base + 1000, "FIN TSval %u, expected T+1000 = %u",
		     o->opts.ts_val, H.ts_base + 1000);
	h_expect_ts(o, 500);
	cr_assert_eq(o->optlen, 12);
	cr_assert_eq(o->opts.has, TD_OPT_TS);

	h_run_to_ms(2100);
	o = h_expect(F | A, 100, 300, 0);
	h_expect_ts(o, 500);
	cr_assert_eq(o->opts.ts_val, H.ts_base + 2000);

	h_at_ms(2200);
	h_in_ts(A, 300, 101, 0, 1000, 600, h_ts_now());
	h_assert_state(TD_TCP_FIN_WAIT_2);
	h_in_ts(P | A, 300, 101, 10, 1000, 700, h_ts_now());
	h_run_to_ms(2300);
	o = h_expect(A, 101, 310, 0); /* delayed ACK */
	h_expect_ts(o, 700);

	/* A challenge ACK (in-window RST, C-78). */
	h_at_ms(3500);
	h_in(R, 311, 0, 0, 0);
	o = h_expect(A, 101, 310, 0);
	h_expect_ts(o, 700);

	h_at_ms(5000);
	h_in_ts(F | A, 310, 101, 0, 1000, 800, h_ts_now());
	o = h_expect(A, 101, 311, 0);
	h_expect_ts(o, 800);
	h_assert_state(TD_TCP_TIME_WAIT);

	/* C-66's reply to a retransmitted FIN, from the TIME-WAIT entry. */
	h_at_ms(35000);
	h_in_ts(F | A, 310, 101, 0, 1000, 900, h_ts_now());
	o = h_expect(A, 101, 311, 0);
	h_expect_tsval(o);
	cr_assert(o->opts.ts_ecr == 800 || o->opts.ts_ecr == 900, "TSecr %u", o->opts.ts_ecr);

	/* C-68's reply to data in TIME-WAIT. */
	h_at_ms(40000);
	h_in_ts(P | A, 311, 101, 10, 1000, 1000, h_ts_now());
	o = h_expect(A, 101, 311, 0);
	h_expect_tsval(o);
}

/* C-82: data and its retransmission in CLOSE-WAIT and our FIN in LAST-ACK. */
Test(options, c82_close_wait_data_and_last_ack_fin_carry_ts, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_in_ts(F | A, 300, 100, 0, 1000, 550, h_ts_now());
	const struct h_out *o = h_expect(A, 100, 301, 0);
	h_expect_ts(o, 550);
	h_at_ms(100);
	cr_assert_eq(h_send(10), 10);
	o = h_expect(P | A, 100, 301, 10);
	h_expect_ts(o, 550);
	h_run_to_ms(1150);
	o = h_expect(P | A, 100, 301, 10);
	h_expect_ts(o, 550);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	o = h_expect(F | A, 110, 301, 0);
	h_expect_ts(o, 550);
	h_assert_state(TD_TCP_LAST_ACK);
}

/* ------------------------------------------------------------------------ */
/* C-83: RSTs carry TSopt too. */

/* C-83: C-14 with timestamps: RELEASE with unread data. */
Test(options, c83_rst_on_unread_release_carries_ts, .init = h_setup, .fini = h_teardown)
{
	ts_data_acked_600();
	h_release();
	const struct h_out *o = h_expect(R | A, 100, 310, 0);
	h_expect_ts(o, 600);
	h_expect_none();
}

/* C-83: ABORT's RST. */
Test(options, c83_rst_on_abort_carries_ts, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_at_ms(1000);
	cr_assert_eq(td_tcp_abort(H.st, H.c), 0);
	const struct h_out *o = h_expect(R | A, 100, 300, 0);
	h_expect_ts(o, 500);
	cr_assert_eq(o->opts.ts_val, H.ts_base + 1000);
	h_expect_none();
}

/* C-83: the user timeout's RST (rst_on_user_timeout). */
Test(options, c83_rst_on_user_timeout_carries_ts, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rst_on_user_timeout = 1;
	h_restart(&H.cfg);
	handshake_ts();
	td_tcp_set_user_timeout(H.c, 5000);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	h_run_to_ms(4999);
	h_drain();
	h_run_to_ms(5001);
	const struct h_out *o = h_expect(R | A, 101, 300, 0);
	h_expect_ts(o, 500);
	h_expect_none();
}

/* ------------------------------------------------------------------------ */
/* C-84: PAWS in every synchronized state; never for RSTs. */

/* C-84: FIN-WAIT-2, TS.Recent 500. */
Test(options, c84_paws_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_close_expect_fin(300);
	h_in_ts(A, 300, 101, 0, 1000, 500, h_ts_now());
	h_assert_state(TD_TCP_FIN_WAIT_2);

	/* An in-window RST with a newer TSval: challenge ACK echoing 500 (the
	 * RST did not update TS.Recent). */
	h_at_ms(1000);
	h_in_ts(R, 301, 0, 0, 0, 900, h_ts_now());
	const struct h_out *o = h_expect(A, 101, 300, 0);
	h_expect_ts(o, 500);
	h_expect_none();
	h_assert_state(TD_TCP_FIN_WAIT_2);

	/* An old FIN: dropped, ACK echoing 500. */
	uint64_t paws = h_stats()->drops[TD_TCP_DROP_PAWS];
	h_at_ms(2000);
	h_in_ts(F | A, 300, 101, 0, 1000, 400, h_ts_now());
	o = h_expect(A, 101, 300, 0);
	h_expect_ts(o, 500);
	h_expect_none();
	h_assert_state(TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(h_info().ts_recent, 500);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_PAWS] - paws, 1);

	/* A RST at RCV.NXT with an old TSval still resets. */
	h_at_ms(3000);
	h_in_ts(R, 300, 0, 0, 0, 1, h_ts_now());
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET), 1);
}

/* C-84: ESTABLISHED: old data is dropped, not delivered, and ACKed. */
Test(options, c84_paws_established_data, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_in_ts(P | A, 300, 100, 10, 1000, 400, h_ts_now());
	const struct h_out *o = h_expect(A, 100, 300, 0);
	h_expect_ts(o, 500);
	cr_assert_eq(td_tcp_readable(H.c), 0);
	cr_assert_eq(h_info().rcv_nxt, 300);
	cr_assert_eq(h_ev_count(TD_TCP_EV_READABLE), 0);
}

/* C-84: LAST-ACK: an old ACK of our FIN is dropped with its ACK field. */
Test(options, c84_paws_last_ack, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_in_ts(F | A, 300, 100, 0, 1000, 500, h_ts_now());
	h_expect(A, 100, 301, 0);
	h_close_expect_fin(301);
	h_assert_state(TD_TCP_LAST_ACK);
	h_at_ms(100);
	h_in_ts(A, 301, 101, 0, 1000, 400, h_ts_now());
	const struct h_out *o = h_expect(A, 101, 301, 0);
	h_expect_ts(o, 500);
	h_assert_state(TD_TCP_LAST_ACK);
	h_at_ms(1500);
	h_drain();
	h_in_ts(A, 301, 101, 0, 1000, 600, h_ts_now());
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
}

/* C-84: CLOSE-WAIT: data after the FIN is ignored silently (C-35), but with
 * an old TSval it fails PAWS first and is answered with an ACK. */
Test(options, c84_paws_close_wait, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_in_ts(F | A, 300, 100, 0, 1000, 500, h_ts_now());
	h_expect(A, 100, 301, 0);
	h_assert_state(TD_TCP_CLOSE_WAIT);
	h_at_ms(1000);
	h_in_ts(P | A, 301, 100, 10, 1000, 450, h_ts_now());
	const struct h_out *o = h_expect(A, 100, 301, 0);
	h_expect_ts(o, 500);
	h_assert_state(TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_info().ts_recent, 500);
}

/* ------------------------------------------------------------------------ */
/* C-85: TS.Recent only from SEG.SEQ <= Last.ACK.sent. */

/* C-85: an out-of-order FIN does not move TS.Recent; the segment filling
 * the hole does. */
Test(options, c85_ooo_fin_does_not_update_ts_recent, .init = h_setup, .fini = h_teardown)
{
	handshake_ts();
	h_in_ts(F | A, 310, 100, 0, 1000, 900, h_ts_now());
	const struct h_out *o = h_expect(A, 100, 300, 0);
	h_expect_ts(o, 500);
	cr_assert_eq(h_info().ts_recent, 500);
	h_at_ms(10);
	h_in_ts(P | A, 300, 100, 10, 1000, 600, h_ts_now());
	h_run_to_ms(100);
	o = h_next();
	cr_assert_not_null(o, "no ACK for the data");
	cr_assert(o->flags == A && o->seq == 100 && (o->ack == 311 || o->ack == 310),
		  "unexpected flags 0x%x %u ack %u", o->flags, o->seq, o->ack);
	h_expect_ts(o, 600);
	cr_assert_eq(h_info().ts_recent, 600);
}

/* C-85: out-of-order data with a newer TSval does not move TS.Recent. */
Test(options, c85_ooo_data_does_not_update_ts_recent, .init = h_setup, .fini = h_teardown)
{
	ts_data_acked_600();
	h_in_ts(P | A, 320, 100, 10, 1000, 700, h_ts_now());
	const struct h_out *o = h_expect(A, 100, 310, 0);
	h_expect_ts(o, 600);
	cr_assert_eq(h_info().ts_recent, 600);
}

/* ------------------------------------------------------------------------ */
/* C-86: window scaling to the end. */

/* C-86: shift 7 both ways: SND.WND = SEG.WND << 7; every window we send in
 * the closing states is RCV.WND >> our shift. */
Test(options, c86_window_scaling_to_the_end, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rcvbuf = 4u << 20; /* our shift: 7 (4 MiB >> 7 fits 16 bits) */
	H.cfg.buffers = 4;
	h_restart(&H.cfg);
	h_handshake(&(struct h_hs){.wscale = 7});
	struct td_tcp_info i = h_info();
	cr_assert(H.syn.opts.has & TD_OPT_WSCALE, "our SYN offers no window scaling");
	cr_assert_eq(i.rcv_wscale, H.syn.opts.wscale);
	cr_assert_eq(i.rcv_wscale, 7, "our shift is %u for rcvbuf 4 MiB", i.rcv_wscale);
	cr_assert_eq(i.snd_wscale, 7);
	uint8_t sh = i.rcv_wscale;

	const struct h_out *o = h_close_expect_fin(300);
	i = h_info();
	cr_assert_eq(o->wnd, i.rcv_wnd >> sh, "FIN window %u, RCV.WND %u", o->wnd, i.rcv_wnd);

	h_in(A, 300, 101, 0, 8);
	h_assert_state(TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_info().snd_wnd, 1024, "SND.WND %u, expected 8 << 7", h_info().snd_wnd);

	h_in(P | A, 300, 101, 10, 8);
	h_run_to_ms(100);
	o = h_expect(A, 101, 310, 0);
	i = h_info();
	cr_assert_eq(o->wnd, i.rcv_wnd >> sh, "ACK window %u, RCV.WND %u", o->wnd, i.rcv_wnd);

	/* An out-of-window segment gets an ACK with the scaled window too. */
	h_at_ms(1000);
	h_in(A, 200, 101, 0, 8);
	o = h_expect(A, 101, 310, 0);
	cr_assert_eq(o->wnd, h_info().rcv_wnd >> sh);

	h_at_ms(2000);
	h_in(F | A, 310, 101, 0, 8);
	o = h_expect(A, 101, 311, 0);
	cr_assert_eq(o->wnd, i.rcv_wnd >> sh, "ACK of the FIN: window %u, RCV.WND %u", o->wnd,
		     i.rcv_wnd);
	uint16_t last = o->wnd;
	h_assert_state(TD_TCP_TIME_WAIT);

	h_at_ms(12000);
	h_in(P | A, 311, 101, 10, 8);
	o = h_expect(A, 101, 311, 0);
	cr_assert_eq(o->wnd, last, "TIME-WAIT reply window %u, last advertised %u", o->wnd, last);
	h_at_ms(22000);
	h_in(F | A, 310, 101, 0, 8);
	o = h_expect(A, 101, 311, 0);
	cr_assert_eq(o->wnd, last, "TIME-WAIT reply window %u, last advertised %u", o->wnd, last);
}

/* C-86: SND.WND follows every window update in FIN-WAIT-1 and CLOSE-WAIT. */
Test(options, c86_peer_window_scaled_in_close_wait, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.wscale = 7});
	h_in(F | A, 300, 100, 0, 3);
	h_expect(A, 100, 301, 0);
	h_assert_state(TD_TCP_CLOSE_WAIT);
	cr_assert_eq(h_info().snd_wnd, 384);
	h_in(A, 301, 100, 0, 100);
	cr_assert_eq(h_info().snd_wnd, 12800);
}

/* ------------------------------------------------------------------------ */
/* C-87: SACK blocks while holding out-of-order data. */

static void
expect_sack(const struct h_out *o, unsigned n, const uint32_t (*blk)[2])
{
	cr_assert(o->opts.has & TD_OPT_SACK, "ACK %u without SACK blocks", o->ack);
	cr_assert_eq(o->opts.nsack, n, "%u SACK blocks, expected %u", o->opts.nsack, n);
	for (unsigned k = 0; k < n; k++)
		cr_assert(o->opts.sack[k][0] == blk[k][0] && o->opts.sack[k][1] == blk[k][1],
			  "SACK block %u is %u:%u, expected %u:%u", k, o->opts.sack[k][0],
			  o->opts.sack[k][1], blk[k][0], blk[k][1]);
}

/* C-87: FIN-WAIT-2: the first block covers the segment that triggered the ACK. */
Test(options, c87_sack_blocks_in_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.sack = true, .wscale = -1});
	h_close_expect_fin(300);
	h_in(A, 300, 101, 0, 1000);
	h_assert_state(TD_TCP_FIN_WAIT_2);

	h_in(P | A, 310, 101, 10, 1000);
	const struct h_out *o = h_expect(A, 101, 300, 0);
	expect_sack(o, 1, (const uint32_t[][2]){{310, 320}});
	cr_assert_eq(o->optlen, 12, "expected nop,nop,sack 310:320");

	h_in(P | A, 330, 101, 10, 1000);
	o = h_expect(A, 101, 300, 0);
	expect_sack(o, 2, (const uint32_t[][2]){{330, 340}, {310, 320}});

	h_in(P | A, 320, 101, 10, 1000);
	o = h_expect(A, 101, 300, 0);
	expect_sack(o, 1, (const uint32_t[][2]){{310, 340}});

	/* The hole filled: nothing is held, no SACK. */
	h_in(P | A, 300, 101, 10, 1000);
	o = h_expect(A, 101, 340, 0);
	cr_assert(!(o->opts.has & TD_OPT_SACK), "SACK with nothing out of order");
}

/* C-87: FIN-WAIT-1 too. */
Test(options, c87_sack_blocks_in_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.sack = true, .wscale = -1});
	h_close_expect_fin(300);
	h_in(P | A, 310, 100, 10, 1000);
	const struct h_out *o = h_expect(A, 101, 300, 0);
	expect_sack(o, 1, (const uint32_t[][2]){{310, 320}});
	h_assert_state(TD_TCP_FIN_WAIT_1);
}

/* With timestamps and SACK, FIN-WAIT-2 (RCV.NXT 300); then 310:320, 330:340,
 * 350:360 and 370:380 arrive, each ACKed at once with TSopt. Returns the
 * last ACK. */
static const struct h_out *
four_ooo_segments_in_fin_wait_2(void)
{
	const struct h_out *o = NULL;

	h_handshake(&(struct h_hs){.ts = true, .sack = true, .wscale = -1});
	h_close_expect_fin(300);
	h_in_ts(A, 300, 101, 0, 1000, 500, h_ts_now());
	for (uint32_t k = 0; k < 4; k++) {
		h_in_ts(P | A, 310 + 20 * k, 101, 10, 1000, 500, h_ts_now());
		o = h_expect(A, 101, 300, 0);
		h_expect_ts(o, 500);
	}
	return o;
}

/* C-87: with timestamps, nop,nop,TS then nop,nop,sack, at most 3 blocks, the
 * most recent first. */
Test(options, c87_sack_with_timestamps_three_blocks, .init = h_setup, .fini = h_teardown)
{
	const struct h_out *o = four_ooo_segments_in_fin_wait_2();
	cr_assert_eq(o->optlen, 40);
	cr_assert_eq(o->opts.nsack, 3);
	cr_assert(o->opts.sack[0][0] == 370 && o->opts.sack[0][1] == 380,
		  "first SACK block %u:%u, expected 370:380", o->opts.sack[0][0],
		  o->opts.sack[0][1]);
	/* The others: two distinct ranges held. */
	for (unsigned k = 1; k < 3; k++) {
		uint32_t l = o->opts.sack[k][0];
		cr_assert((l == 310 || l == 330 || l == 350) && o->opts.sack[k][1] == l + 10,
			  "SACK block %u is %u:%u", k, l, o->opts.sack[k][1]);
	}
	cr_assert_neq(o->opts.sack[1][0], o->opts.sack[2][0]);
}

/* C-87 (RFC 2018 4, SHOULD): after the first block, the most recently
 * reported blocks are repeated, so a block survives the loss of the ACK that
 * first reported it: with room for 3 blocks after 310, 330, 350, 370 arrived
 * in that order, the ACK for 370 carries 370:380, 350:360, 330:340. */
Test(options, c87_sack_repeats_most_recent_blocks, .init = h_setup, .fini = h_teardown)
{
	const struct h_out *o = four_ooo_segments_in_fin_wait_2();
	expect_sack(o, 3, (const uint32_t[][2]){{370, 380}, {350, 360}, {330, 340}});
}

/* ------------------------------------------------------------------------ */
/* C-88: MSS. */

/* C-88: MSS 536, peer window 10000, SEND 1200, CLOSE: 100:636, 636:1172,
 * 1172:1300 and the FIN; no MSS option on anything after the SYN. */
Test(options, c88_mss_536_and_no_mss_after_syn, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.mss = 536, .wnd = 10000, .wscale = -1});
	cr_assert(H.syn.opts.has & TD_OPT_MSS, "our SYN has no MSS option");
	cr_assert_eq(h_info().mss, 536);
	cr_assert_eq(h_send(1200), 1200);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	const struct h_out *o;
	for (uint32_t seq = 100; seq < 1172; seq += 536) {
		o = h_next();
		cr_assert_not_null(o, "segment %u:%u not sent", seq, seq + 536);
		cr_assert(o->seq == seq && o->len == 536 && (o->flags & ~P) == A,
			  "expected %u:%u, got flags 0x%x %u:%u", seq, seq + 536, o->flags, o->seq,
			  o->seq + o->len);
		cr_assert(!(o->opts.has & TD_OPT_MSS));
	}
	o = h_next();
	cr_assert_not_null(o);
	cr_assert(o->seq == 1172 && o->len == 128 && (o->flags & ~(F | P)) == A,
		  "expected 1172:1300, got flags 0x%x %u:%u", o->flags, o->seq, o->seq + o->len);
	cr_assert(!(o->opts.has & TD_OPT_MSS));
	if (!(o->flags & F)) {
		o = h_expect(F | A, 1300, 300, 0);
		cr_assert(!(o->opts.has & TD_OPT_MSS));
	}
	h_expect_none();

	h_in(A, 300, 1301, 0, 10000);
	h_assert_state(TD_TCP_FIN_WAIT_2);
	h_at_ms(1000);
	h_in(R, 301, 0, 0, 0); /* challenge ACK */
	o = h_expect(A, 1301, 300, 0);
	cr_assert_eq(o->optlen, 0);
	h_in(F | A, 300, 1301, 0, 10000);
	o = h_expect(A, 1301, 301, 0);
	cr_assert_eq(o->optlen, 0);
	h_at_ms(2000);
	h_in(P | A, 301, 1301, 10, 10000); /* TIME-WAIT reply */
	o = h_expect(A, 1301, 301, 0);
	cr_assert_eq(o->optlen, 0);
}

/* C-88: with timestamps the effective MSS is 536 - 12: no data segment
 * carries more than 536 bytes of data and options. */
Test(options, c88_effective_mss_less_ts_option, .init = h_setup, .fini = h_teardown)
{
	h_handshake(&(struct h_hs){.mss = 536, .wnd = 10000, .ts = true, .wscale = -1});
	cr_assert_eq(h_send(1200), 1200);
	cr_assert_eq(td_tcp_shutdown(H.st, H.c), 0);
	uint32_t seq = 100;
	bool fin = false;
	const struct h_out *o;
	while ((o = h_next()) != NULL) {
		cr_assert_eq(o->seq, seq);
		cr_assert_leq(o->len + o->optlen, 536, "segment %u:%u with %u option bytes", o->seq,
			      o->seq + o->len, o->optlen);
		cr_assert(!(o->opts.has & TD_OPT_MSS));
		seq += o->len;
		if (o->flags & F)
			fin = true;
	}
	cr_assert_eq(seq, 1300);
	cr_assert(fin, "no FIN");
}

/* ------------------------------------------------------------------------ */
/* C-89: malformed options. */

static const uint8_t opt_len0[4] = {8, 0, 0, 0};           /* kind 8 (TS), length 0 */
static const uint8_t opt_len1[4] = {99, 1, 0, 0};          /* length 1 */
static const uint8_t opt_past[4] = {99, 10, 0, 0};         /* runs past the header */
static const uint8_t opt_unknown[4] = {99, 4, 0xab, 0xcd}; /* well-formed, unknown */

static const uint8_t *const bad_opts[] = {opt_len0, opt_len1, opt_past};

/* C-89: FIN-WAIT-2: the FIN with kind 8 length 0 is dropped and counted; with
 * an unknown kind 99 length 4 option it is processed. */
Test(options, c89_malformed_dropped_unknown_ignored, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_2);
	uint64_t bad = h_stats()->drops[TD_TCP_DROP_BAD_OPTION];
	h_in_opts(F | A, 300, 101, 0, 1000, opt_len0, 4);
	h_expect_none();
	h_assert_state(TD_TCP_FIN_WAIT_2);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_BAD_OPTION] - bad, 1);
	cr_assert_eq(h_info().rcv_nxt, 300);

	h_in_opts(F | A, 300, 101, 0, 1000, opt_unknown, 4);
	h_expect(A, 101, 301, 0);
	h_assert_state(TD_TCP_TIME_WAIT);
}

/* C-89: lengths 0 and 1 and an option past the header, in FIN-WAIT-2 and
 * ESTABLISHED (data not delivered), and on RSTs (no reset). */
Test(options, c89_malformed_kinds_established_and_rst, .init = h_setup, .fini = h_teardown)
{
	h_establish();
	uint64_t bad = h_stats()->drops[TD_TCP_DROP_BAD_OPTION];
	for (unsigned k = 0; k < TD_ARRAY_SIZE(bad_opts); k++) {
		h_in_opts(P | A, 300, 100, 10, 1000, bad_opts[k], 4);
		h_in_opts(R, 300, 0, 0, 0, bad_opts[k], 4);
		h_in_opts(R | A, 300, 100, 0, 1000, bad_opts[k], 4);
	}
	h_run_to_ms(100);
	h_expect_none();
	h_assert_state(TD_TCP_ESTABLISHED);
	cr_assert_eq(td_tcp_readable(H.c), 0);
	cr_assert_eq(h_ev_count(TD_TCP_EV_RESET), 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_BAD_OPTION] - bad, 9);
	/* The same data with good options is delivered. */
	h_in_opts(P | A, 300, 100, 10, 1000, opt_unknown, 4);
	cr_assert_eq(td_tcp_readable(H.c), 10);
}

/* C-89: CLOSE-WAIT, LAST-ACK (an ACK of our FIN with bad options is not
 * processed). */
Test(options, c89_malformed_close_wait_last_ack, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSE_WAIT);
	h_at_ms(1000);
	h_in_opts(F | A, 300, 100, 0, 1000, opt_past, 4); /* would be re-ACKed (C-25) */
	h_expect_none();
	h_assert_state(TD_TCP_CLOSE_WAIT);
	h_close_expect_fin(301);
	h_in_opts(A, 301, 101, 0, 1000, opt_len1, 4);
	h_expect_none();
	h_assert_state(TD_TCP_LAST_ACK);
	h_in_opts(R, 301, 0, 0, 0, opt_len0, 4);
	h_assert_state(TD_TCP_LAST_ACK);
	h_in(A, 301, 101, 0, 1000);
	h_assert_state(TD_TCP_CLOSED);
}

/* C-89: TIME-WAIT: a retransmitted FIN with bad options gets no ACK and does
 * not restart the timer. */
Test(options, c89_malformed_time_wait, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_assert_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	uint64_t exp = tw.expire_us;
	uint64_t bad = h_stats()->drops[TD_TCP_DROP_BAD_OPTION];
	h_at_ms(10000);
	h_in_opts(F | A, 300, 101, 0, 1000, opt_len0, 4);
	h_in_opts(R, 301, 0, 0, 0, opt_len1, 4);
	h_expect_none();
	h_assert_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert_eq(tw.expire_us, exp);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_BAD_OPTION] - bad, 2);
}

/* C-89: FIN-WAIT-1: bad options on the ACK of our FIN: still FIN-WAIT-1. */
Test(options, c89_malformed_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_in_opts(F | A, 300, 101, 0, 1000, opt_past, 4);
	h_expect_none();
	h_assert_state(TD_TCP_FIN_WAIT_1);
}

/* C-89: to a 4-tuple without a connection: dropped and counted, no RST. */
Test(options, c89_malformed_no_connection_no_rst, .init = h_setup, .fini = h_teardown)
{
	uint64_t bad = h_stats()->drops[TD_TCP_DROP_BAD_OPTION];

	h_in_opts(P | A, 300, 555, 10, 1000, opt_len0, 4);
	h_expect_none();
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_BAD_OPTION] - bad, 1);
}
