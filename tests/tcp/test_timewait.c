/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CONFORMANCE.md section 5: TIME-WAIT (C-65 .. C-76).
 *
 * Times are harness milliseconds (0 = when the harness started, stack clock
 * 1000000 us). Reopening a TIME-WAIT 4-tuple needs a listener, so the
 * C-69 .. C-73 tests make the connection passively: the stack listens on
 * port 40000 and the peer (198.18.0.2:8080) connects to it, on the harness's
 * default 4-tuple.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#if defined(__has_include)
#if __has_include("tcp_impl.h")
#include "tcp_impl.h"
/* C-74: the compact TIME-WAIT entry. */
static_assert(sizeof(struct td_tw) <= 64, "C-74: a TIME-WAIT entry is at most 64 bytes");
#endif
#endif

/* The last ACCEPTED event's connection, or NULL. */
static struct td_tcp_conn *
accepted(void)
{
	for (unsigned i = H.nev; i-- > 0;)
		if (H.ev[i].ev == TD_TCP_EV_ACCEPTED)
			return H.ev[i].c;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Ways into TIME-WAIT. */

/* Peer SYN options: MSS 1000, and nop,nop,TS val @tsval ecr 0 when @ts. */
static uint8_t
syn_opts(uint8_t *o, bool ts, uint32_t tsval)
{
	uint8_t n = 0;

	o[n++] = 2, o[n++] = 4, o[n++] = 1000 >> 8, o[n++] = 1000 & 0xff;
	if (ts) {
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		o[n++] = tsval >> 24, o[n++] = tsval >> 16, o[n++] = tsval >> 8, o[n++] = tsval;
		o[n++] = 0, o[n++] = 0, o[n++] = 0, o[n++] = 0;
	}
	return n;
}

/* The peer sends a SYN to the default 4-tuple. */
static void
syn_in(uint32_t seq, bool ts, uint32_t tsval)
{
	uint8_t o[16];
	uint8_t n = syn_opts(o, ts, tsval);

	h_in_opts(S, seq, 0, 0, 1000, o, n);
}

/* Passive open on port 40000 to the default state (our ISS 99, the peer's
 * 299); with @ts, timestamps negotiated and TS.Recent 500. Sets H.c. */
static void
accept_conn(bool ts)
{
	uint8_t o[16];
	const struct h_out *sa = h_passive_open(99, 299, o, syn_opts(o, ts, 500));

	if (ts) {
		cr_assert(sa->opts.has & TD_OPT_TS, "SYN-ACK without timestamps");
		cr_assert_eq(sa->opts.ts_ecr, 500);
		h_ts_learn(sa);
		h_in_ts(A, 300, 100, 0, 1000, 500, sa->opts.ts_val);
	} else {
		h_in(A, 300, 100, 0, 1000);
	}
	h_expect_none();
	cr_assert_eq(td_tcp_state(H.st, H.c), TD_TCP_ESTABLISHED);
	td_tcp_reset_rtt(H.st, H.c);
	h_ev_drain();
}

/* Passive connection, then CLOSE and the peer's FIN+ACK: TIME-WAIT (from
 * FIN-WAIT-1) with SND.NXT 101, RCV.NXT 301 (TS.Recent 500 with @ts); the user
 * gives the connection up. Returns the expiry. */
static uint64_t
tw_passive(bool ts)
{
	accept_conn(ts);
	const struct h_out *f = h_close_expect_fin(300);
	if (ts)
		h_in_ts(F | A, 300, 101, 0, 1000, 500, f->opts.ts_val);
	else
		h_in(F | A, 300, 101, 0, 1000);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	if (ts)
		h_expect_ts(o, 500);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_release();
	h_ev_drain();

	struct td_tcp_tw_info tw;
	cr_assert_eq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert_eq(tw.snd_nxt, 101);
	cr_assert_eq(tw.rcv_nxt, 301);
	cr_assert_eq(tw.ts_ok, ts);
	if (ts)
		cr_assert_eq(tw.ts_recent, 500);
	return tw.expire_us;
}

/* The SYN just injected reopened the 4-tuple: a SYN,ACK for it (ISS beyond
 * the old SND.NXT 101) and a new connection in SYN-RECEIVED. Returns the
 * SYN,ACK; the new connection becomes H.c. */
static const struct h_out *
expect_reopened(uint32_t syn_seq)
{
	const struct h_out *o = h_next();

	cr_assert_not_null(o, "SYN %u did not reopen the TIME-WAIT 4-tuple: nothing sent", syn_seq);
	cr_assert(o->flags == (S | A) && o->ack == syn_seq + 1 && o->len == 0,
		  "SYN %u did not reopen: got flags 0x%x %u:%u ack %u", syn_seq, o->flags, o->seq,
		  o->seq + o->len, o->ack);
	cr_assert_eq(h_state(), TD_TCP_SYN_RECEIVED);
	struct td_tcp_conn *c = accepted();
	cr_assert_not_null(c, "no ACCEPTED event for the reopened connection");
	H.c = c;
	h_expect_none();
	return o;
}

/* A TIME-WAIT entry by tw_passive(@tw_ts); at 10 s the peer's SYN @seq, with
 * TSval @tsval if @ts, reopens the 4-tuple. Returns our SYN,ACK. */
static const struct h_out *
reopened_at_10s(bool tw_ts, uint32_t seq, bool ts, uint32_t tsval)
{
	tw_passive(tw_ts);
	h_at_ms(10000);
	syn_in(seq, ts, tsval);
	return expect_reopened(seq);
}

/* The SYNs since the entry was made (expiry @exp, @acc ACCEPTED events then)
 * left it alone: still TIME-WAIT, the same expiry, no new connection. */
static void
expect_entry_unchanged(uint64_t exp, unsigned acc)
{
	h_assert_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(h_tw_expiry(), exp, "the expiry moved");
	cr_assert_eq(h_ev_count(TD_TCP_EV_ACCEPTED), acc, "an old SYN reopened the 4-tuple");
}

/* ------------------------------------------------------------------------ */
/* C-65: only the side that sent its FIN first enters TIME-WAIT. */

static uint64_t
tw_from_total(void)
{
	uint64_t n = 0;

	for (unsigned s = 0; s < TD_TCP_NSTATES; s++)
		n += h_stats()->tw_from[s];
	return n;
}

/* C-65: TCP A of the normal close: TIME-WAIT from FIN-WAIT-2. */
Test(timewait, c65_tw_from_fin_wait_2, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->tw_from[TD_TCP_FIN_WAIT_2], 1);
	cr_assert_eq(tw_from_total(), 1);
	cr_assert_eq(h_stats()->state_enter[TD_TCP_TIME_WAIT], 1);
}

