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

/* Flags shorthand. */
#define F TD_TH_FIN
#define S TD_TH_SYN
#define R TD_TH_RST
#define P TD_TH_PSH
#define A TD_TH_ACK

#endif
