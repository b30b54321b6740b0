/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_DRILL_EXEC_H
#define TD_DRILL_EXEC_H

/* Private to the executor: drill_run.c (clock, packets, events) and
 * drill_sys.c (system calls). */

#include <stdbool.h>
#include <stdint.h>

#include "drill.h"
#include "td_tcp.h"

#define MAX_FD 1024
#define MAX_CONN 32
#define STACK_PORT 8080
#define PEER_PORT 40000
#define EPHEMERAL_PORT 43210
#define ANY_WAIT_US (600ull * 1000000)
#define IO_MAX (1u << 20) /* bytes moved per td_tcp_send/recv call */

/* Linux values the executor produces. */
enum {
	L_EBADF = 9,
	L_EAGAIN = 11,
	L_EINVAL = 22,
	L_EADDRINUSE = 98,
	L_EISCONN = 106,
	L_ENOTCONN = 107,
	L_ECONNREFUSED = 111,
	L_EALREADY = 114,
	L_EINPROGRESS = 115,
	L_O_NONBLOCK = 04000,
	L_MSG_PEEK = 0x2,
	L_MSG_DONTWAIT = 0x40,
};

/* One segment the stack sent, in the order it was sent. */
struct out_seg {
	struct td_tuple tuple;
	uint64_t t;
	uint32_t seq, ack, len;
	uint16_t wnd;
	uint8_t flags;
	uint8_t optlen;
	bool zero; /* payload all zeros, as every byte written is */
	int line;  /* the event being run when it was sent */
	uint8_t opts[40];
};

/* A connection the script holds or held. */
struct dconn {
	struct td_tcp_conn *c;
	bool established; /* TD_TCP_EV_CONNECTED seen */
	bool gone;        /* a terminal event seen */
	bool released;    /* td_tcp_release() called: the handle is invalid */
	int fd;
};

enum sock_kind { SK_NEW, SK_LISTEN, SK_CONN };

struct sock {
	bool open;
	enum sock_kind kind;
	bool bound, nonblock, nodelay, reuseaddr, linger0;
	int64_t user_timeout;
	struct dconn *dc;
};

struct blocked {
	bool on;
	const struct d_event *ev;
	uint64_t start, end, tol;
};

struct res {
	int64_t ret;
	int err;
};

enum { C_DONE, C_BLOCK, C_STOP };

struct run {
	const struct d_script *s;
	const char *path;
	struct d_opts o;
	struct td_tcp_config cfg;
	struct td_tcp_ops ops;
	struct td_tcp_stack *st;
	int verdict;
	bool stop;
	int line; /* the event being run */
	uint64_t clock;

	struct out_seg *out;
	size_t nout, outcap, head;

	struct sock sk[MAX_FD];
	int listen_fd;
	struct dconn conn[MAX_CONN];
	unsigned nconn;
	struct dconn *pending;   /* made by the listener, not accepted yet */
	int sut_fd;              /* descriptor of the socket under test */
	struct dconn *sut_child; /* or the connection under test, not accepted yet */
	bool conn_started;       /* a connection under test exists or existed */

	struct td_tuple tuple; /* the connection under test, from the stack's side */
	uint8_t stack_addr[16];

	bool local_known;
	uint32_t local_off; /* actual - script, for the stack's sequence numbers */
	bool ts_known;
	uint32_t ts_script0, ts_actual0;
	struct {
		uint32_t script, actual;
	} * tsm;
	size_t ntsm, tsmcap;

	uint64_t now_ref, last_sched;
	bool last_inbound;
	struct blocked blk;
	int64_t wdone; /* bytes a write() queued so far */

	uint64_t isn_state;
	bool lookahead; /* none_sent() is looking for a late segment */
	bool txbad;     /* a stack callback found an error: txerr, txbad_verdict */
	int txbad_verdict;
	char txerr[256];
	uint8_t *zbuf; /* IO_MAX zero bytes: what write() sends, where read() copies */
	uint8_t payload[65536];
};

/* The socket open at @p fd, or NULL. */
static inline struct sock *
drill_sock(struct run *r, int fd)
{
	return fd >= 0 && fd < MAX_FD && r->sk[fd].open ? &r->sk[fd] : NULL;
}

int drill_fail(struct run *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int drill_bad(struct run *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void drill_verbose(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *drill_tstr(uint64_t us, char *buf, size_t len);
const char *drill_errname(int err, char *buf, size_t len);
void drill_set_tuple(struct run *r, uint16_t lport, uint16_t rport);
struct dconn *drill_new_conn(struct run *r);
void drill_apply_sock_opts(const struct sock *sk, struct td_tcp_conn *c);
int drill_linux_state(enum td_tcp_state s);

/* Start a system call, or (@p poll) see whether a blocked one can return
 * now: C_DONE with @p res filled, C_BLOCK, or C_STOP (error reported). */
int drill_call(struct run *r, const struct d_event *e, struct res *res, bool poll);

#endif