/* C-65: simultaneous close (C-100): TIME-WAIT from CLOSING. */
Test(timewait, c65_tw_from_closing, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_CLOSING);
	h_in(A, 301, 101, 0, 1000);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->tw_from[TD_TCP_CLOSING], 1);
	cr_assert_eq(tw_from_total(), 1);
	cr_assert_eq(h_stats()->state_enter[TD_TCP_TIME_WAIT], 1);
}

/* C-65: FIN plus ACK of our FIN in FIN-WAIT-1: TIME-WAIT from FIN-WAIT-1. */
Test(timewait, c65_tw_from_fin_wait_1, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_FIN_WAIT_1);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->tw_from[TD_TCP_FIN_WAIT_1], 1);
	cr_assert_eq(tw_from_total(), 1);
}

/* C-65: TCP B (CLOSE-WAIT, LAST-ACK) is deleted on the last ACK, never
 * entering TIME-WAIT. */
Test(timewait, c65_last_ack_never_time_wait, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_pool_info pi;
	struct td_tcp_tw_info tw;

	h_goto_state(TD_TCP_LAST_ACK);
	h_in(A, 301, 101, 0, 1000);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->state_enter[TD_TCP_TIME_WAIT], 0);
	cr_assert_eq(tw_from_total(), 0);
	pi = h_pools();
	cr_assert_eq(pi.tw_used, 0);
	cr_assert_neq(td_tcp_tw_info(H.st, &H.t, &tw), 0);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_NORMAL], 1);
}

/* ------------------------------------------------------------------------ */

