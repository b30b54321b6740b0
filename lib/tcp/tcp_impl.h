/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_TCP_IMPL_H
#define TD_TCP_IMPL_H

/* Private to lib/tcp: the connection block, the TIME-WAIT entry, the stack
 * and the functions the .c files share. */

#include <assert.h>
#include <stdalign.h>

#include "td_tcp.h"

#define TCP_NONE UINT32_MAX
#define TCP_BURST_MAX 256
#define TCP_TW_BIT 0x80000000u /* table value: a TIME-WAIT entry index */

/* Connection flags (c->flags). */
enum {
	TF_USER = 1u << 0,        /* the user holds the handle */
	TF_ACK_NOW = 1u << 1,     /* an ACK must go out at the next output */
	TF_DIRTY = 1u << 2,       /* on the stack's dirty list */
	TF_FIN_PENDING = 1u << 3, /* CLOSE called: a FIN follows the queued data */
	TF_FIN_SENT = 1u << 4,    /* the FIN has been sent (its seq is snd_end) */
	TF_FIN_ACKED = 1u << 5,   /* our FIN is acknowledged */
	TF_FIN_RCVD = 1u << 6,    /* the peer's FIN was processed */
	TF_TS_OK = 1u << 7,       /* timestamps negotiated */
	TF_SACK_OK = 1u << 8,     /* SACK negotiated */
	TF_NODELAY = 1u << 9,     /* Nagle off */
	TF_LINGER0 = 1u << 10,    /* RELEASE is ABORT */
	TF_SHUT_RD = 1u << 11,    /* SHUT_RD called */
	TF_PERSIST = 1u << 12,    /* the rtx timer slot runs the persist timer */
	TF_RTT_TIMING = 1u << 13, /* rtt_seq/rtt_start hold a measurement */
	TF_PASSIVE = 1u << 14,    /* made by a listener */
	TF_DETACHED = 1u << 15,   /* gone from the network, kept for the user */
};
/* Second flag word (c->flags2). */
enum {
	TF2_RETX_WARNED = 1u << 0,  /* C-47 report given */
	TF2_OOO_FIN = 1u << 1,      /* an out-of-order FIN is held at ooo_fin */
	TF2_IN_TW = 1u << 2,        /* detached into a TIME-WAIT entry (STATUS) */
	TF2_REXMIT_SYN = 1u << 3,   /* the SYN was retransmitted (Karn) */
	TF2_FIN_ACK_HELD = 1u << 4, /* C-63: ACK of the FIN held for our FIN */
	TF2_REXMITTING = 1u << 5,   /* after an RTO: resending from rtx_nxt */
	TF2_WS_OK = 1u << 6,        /* window scaling negotiated */
	TF2_T2 = 1u << 7,           /* t2_seq/t2_ms are set */
};

/* Timer kinds sharing the connection's one wheel timer (c->armed). */
enum { TT_RTX = 1u << 0, TT_DELACK = 1u << 1, TT_FW2 = 1u << 2 };

/* The connection block. The first cache line holds what the receive fast
 * path reads for an in-order ACK or data segment. Out-of-order state lives
 * in the stack's side pool (struct tcp_ooo) while a connection needs it. */
struct td_tcp_conn {
	alignas(TD_CACHE_LINE) uint8_t state;
	uint8_t stream : 2; /* enum td_tcp_stream */
	uint8_t armed : 3;  /* TT_* */
	uint16_t flags;
	uint32_t key; /* the 4-tuple's index in the table's key store */
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_wnd;
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t snd_end; /* sequence number after the last byte SENT */
	uint32_t rcv_nxt;
	uint32_t rcv_adv; /* right edge of the window we last advertised */
	uint32_t ts_recent;
	uint32_t last_ack_sent;
	uint32_t rcv_unread; /* bytes delivered in order and not yet read */
	uint16_t mss;        /* effective send MSS, options excluded */
	uint8_t snd_wscale : 4;
	uint8_t rcv_wscale : 4;
	uint8_t flags2;
	uint32_t ooo;          /* side-pool entry (struct tcp_ooo), or TCP_NONE */
	uint32_t delack_bytes; /* received since the last ACK we sent */

