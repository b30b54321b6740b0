/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_TEST_HARNESS_H
#define TD_TEST_HARNESS_H

/*
 * The lib/tcp test harness: one stack on a fake clock, every transmitted
 * segment captured in order, every event logged.
 *
 * The default connection is CONFORMANCE.md's: ESTABLISHED with SND.UNA =
 * SND.NXT = 100, RCV.NXT = 300, both windows 1000 and unscaled, MSS 1000, no
 * options, no RTT sample (RTO 1 s). h_establish() builds it by a real
 * handshake (our SYN 99, the peer's SYN-ACK 299) from 198.18.0.1:40000 to
 * 198.18.0.2:8080.
 *
 * Every test runs with .init = h_setup, .fini = h_teardown: the teardown
 * releases the user's connection, lets every timer run out and asserts that
 * every pool is full again.
 */

#include <criterion/criterion.h>
#include <stdint.h>

#include "td_tcp.h"

#define H_MAX_OUT 4096
#define H_MAX_EV 1024
#define H_MAX_DATA 2048

/* One captured segment. */
struct h_out {
	struct td_tuple tuple;
	uint32_t seq, ack, len;
	uint16_t wnd;
	uint8_t flags;
	bool rexmit;
	struct td_tcp_opts opts; /* parsed back from the wire bytes */
	uint8_t optlen;
	uint64_t t_us; /* clock when it was sent */
	uint8_t data[H_MAX_DATA];
};

/* One event. */
struct h_ev {
	struct td_tcp_conn *c;
	enum td_tcp_event ev;
	int err;
	uint64_t t_us;
};

struct harness {
	struct td_tcp_config cfg;
	struct td_tcp_stack *st;
	uint64_t now_us;
	struct td_tcp_conn *c; /* the connection under test, while the user holds it */
	struct td_tuple t;     /* its 4-tuple (local 198.18.0.1:40000, remote 198.18.0.2:8080) */
	uint32_t isn;          /* what the isn callback returns (default 99) */
	bool isn_rfc6528;      /* use the real RFC 6528 generator instead */
	struct h_out out[H_MAX_OUT];
	unsigned nout, rd; /* captured, and read by h_next()/h_expect() */
	struct h_ev ev[H_MAX_EV];
	unsigned nev, evrd;
	/* Optional: called for every event after it is logged, as a user's
	 * event handler would be (it may make user calls). */
	void (*on_event)(struct td_tcp_conn *c, enum td_tcp_event ev, int err);
	struct h_out syn; /* our SYN in the last active open made by the harness */
	uint32_t ts_base; /* our TSval at harness time 0, once learnt (h_ts_learn()) */
};

extern struct harness H;

/* Criterion fixtures. */
void h_setup(void);
void h_teardown(void);

/* Recreate the stack with @cfg (after changing H.cfg, pass &H.cfg). */
void h_restart(const struct td_tcp_config *cfg);

/* The default tuple with another remote port (a second connection). */
struct td_tuple h_tuple(uint16_t rport);

/* Active open and handshake to the default state; sets H.c and returns it.
 * Outputs and events produced by the handshake are consumed. */
struct td_tcp_conn *h_establish(void);
/* The same on tuple @t with peer window @wnd, peer MSS @mss (0: no MSS
 * option) and raw peer SYN-ACK options appended (may be NULL). */
struct td_tcp_conn *h_establish_ex(const struct td_tuple *t, uint16_t wnd, uint16_t mss,
				   const uint8_t *opts, uint8_t optlen);

/* Build a segment to the default tuple: payload of @len bytes, byte i =
 * (seq + i) & 0xff relative to the peer's ISN (so delivered data can be checked). */
struct td_seg h_seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd);

/* Inject one segment (a burst of one) to the default tuple. */
void h_in(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd);
/* The same with raw options. */
void h_in_opts(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd,
	       const uint8_t *opts, uint8_t optlen);
/* The same with a timestamp option (nop,nop,TS val ecr). */
void h_in_ts(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd, uint32_t tsval,
	     uint32_t tsecr);
/* Inject a burst. */
void h_burst(const struct td_seg *segs, uint16_t n);