/* C-66: a retransmitted FIN at t = 30 s is ACKed and restarts 2 MSL. */
Test(timewait, c66_retransmitted_fin_restarts_2msl, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	h_expect_tw_expiry(H_US(60000));
	h_at_ms(30000);
	h_in(F | A, 300, 101, 0, 1000);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	cr_assert_eq(o->t_us, H_US(30000));
	h_expect_none();
	h_expect_tw_expiry(H_US(90000));
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 90000);
	h_expect_none();
}

/* C-66: each retransmission restarts it, also for an entry the user gave up. */
Test(timewait, c66_each_fin_retransmission_restarts, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	h_release();
	h_at_ms(30000);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_at_ms(80000);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_tw_expiry(H_US(140000));
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 140000);
}

/* ------------------------------------------------------------------------ */

/* C-67: RSTs in TIME-WAIT are ignored whatever their sequence number. */
Test(timewait, c67_rst_ignored_in_time_wait, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	uint64_t rst_in = h_stats()->drops[TD_TCP_DROP_TW_RST];
	h_at_ms(10000);
	h_in(R, 301, 0, 0, 0);
	h_in(R | A, 301, 101, 0, 1000);
	h_in(R, 300, 0, 0, 0);
	h_in(R, 5000, 0, 0, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_expect_tw_expiry(H_US(60000));
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 60000);
	h_expect_none();
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_KILLED], 0);
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_TW_RST] - rst_in, 4,
		     "every ignored RST is counted as TW_RST");
}

/* C-67: with rfc1337 off (Linux's default), a RST at RCV.NXT deletes the
 * entry; other RSTs are still ignored. */
Test(timewait, c67_rfc1337_off_rst_at_rcv_nxt_kills, .init = h_setup, .fini = h_teardown)
{
	H.cfg.rfc1337 = 0;
	h_restart(&H.cfg);
	h_goto_state(TD_TCP_TIME_WAIT);
	h_at_ms(10000);
	h_in(R, 5000, 0, 0, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_in(R, 301, 0, 0, 0);
	h_expect_none();
	h_assert_state(TD_TCP_CLOSED);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_KILLED], 1);
}

/* ------------------------------------------------------------------------ */

/* C-68: a bare segment at RCV.NXT is accepted silently; others get an ACK;
 * neither restarts the timer. Probes are 10 s apart (rate limit, C-81). */