	/* Second and third lines: timers, the send side, RTT estimation and
	 * the user's side. */
	struct td_timer timer;
	void *uctx;
	uint32_t due_rtx; /* ms: retransmission or persist */
	uint32_t due_delack;
	uint32_t due_fw2;
	uint32_t iss;
	uint32_t irs;
	uint32_t max_snd_wnd;
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t srtt_us; /* 0: no sample yet; the RTO follows (tcp_rto_us) */
	uint32_t rttvar_us;
	uint32_t rtt_seq;
	uint32_t rtt_start_ms;
	uint32_t rtx_nxt; /* next sequence number to resend after an RTO */
	uint32_t ts_offset;
	uint32_t user_timeout_ms;
	uint32_t t_first_ms; /* when the oldest unacknowledged data/FIN was sent */
	uint32_t last_invalid_ms;
	uint32_t sbuf; /* buffer index, TCP_NONE in generated mode */
	union {
		uint32_t rbuf;        /* TD_TCP_STREAM_BUFFER: buffer index */
		uint32_t data_errors; /* TD_TCP_STREAM_GENERATED: bytes that did not match */
	};
	uint32_t close_start_us;
	uint32_t tw_idx; /* TIME-WAIT entry this incarnation reopened, or TCP_NONE */
	uint32_t t2_seq; /* first sequence number sent after the oldest segment... */
	uint32_t t2_ms;  /* ...and when: the next t_first_ms once it is the oldest */
	uint8_t backoff;
	uint8_t nretx; /* retransmissions of the segment at snd_una */
	uint8_t dupacks;
	uint8_t pending_err; /* td_errno, 0 if none */
};

static_assert(sizeof(struct td_tcp_conn) <= 192, "a connection block is at most 192 bytes");
static_assert(offsetof(struct td_tcp_conn, rcv_unread) + sizeof(uint32_t) <= TD_CACHE_LINE,
	      "the receive fast path fits the first cache line");

/* Out-of-order state, taken from the stack's side pool by a connection on its
 * first out-of-order segment and returned when the ranges are empty and no
 * FIN is held, or when the connection leaves the network. */
struct tcp_ooo {
	uint32_t r[TD_TCP_MAX_SACK][2]; /* [left, right), most recently changed first */
	uint32_t fin;                   /* sequence number of a held out-of-order FIN */
	uint32_t n;                     /* ranges held */
	uint32_t next;                  /* free list */
};

/* The next byte the user reads: the in-order data not yet read ends at
 * RCV.NXT, before the peer's FIN if it was processed. */
static inline uint32_t
tcp_rcv_read_seq(const struct td_tcp_conn *c)
{
	return c->rcv_nxt - c->rcv_unread - ((c->flags & TF_FIN_RCVD) ? 1 : 0);
}

/* The compact TIME-WAIT entry (C-74): only what TIME-WAIT needs. */
struct td_tw {
	uint32_t key;
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	uint32_t ts_offset;
	uint32_t expire_ms;
	uint32_t prev, next; /* FIFO by expiry */
	uint32_t reopen;     /* connection index reopened from it, or TCP_NONE */
	uint32_t last_invalid_ms;
	uint16_t wnd; /* as sent on the wire (already scaled) */
	uint8_t flags;
	uint8_t pad;
};
enum { TWF_TS_OK = 1, TWF_LIVE = 2, TWF_HIDDEN = 4 /* out of the table while reopened */ };

static_assert(sizeof(struct td_tw) <= 64, "a TIME-WAIT entry is at most 64 bytes");

/* The 4-tuple table: a key store with stable indices and an open-addressing
 * index with linear probing and backward-shift deletion. */
struct tcp_table {
	struct td_tuple *keys;
	uint32_t *khash;
	uint32_t *vals;
	uint32_t *kfree;
	uint32_t nkfree;
	uint32_t cap;
	uint32_t *idx; /* key index + 1, 0 = empty */
	uint32_t mask;
	uint32_t used;
};

struct tcp_listener {
	bool used;
	uint8_t family;
	bool any;
	uint16_t port;
	uint8_t laddr[16];
	struct td_tcp_open_opts oo;
};