/* Clock: move to absolute @ms since the harness started, or forward by @ms;
 * timers run at their own due times on the way. */
void h_at_ms(uint64_t ms);
void h_adv_ms(uint64_t ms);
void h_adv_us(uint64_t us);
uint64_t h_now_ms(void);

/* Captured output. */
unsigned h_pending(void);         /* segments captured and not yet read */
const struct h_out *h_next(void); /* the next unread segment, or NULL */
void h_drain(void);               /* mark everything read */
/* Assert the next unread segment has these flags, seq, ack and length
 * (absolute numbers) and return it. */
const struct h_out *h_expect(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len);
/* Assert nothing unread was transmitted. */
void h_expect_none(void);

/* Events. */
unsigned h_ev_count(enum td_tcp_event ev); /* how many of @ev were raised in total */
const struct h_ev *h_ev_next(void);        /* the next unread event, or NULL */
void h_expect_ev(enum td_tcp_event ev, int err);
void h_expect_no_ev(void);
void h_ev_drain(void);

/* State of the default tuple in the table, and of H.c. */
enum td_tcp_state h_state(void);
struct td_tcp_info h_info(void);

/* Pools: assert every pool is full again, right now. */
void h_assert_pools_full(void);

/* Counters. */
const struct td_tcp_stats *h_stats(void);

/* User calls on H.c with buffered data (bytes 0, 1, 2, ... of the stream). */
int h_send(uint32_t len);
int h_recv(uint32_t len); /* returns what td_tcp_recv() returns; bytes discarded */
int h_recv_into(void *buf, uint32_t len);
void h_release(void); /* RELEASE H.c and forget it */

/* ------------------------------------------------------------------------ */
/* Helpers shared by the test files. */

/* Stack time (us) at harness time @ms, and one tick of the timer wheel. */
#define H_US(ms) (1000000ull + (uint64_t)(ms)*1000ull)
#define H_TICK_US 1000ull

/* Move the clock to stack time @end_us (harness time @ms), stopping at every
 * timer's due time on the way so that each timer runs with the clock at its
 * due time. */
void h_run_to_us(uint64_t end_us);
void h_run_to_ms(uint64_t ms);
/* Run to harness time @ms - 1: the default tuple is still in @s; run to
 * @ms + 1: it is gone (CLOSED). */
void h_expect_gone_at_ms(enum td_tcp_state s, uint64_t ms);
/* Harness milliseconds at stack time @us (for messages). */
double h_ms_of(uint64_t us);

/* The peer's MSS option, 1000. */
extern const uint8_t h_mss_1000[4];

/* h_establish() with the peer's ISN @irs (RCV.NXT = @irs + 1); our side is
 * the default one (ISN 99). Sets H.c and returns it. */
struct td_tcp_conn *h_establish_irs(uint32_t irs);

/* What h_handshake() offers and what the peer's SYN-ACK (ISN 299) answers. */
struct h_hs {
	uint16_t wnd;             /* the peer's window; 0: 1000 */
	uint16_t mss;             /* the peer's MSS; 0: 1000 */
	bool ts;                  /* timestamps: TSval 500, echoing our SYN's */
	bool sack;                /* SACK-permitted */
	int wscale;               /* the peer's shift; -1: no option */
	uint32_t user_timeout_ms; /* our OPEN's user timeout; 0: none given */
};
/* Active open on the default tuple to the default state (SND.NXT 100,
 * RCV.NXT 300) with the options of @p negotiated: the SYN-ACK echoes our
 * SYN's TSval, so timestamps can be negotiated (then H.ts_base is learnt from
 * our SYN). Keeps our SYN in H.syn, sets H.c and returns it; the handshake's
 * output and events are consumed. */
struct td_tcp_conn *h_handshake(const struct h_hs *p);

/* Passive open on H.t's local port with our ISN @iss: the peer's SYN @irs
 * (options @opts, may be NULL) gets our SYN-ACK, the next event is ACCEPTED
 * and its connection, in SYN-RECEIVED, becomes H.c. Returns the SYN-ACK. */
const struct h_out *h_passive_open(uint32_t iss, uint32_t irs, const uint8_t *opts, uint8_t optlen);