Test(timewait, c68_zero_window_replies, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	h_at_ms(10000);
	h_in(A, 301, 101, 0, 1000);
	h_expect_none();
	h_expect_tw_expiry(H_US(60000));

	h_at_ms(20000);
	h_in(P | A, 301, 101, 10, 1000);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	cr_assert_eq(o->t_us, H_US(20000));
	h_expect_none();
	h_expect_tw_expiry(H_US(60000));
	cr_assert_eq(td_tcp_readable(H.c), 0, "data accepted in TIME-WAIT");

	h_at_ms(30000);
	h_in(A, 5000, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_tw_expiry(H_US(60000));

	h_at_ms(40000);
	h_in(A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_tw_expiry(H_US(60000));

	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 60000);
	h_expect_none();
	cr_assert_eq(h_recv(100), 0, "RECEIVE after the peer's FIN must say closing");
}

/* ------------------------------------------------------------------------ */
/* C-69: reopening by a SYN with a timestamp. */

/* C-69: TSval above TS.Recent reopens, even with SEQ below RCV.NXT. */
Test(timewait, c69_ts_syn_newer_tsval_reopens, .init = h_setup, .fini = h_teardown)
{
	const struct h_out *o = reopened_at_10s(true, 100, true, 501);
	cr_assert(o->opts.has & TD_OPT_TS);
	cr_assert_eq(o->opts.ts_ecr, 501);
	cr_assert_eq(h_stats()->tw_reopened, 1);
	td_tcp_abort(H.st, H.c);
}

/* C-69: TSval equal to TS.Recent and SEQ above RCV.NXT reopens. */
Test(timewait, c69_ts_syn_equal_tsval_higher_seq_reopens, .init = h_setup, .fini = h_teardown)
{
	reopened_at_10s(true, 400, true, 500);
	td_tcp_abort(H.st, H.c);
}

/* C-69: TSval equal and SEQ below RCV.NXT: a challenge ACK (C-72). */
Test(timewait, c69_ts_syn_equal_tsval_lower_seq_challenged, .init = h_setup, .fini = h_teardown)
{
	uint64_t exp = tw_passive(true);
	unsigned acc = h_ev_count(TD_TCP_EV_ACCEPTED);
	h_at_ms(10000);
	syn_in(200, true, 500);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	h_expect_ts(o, 500);
	h_expect_none();
	expect_entry_unchanged(exp, acc);
}

/* C-69: a SYN with a timestamp reopens an entry whose connection had none. */
Test(timewait, c69_ts_syn_reopens_entry_without_ts, .init = h_setup, .fini = h_teardown)
{
	reopened_at_10s(false, 200, true, 1);
	td_tcp_abort(H.st, H.c);
}

/* ------------------------------------------------------------------------ */
/* C-70: reopening by a SYN without a timestamp. */

/* C-70: SEQ 400 above RCV.NXT 301 reopens. */
Test(timewait, c70_syn_above_rcv_nxt_reopens, .init = h_setup, .fini = h_teardown)
{
	reopened_at_10s(false, 400, false, 0);
	td_tcp_abort(H.st, H.c);
}

/* C-70: SEQ 200 and SEQ 301 (= RCV.NXT) do not reopen. */
Test(timewait, c70_syn_not_above_rcv_nxt_challenged, .init = h_setup, .fini = h_teardown)
{
	uint64_t exp = tw_passive(false);
	unsigned acc = h_ev_count(TD_TCP_EV_ACCEPTED);
	h_at_ms(10000);
	syn_in(200, false, 0);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	h_at_ms(11000);
	syn_in(301, false, 0);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	expect_entry_unchanged(exp, acc);
}

/* C-70: on an entry with timestamps, a SYN without one falls back to the
 * sequence number test (RFC 6191 2). */
Test(timewait, c70_syn_without_ts_on_ts_entry, .init = h_setup, .fini = h_teardown)
{
	tw_passive(true);
	h_at_ms(10000);
	syn_in(200, false, 0);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	h_expect_ts(o, 500);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_at_ms(11000);
	syn_in(400, false, 0);
	expect_reopened(400);
	td_tcp_abort(H.st, H.c);
}

/* ------------------------------------------------------------------------ */

/* C-71: the reopened connection's ISS is beyond the old SND.NXT even with the
 * ISN clock behind it; a RST answering our SYN,ACK puts the 4-tuple back in
 * TIME-WAIT with its original expiry. */
Test(timewait, c71_reopen_iss_beyond_old_snd_nxt_and_back, .init = h_setup, .fini = h_teardown)
{
	uint64_t exp = tw_passive(false);
	H.isn = 50; /* the ISN generator is now behind the old SND.NXT (101) */
	h_at_ms(10000);
	syn_in(400, false, 0);
	const struct h_out *o = expect_reopened(400);
	cr_assert(td_seq_gt(o->seq, 101), "reopened ISS %u is not beyond the old SND.NXT 101",
		  o->seq);
	h_at_ms(10100);
	h_in(R, 401, 0, 0, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT, "state %s after the RST",
		     td_tcp_state_name(h_state()));
	cr_assert_eq(h_tw_expiry(), exp, "expiry moved to %.3f ms", h_ms_of(h_tw_expiry()));
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 60000);
}

/* C-71: the same check when the ISN generator is far behind (by 2^30). */
Test(timewait, c71_reopen_iss_far_behind, .init = h_setup, .fini = h_teardown)
{
	tw_passive(false);
	H.isn = 101u - 0x40000000u;
	h_at_ms(10000);
	syn_in(400, false, 0);
	const struct h_out *o = expect_reopened(400);
	cr_assert(td_seq_gt(o->seq, 101), "reopened ISS %u is not beyond the old SND.NXT 101",
		  o->seq);
	td_tcp_abort(H.st, H.c);
}

/* ------------------------------------------------------------------------ */

/* C-72: a SYN that does not qualify gets a challenge ACK; entry and timer
 * unchanged (listener present, so only the rule keeps it from reopening). */