struct td_tcp_stack {
	struct td_tcp_config cfg;
	struct td_tcp_ops ops;
	uint64_t now_us;
	uint32_t now_ms;
	uint32_t corks;
	uint32_t in_callback;
	struct td_timer_wheel wheel;
	struct td_tcp_stats stats;
	uint8_t key[16];

	struct td_tcp_conn *conns;
	uint32_t *conn_free;
	uint32_t conn_nfree;

	struct td_tw *tws;
	uint32_t tw_free;
	uint32_t tw_used;
	uint32_t tw_head, tw_tail;

	struct tcp_ooo *ooos;
	uint32_t ooo_cap;
	uint32_t ooo_free;
	uint32_t ooo_used;

	uint8_t *bufmem;
	uint32_t buf_size;
	uint32_t *buf_free;
	uint32_t buf_nfree;

	struct tcp_table table;
	struct tcp_listener *listeners;

	struct td_tcp_conn *dirty[TCP_BURST_MAX];
	uint32_t ndirty;

	uint32_t chack_sec;
	uint32_t chack_count;
	uint8_t wscale;   /* our window shift */
	uint32_t last_tw; /* the entry the latest tcp_tw_enter() filled */
};

/* tcp_table.c */
int tcp_table_init(struct tcp_table *tb, uint32_t cap);
void tcp_table_free(struct tcp_table *tb);
uint32_t tcp_table_lookup(const struct tcp_table *tb, const struct td_tuple *t, uint32_t *key);
int tcp_table_add(struct tcp_table *tb, const struct td_tuple *t, uint32_t val, uint32_t *key);
void tcp_table_del(struct tcp_table *tb, uint32_t key);
static inline void
tcp_table_set(struct tcp_table *tb, uint32_t key, uint32_t val)
{
	tb->vals[key] = val;
}
static inline const struct td_tuple *
tcp_key(const struct td_tcp_stack *st, uint32_t key)
{
	return &st->table.keys[key];
}

/* tcp_stack.c */
struct td_tcp_conn *tcp_conn_alloc(struct td_tcp_stack *st, const struct td_tuple *t,
				   const struct td_tcp_open_opts *oo);