/* CLOSE on H.c with nothing queued: the FIN 100 with ACK @ack goes out at
 * once; returns it. */
const struct h_out *h_close_expect_fin(uint32_t ack);

/* SEND @len and CLOSE on H.c (SND.NXT 100, the window open): the data and
 * the FIN go out at once, as h_expect_data_and_fin(100, @ack, @len) checks;
 * returns the data segment. */
const struct h_out *h_send_and_close(uint32_t len, uint32_t ack);

/* Drive a fresh default connection into @s: SYN-RECEIVED by a passive open
 * (h_passive_open(99, 299, MSS 1000)), ESTABLISHED by h_establish(), a
 * closing state by the normal exchanges (CLOSE and the peer's ACK and FIN),
 * asserting each step's output and state. Then nothing more may have been
 * sent, and the events raised are consumed. */
void h_goto_state(enum td_tcp_state s);
/* h_establish(), RELEASE (the FIN 100 goes out at once) and the peer's ACK of
 * it: an orphan in FIN-WAIT-2. */
void h_orphan_fin_wait_2(void);
/* SND.NXT and RCV.NXT of that connection in @s (no data sent or received). */
uint32_t h_snd_nxt_in(enum td_tcp_state s);
uint32_t h_rcv_nxt_in(enum td_tcp_state s);

/* Inject one segment to 4-tuple @t, like h_in(). */
void h_in_tuple(const struct td_tuple *t, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
		uint16_t wnd);
/* A connection on tuple @t (h_establish_ex(), window 1000, MSS 1000) closed
 * into TIME-WAIT by CLOSE and the peer's FIN+ACK at the current time, then
 * released: an orphaned TIME-WAIT entry. The events raised are consumed. */
void h_tw_tuple(const struct td_tuple *t);

/* Assert the next unread segment is data [seq, seq + len) with ACK @ack and
 * then the FIN at seq + len: one FP. segment, or P. then F.; returns the data
 * segment. */
const struct h_out *h_expect_data_and_fin(uint32_t seq, uint32_t ack, uint32_t len);
/* Assert the next unread segment is <SEQ=@seq><CTL=RST>, no ACK bit and no
 * data (its ACK field means nothing and is not compared); returns it. */
const struct h_out *h_expect_rst(uint32_t seq);
/* Assert the payload of @o is stream bytes @off.. as h_send() wrote them. */
void h_assert_sent_bytes(const struct h_out *o, uint32_t off);
/* Assert @buf holds the peer's bytes from sequence number @seq0 on (h_seg()'s
 * pattern). */
void h_assert_peer_bytes(const uint8_t *buf, uint32_t len, uint32_t seq0);

/* Timestamps: learn H.ts_base from a segment we sent with TSopt; our TSval
 * now; assert @o carries TSopt with TSval from the clock when it was sent (to
 * one tick), and with TSecr @ecr. */
void h_ts_learn(const struct h_out *o);
uint32_t h_ts_now(void);
void h_expect_tsval(const struct h_out *o);
void h_expect_ts(const struct h_out *o, uint32_t ecr);

/* Assert the next unread event is @ev, whatever its err; returns it. */
const struct h_ev *h_expect_ev_kind(enum td_tcp_event ev);
/* The first event @ev raised, or NULL. */
const struct h_ev *h_ev_first(enum td_tcp_event ev);

/* Assert the default tuple's state is @s. */
void h_assert_state(enum td_tcp_state s);
/* The pools in use, now. */
struct td_tcp_pool_info h_pools(void);
/* The expiry (stack time) of the default tuple's TIME-WAIT entry, which must
 * exist; assert it is @us, to one tick. */
uint64_t h_tw_expiry(void);
void h_expect_tw_expiry(uint64_t us);

/* Assert td_tcp_config_set(@name, @value) on the defaults returns @want with a
 * one-line error containing each of @must1..@must3 that is not NULL. */
void h_expect_config_error(const char *name, const char *value, int want, const char *must1,
			   const char *must2, const char *must3);

/* Flags shorthand. */
#define F TD_TH_FIN
#define S TD_TH_SYN
#define R TD_TH_RST
#define P TD_TH_PSH
#define A TD_TH_ACK

#endif