Test(timewait, c72_non_qualifying_syn_challenge_ack, .init = h_setup, .fini = h_teardown)
{
	uint64_t exp = tw_passive(false);
	uint64_t ch = h_stats()->challenge_acks;
	h_at_ms(10000);
	syn_in(200, false, 0);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	cr_assert_eq(o->optlen, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_tw_expiry(), exp);
	cr_assert_eq(h_stats()->challenge_acks - ch, 1);
	h_expect_gone_at_ms(TD_TCP_TIME_WAIT, 60000);
}

/* C-72: the same without a listener (active side's TIME-WAIT). */
Test(timewait, c72_syn_without_listener_challenge_ack, .init = h_setup, .fini = h_teardown)
{
	h_goto_state(TD_TCP_TIME_WAIT);
	h_at_ms(10000);
	syn_in(200, false, 0);
	h_expect(A, 101, 301, 0);
	h_expect_none();
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	h_expect_tw_expiry(H_US(60000));
}

/* ------------------------------------------------------------------------ */

/* C-73: PAWS in TIME-WAIT. */
Test(timewait, c73_paws_in_time_wait, .init = h_setup, .fini = h_teardown)
{
	uint64_t exp = tw_passive(true);
	unsigned acc = h_ev_count(TD_TCP_EV_ACCEPTED);
	uint64_t paws = h_stats()->drops[TD_TCP_DROP_PAWS];

	h_at_ms(10000);
	h_in_ts(F | A, 300, 101, 0, 1000, 400, H.ts_base);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	h_expect_ts(o, 500);
	h_expect_none();
	cr_assert_eq(h_tw_expiry(), exp, "an old FIN restarted the timer");
	cr_assert_eq(h_stats()->drops[TD_TCP_DROP_PAWS] - paws, 1);

	h_at_ms(20000);
	syn_in(400, true, 400);
	o = h_expect(A, 101, 301, 0);
	h_expect_ts(o, 500);
	h_expect_none();
	expect_entry_unchanged(exp, acc);

	/* A current retransmitted FIN still restarts it. */
	h_at_ms(30000);
	h_in_ts(F | A, 300, 101, 0, 1000, 600, H.ts_base);
	o = h_expect(A, 101, 301, 0);
	cr_assert(o->opts.has & TD_OPT_TS);
	h_expect_tw_expiry(H_US(90000));
}

/* ------------------------------------------------------------------------ */
/* C-74: the compact entry. */

/* C-74: after entering TIME-WAIT as an orphan the connection pool is full
 * again; the entry alone answers as C-66 requires. */
Test(timewait, c74_orphan_conn_freed_on_entry, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_pool_info pi;

	h_orphan_fin_wait_2();
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	pi = h_pools();
	cr_assert_eq(pi.conns_used, 0, "the connection block was kept in TIME-WAIT");
	cr_assert_eq(pi.bufs_used, 0, "buffers kept in TIME-WAIT");
	cr_assert_eq(pi.tw_used, 1);
	h_at_ms(10000);
	h_in(F | A, 300, 101, 0, 1000);
	h_expect(A, 101, 301, 0);
	h_expect_tw_expiry(H_US(70000));
}

/* C-74: a connection the user holds is freed by RELEASE in TIME-WAIT. */
Test(timewait, c74_held_conn_freed_on_release, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_pool_info pi;

	h_goto_state(TD_TCP_TIME_WAIT);
	h_release();
	h_expect_none();
	pi = h_pools();
	cr_assert_eq(pi.conns_used, 0);
	cr_assert_eq(pi.bufs_used, 0);
	cr_assert_eq(pi.tw_used, 1);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
}

/* C-74: unread data is kept for the user in TIME-WAIT (C-13), and freed when
 * read and released. */