void tcp_conn_delete(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_end why, int err);
void tcp_conn_free(struct td_tcp_stack *st, struct td_tcp_conn *c);
void td_tcp_set_state(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_state s);
void tcp_event(struct td_tcp_stack *st, struct td_tcp_conn *c, enum td_tcp_event ev, int err);
void tcp_mark_dirty(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_undirty(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_flush(struct td_tcp_stack *st);
static inline uint32_t
tcp_conn_idx(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	return (uint32_t)(c - st->conns);
}
static inline bool
tcp_orphan(const struct td_tcp_conn *c)
{
	return !(c->flags & TF_USER);
}
uint8_t *tcp_buf(const struct td_tcp_stack *st, uint32_t idx);
struct tcp_ooo *tcp_ooo_get(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_ooo_put(struct td_tcp_stack *st, struct td_tcp_conn *c);
static inline struct tcp_ooo *
tcp_ooo(const struct td_tcp_stack *st, const struct td_tcp_conn *c)
{
	return c->ooo == TCP_NONE ? NULL : &st->ooos[c->ooo];
}
uint32_t tcp_buf_get(struct td_tcp_stack *st);
void tcp_buf_put(struct td_tcp_stack *st, uint32_t idx);
struct tcp_listener *tcp_listener_find(struct td_tcp_stack *st, const struct td_tuple *t);

/* tcp_timer.c */
void tcp_timer_update(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_arm(struct td_tcp_stack *st, struct td_tcp_conn *c, unsigned kind, uint32_t due_ms);
void tcp_disarm(struct td_tcp_stack *st, struct td_tcp_conn *c, unsigned kind);
void tcp_timer_fire(struct td_timer *t, void *arg);
void tcp_conn_timer(struct td_tcp_stack *st, struct td_tcp_conn *c);
uint32_t tcp_rto_us(const struct td_tcp_stack *st, const struct td_tcp_conn *c);
uint32_t tcp_cur_rto_ms(const struct td_tcp_stack *st, const struct td_tcp_conn *c);
void tcp_rtt_sample(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t rtt_us);
void tcp_arm_rtx(struct td_tcp_stack *st, struct td_tcp_conn *c);
static inline bool
tcp_ms_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* tcp_output.c */
void tcp_output(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_send_ack(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_send_syn(struct td_tcp_stack *st, struct td_tcp_conn *c, bool rexmit);
void tcp_send_rst_conn(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_send_rst_reply(struct td_tcp_stack *st, const struct td_seg *s);
void tcp_retransmit(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_send_probe(struct td_tcp_stack *st, struct td_tcp_conn *c);
uint32_t tcp_rcv_space(const struct td_tcp_stack *st, const struct td_tcp_conn *c);
void tcp_window_update(struct td_tcp_stack *st, struct td_tcp_conn *c);
uint32_t tcp_ts_now(const struct td_tcp_stack *st, uint32_t offset);
void tcp_emit(struct td_tcp_stack *st, struct td_tcp_out *o);
bool tcp_reply_allowed(struct td_tcp_stack *st, uint32_t *last_ms, const struct td_seg *s,
		       bool challenge);

/* tcp_tw.c */
uint32_t tcp_tw_enter(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_tw_send_ack(struct td_tcp_stack *st, uint32_t twi);
uint32_t tcp_isn(struct td_tcp_stack *st, const struct td_tuple *t);
void tcp_conn_init_seq(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t iss);
void tcp_tw_input(struct td_tcp_stack *st, uint32_t twi, const struct td_seg *s,
		  const struct td_tcp_opts *o);
void tcp_tw_free(struct td_tcp_stack *st, uint32_t twi, enum td_tcp_end why);
unsigned tcp_tw_expire(struct td_tcp_stack *st, unsigned budget);
void tcp_tw_unhide(struct td_tcp_stack *st, struct td_tcp_conn *c);
void tcp_tw_reopen_done(struct td_tcp_stack *st, struct td_tcp_conn *c);

/* tcp_input.c */
void tcp_input_segment(struct td_tcp_stack *st, const struct td_seg *s);
void tcp_drop(struct td_tcp_stack *st, enum td_tcp_drop why);
void tcp_process_ack_fin_acked(struct td_tcp_stack *st, struct td_tcp_conn *c);

/* tcp_stream.c */
uint32_t tcp_snd_queued(const struct td_tcp_conn *c); /* bytes SENT and not acknowledged */
void tcp_stream_tx(const struct td_tcp_stack *st, const struct td_tcp_conn *c, uint32_t off,
		   uint8_t *dst, uint32_t len);
uint32_t tcp_stream_rx(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t seq,
		       const uint8_t *data, uint32_t len);
uint32_t tcp_stream_write(struct td_tcp_stack *st, struct td_tcp_conn *c, const uint8_t *data,
			  uint32_t len);
uint32_t tcp_stream_read(struct td_tcp_stack *st, struct td_tcp_conn *c, uint8_t *dst,
			 uint32_t len);
uint64_t tcp_stream_seed(uint32_t isn, const struct td_tuple *t, bool from_local);

/* tcp_isn.c */
uint64_t tcp_siphash(const uint8_t key[16], const uint8_t *data, size_t len);

/* RCV.WND: what we last offered beyond RCV.NXT. */
static inline uint32_t
tcp_rcv_wnd(const struct td_tcp_conn *c)
{
	return td_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/* The wheel tick of a 32-bit ms deadline (wrap-safe around now). */
static inline uint64_t
tcp_ms_to_tick(const struct td_tcp_stack *st, uint32_t due_ms)
{
	return st->now_us / 1000 + (uint64_t)(int64_t)(int32_t)(due_ms - st->now_ms);
}

/* Sequence number of stream offset 0 in each direction. */
static inline uint32_t
tcp_snd_base(const struct td_tcp_conn *c)
{
	return c->iss + 1;
}
static inline uint32_t
tcp_rcv_base(const struct td_tcp_conn *c)
{
	return c->irs + 1;
}

#endif