Test(timewait, c74_unread_data_kept_for_user, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_pool_info pi;
	uint8_t buf[64];

	h_goto_state(TD_TCP_FIN_WAIT_2);
	h_in(F | P | A, 300, 101, 10, 1000);
	h_expect(A, 101, 311, 0);
	cr_assert_eq(h_state(), TD_TCP_TIME_WAIT);
	pi = h_pools();
	cr_assert_eq(pi.tw_used, 1);
	cr_assert_eq(td_tcp_readable(H.c), 10);
	cr_assert_eq(h_recv_into(buf, sizeof(buf)), 10);
	h_assert_peer_bytes(buf, 10, 300);
	cr_assert_eq(h_recv_into(buf, sizeof(buf)), 0);
	h_release();
	h_expect_none();
	pi = h_pools();
	cr_assert_eq(pi.conns_used, 0);
	cr_assert_eq(pi.bufs_used, 0);
	cr_assert_eq(pi.tw_used, 1);
}

/* C-74: the entry of a connection with timestamps answers with TSopt (C-82)
 * from the entry alone. */
Test(timewait, c74_entry_replies_carry_ts, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_pool_info pi;

	tw_passive(true);
	pi = h_pools();
	cr_assert_eq(pi.conns_used, 0);
	h_at_ms(10000);
	h_in_ts(F | A, 300, 101, 0, 1000, 600, H.ts_base);
	const struct h_out *o = h_expect(A, 101, 301, 0);
	h_expect_tsval(o);
	cr_assert(o->opts.ts_ecr == 500 || o->opts.ts_ecr == 600, "TSecr %u", o->opts.ts_ecr);
	h_expect_tw_expiry(H_US(70000));
}

/* ------------------------------------------------------------------------ */

/* C-75: table size 2, three connections enter TIME-WAIT: the first entry is
 * recycled and counted; its 4-tuple now gets RSTs. */
Test(timewait, c75_full_table_recycles_first_entry, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t1 = h_tuple(8081), t2 = h_tuple(8082), t3 = h_tuple(8083);
	struct td_tcp_pool_info pi;

	H.cfg.tw_max = 2;
	h_restart(&H.cfg);
	h_tw_tuple(&t1);
	h_at_ms(1000);
	h_tw_tuple(&t2);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_RECYCLED], 0);
	h_at_ms(2000);
	h_tw_tuple(&t3);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t1), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t2), TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t3), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_RECYCLED], 1);
	pi = h_pools();
	cr_assert_eq(pi.tw_used, 2);
	h_in_tuple(&t1, A, 301, 101, 0, 1000);
	const struct h_out *o = h_expect(R, 101, 0, 0);
	cr_assert_eq(o->tuple.rport, 8081);
	h_expect_none();
}

/* C-75: the entry recycled is the one nearest to expiry, not the oldest: a
 * retransmitted FIN moved the first entry's expiry past the second's. */
Test(timewait, c75_recycles_entry_nearest_expiry, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple t1 = h_tuple(8081), t2 = h_tuple(8082), t3 = h_tuple(8083);

	H.cfg.tw_max = 2;
	h_restart(&H.cfg);
	h_tw_tuple(&t1);
	h_at_ms(1000);
	h_tw_tuple(&t2);
	h_at_ms(5000);
	h_in_tuple(&t1, F | A, 300, 101, 0, 1000); /* t1 now expires at 65 s, t2 at 61 s */
	h_expect(A, 101, 301, 0);
	h_at_ms(6000);
	h_tw_tuple(&t3);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t1), TD_TCP_TIME_WAIT);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t2), TD_TCP_CLOSED);
	cr_assert_eq(td_tcp_lookup_state(H.st, &t3), TD_TCP_TIME_WAIT);
	cr_assert_eq(h_stats()->ends[TD_TCP_END_TW_RECYCLED], 1);
}

/* ------------------------------------------------------------------------ */
/* C-76: RFC 6528 ISNs. */

static void
nop_tx(void *ctx, const struct td_tcp_out *o)
{
	(void)ctx;
	(void)o;
}

static void
nop_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	(void)ctx, (void)c, (void)ev, (void)err;
}

static struct td_tcp_stack *
keyed_stack(const uint8_t *key)
{
	static const struct td_tcp_ops ops = {.tx = nop_tx, .event = nop_event};
	char err[256];
	struct td_tcp_stack *st =
		td_tcp_stack_create(&H.cfg, &ops, H.now_us, key, err, sizeof(err));

	cr_assert_not_null(st, "stack_create: %s", err);
	return st;
}

/* C-76: the clock part ticks every 4 us: t + 1 ms is 250 more. */
Test(timewait, c76_isn_clock_4us, .init = h_setup, .fini = h_teardown)
{
	uint64_t t = H.now_us;
	uint32_t a = td_tcp_isn_rfc6528(H.st, &H.t, t);

	cr_assert_eq(td_tcp_isn_rfc6528(H.st, &H.t, t), a, "not a function of tuple and time");
	cr_assert_eq(td_tcp_isn_rfc6528(H.st, &H.t, t + 1000) - a, 250);
	cr_assert_eq(td_tcp_isn_rfc6528(H.st, &H.t, t + 4) - a, 1);
	cr_assert_eq(td_tcp_isn_rfc6528(H.st, &H.t, t + 1000000) - a, 250000);
	cr_assert_eq(td_tcp_isn_rfc6528(H.st, &H.t, t + 60000000) - a, 15000000);
}

/* C-76: another 4-tuple gets another offset, with the same clock. */
Test(timewait, c76_isn_other_tuple_other_offset, .init = h_setup, .fini = h_teardown)
{
	struct td_tuple ts[4] = {H.t, h_tuple(8081), H.t, H.t};
	uint32_t isn[4];
	uint64_t t = H.now_us;

	ts[2].lport = 40001;
	ts[3].raddr[3] = 3;
	for (unsigned i = 0; i < 4; i++) {
		isn[i] = td_tcp_isn_rfc6528(H.st, &ts[i], t);
		cr_assert_eq(td_tcp_isn_rfc6528(H.st, &ts[i], t + 1000) - isn[i], 250);
	}
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = i + 1; j < 4; j++)
			cr_assert_neq(isn[i], isn[j], "tuples %u and %u share an ISN offset", i, j);
}

/* C-76: another key gives another offset; the same key the same ISNs. */
Test(timewait, c76_isn_other_key_other_offset, .init = h_setup, .fini = h_teardown)
{
	uint8_t k1[16], k2[16];

	for (unsigned i = 0; i < 16; i++)
		k1[i] = (uint8_t)(i + 1), k2[i] = (uint8_t)(0xa0 + i);
	struct td_tcp_stack *a = keyed_stack(k1), *b = keyed_stack(k1), *c = keyed_stack(k2);
	uint64_t t = H.now_us;

	cr_assert_eq(td_tcp_isn_rfc6528(a, &H.t, t), td_tcp_isn_rfc6528(b, &H.t, t));
	cr_assert_neq(td_tcp_isn_rfc6528(a, &H.t, t), td_tcp_isn_rfc6528(c, &H.t, t));
	cr_assert_eq(td_tcp_isn_rfc6528(c, &H.t, t + 1000) - td_tcp_isn_rfc6528(c, &H.t, t), 250);
	td_tcp_stack_destroy(a);
	td_tcp_stack_destroy(b);
	td_tcp_stack_destroy(c);
}

static uint32_t cap_seq;
static unsigned cap_n;

static void
cap_tx(void *ctx, const struct td_tcp_out *o)
{
	(void)ctx;
	cap_seq = o->seq;
	cap_n++;
}

/* C-76: without an isn callback, an active open takes its ISN from RFC 6528. */
Test(timewait, c76_default_isn_is_rfc6528, .init = h_setup, .fini = h_teardown)
{
	static const struct td_tcp_ops ops = {.tx = cap_tx, .event = nop_event};
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};
	uint8_t key[16] = {7, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct td_tcp_conn *c = NULL;
	char err[256];

	struct td_tcp_stack *st =
		td_tcp_stack_create(&H.cfg, &ops, H.now_us + 5000, key, err, sizeof(err));
	cr_assert_not_null(st, "stack_create: %s", err);
	cap_n = 0;
	cr_assert_eq(td_tcp_connect(st, &H.t, &oo, &c), 0);
	cr_assert_eq(cap_n, 1, "no SYN");
	cr_assert_eq(cap_seq, td_tcp_isn_rfc6528(st, &H.t, td_tcp_now(st)));
	td_tcp_release(st, c);
	td_tcp_stack_destroy(st);
}
