/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "drill_exec.h"

/*
 * System calls (PACKETDRILL.md 8) on lib/tcp's socket-like API. Each returns
 * C_DONE with the result Linux would give, C_BLOCK when Linux would block
 * (the caller decides whether the script allows it), or C_STOP after
 * reporting an error. A blocked call is polled again after everything the
 * stack does, with @p poll set.
 */

/* The TCP_* number tcpi_state reads (PACKETDRILL.md 8). */
int
drill_linux_state(enum td_tcp_state s)
{
	switch (s) {
	case TD_TCP_CLOSED:
		return 7;
	case TD_TCP_LISTEN:
		return 10;
	case TD_TCP_SYN_SENT:
		return 2;
	case TD_TCP_SYN_RECEIVED:
		return 3;
	case TD_TCP_ESTABLISHED:
		return 1;
	case TD_TCP_CLOSE_WAIT:
		return 8;
	case TD_TCP_FIN_WAIT_1:
		return 4;
	case TD_TCP_CLOSING:
		return 11;
	case TD_TCP_LAST_ACK:
		return 9;
	case TD_TCP_FIN_WAIT_2:
		return 5;
	case TD_TCP_TIME_WAIT:
		/* The socket of a connection in TIME-WAIT reads TCP_CLOSE on
		 * Linux: the TIME-WAIT entry is no longer the socket. */
		return 7;
	}
	return 7;
}

/*
 * The descriptor a new socket gets. As in packetdrill, the number a script
 * writes as the result of socket() or accept() names the socket in later
 * calls (packetdrill maps it to whatever the kernel returned); a script that
 * follows PACKETDRILL.md writes the lowest free descriptor >= 3 anyway. When
 * the script expects a failure the socket gets the lowest free one, which
 * then shows in the mismatch. Returns -1 after reporting an error.
 */
static int
new_fd(struct run *r, const struct d_call *c)
{
	int fd = -1;

	if (c->ret >= 0) {
		if (c->ret >= MAX_FD) {
			drill_bad(r, r->line, "descriptor %lld (at most %d)", (long long)c->ret,
				  MAX_FD - 1);
			return -1;
		}
		fd = (int)c->ret;
		if (r->sk[fd].open) {
			drill_fail(r, r->line, "%s = %d: descriptor %d is already open", c->text,
				   fd, fd);
			return -1;
		}
	} else {
		for (int i = 3; i < MAX_FD && fd < 0; i++)
			if (!r->sk[i].open)
				fd = i;
		if (fd < 0) {
			drill_bad(r, r->line, "more than %d descriptors", MAX_FD - 3);
			return -1;
		}
	}
	memset(&r->sk[fd], 0, sizeof(r->sk[fd]));
	r->sk[fd].open = true;
	return fd;
}

static int
done(struct res *res, int64_t ret, int err)
{
	res->ret = ret;
	res->err = err;
	return C_DONE;
}

static int
sys_socket(struct run *r, const struct d_call *c, struct res *res)
{
	int64_t domain = c->a[0] ? c->a[0] : (r->o.ip == 6 ? 10 : 2);

	if ((domain == 10) != (r->o.ip == 6)) {
		drill_bad(r, r->line,
			  "socket(%s, ...) with --ip_version=ipv%d (IPv4-mapped IPv6 is not "
			  "supported)",
			  domain == 10 ? "AF_INET6" : "AF_INET", r->o.ip);
		return C_STOP;
	}
	int fd = new_fd(r, c);
	if (fd < 0)
		return C_STOP;
	r->sk[fd].kind = SK_NEW;
	r->sk[fd].nonblock = (c->a[1] & 04000) != 0;
	if (!r->conn_started)
		r->sut_fd = fd;
	return done(res, fd, 0);
}

static int
sys_bind(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (sk->bound || sk->kind != SK_NEW)
		return done(res, -1, L_EINVAL);
	if (r->listen_fd >= 0)
		return done(res, -1, L_EADDRINUSE);
	sk->bound = true;
	return done(res, 0, 0);
}

static int
sys_listen(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_BUFFER};

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (sk->kind == SK_LISTEN)
		return done(res, 0, 0);
	if (sk->kind != SK_NEW)
		return done(res, -1, L_EINVAL);
	if (r->listen_fd >= 0) {
		drill_bad(r, r->line, "two listening sockets");
		return C_STOP;
	}
	if (r->conn_started) {
		drill_bad(r, r->line, "listen() after the connection under test was made");
		return C_STOP;
	}
	int rc = td_tcp_listen(r->st, (uint8_t)r->o.ip, r->stack_addr, STACK_PORT, &oo);
	if (rc < 0)
		return done(res, -1, -rc);
	sk->kind = SK_LISTEN;
	sk->bound = true;
	r->listen_fd = c->fd;
	r->sut_fd = c->fd;
	return done(res, 0, 0);
}

static int
sys_accept(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (sk->kind != SK_LISTEN)
		return done(res, -1, L_EINVAL);
	struct dconn *dc = r->pending;
	if (dc == NULL || !dc->established)
		return sk->nonblock ? done(res, -1, L_EAGAIN) : C_BLOCK;
	int fd = new_fd(r, c);
	if (fd < 0)
		return C_STOP;
	struct sock *ns = &r->sk[fd];
	sk = &r->sk[c->fd];
	ns->kind = SK_CONN;
	ns->bound = true;
	ns->nodelay = sk->nodelay;
	ns->user_timeout = sk->user_timeout;
	ns->linger0 = sk->linger0;
	ns->reuseaddr = sk->reuseaddr;
	ns->dc = dc;
	dc->fd = fd;
	r->pending = NULL;
	r->sut_child = NULL;
	r->sut_fd = fd;
	return done(res, fd, 0);
}

static int
poll_connect(struct sock *sk, struct res *res)
{
	struct dconn *dc = sk->dc;

	if (dc->established)
		return done(res, 0, 0);
	if (dc->gone) {
		int err = td_tcp_take_error(dc->c);
		return done(res, -1, err ? err : L_ECONNREFUSED);
	}
	return C_BLOCK;
}

static int
sys_connect(struct run *r, const struct d_call *c, struct res *res, bool poll)
{
	struct sock *sk = drill_sock(r, c->fd);

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (poll)
		return poll_connect(sk, res);
	if (sk->kind == SK_LISTEN)
		return done(res, -1, L_EISCONN);
	if (sk->kind == SK_CONN) {
		struct dconn *dc = sk->dc;
		if (dc->established)
			return done(res, -1, L_EISCONN);
		if (!dc->gone)
			return done(res, -1, L_EALREADY);
		int err = td_tcp_take_error(dc->c);
		if (err != 0)
			return done(res, -1, err);
		drill_bad(r, r->line, "connect() again after a failed connect()");
		return C_STOP;
	}
	if (r->conn_started) {
		drill_bad(r, r->line, "a second connection under test");
		return C_STOP;
	}
	struct dconn *dc = drill_new_conn(r);
	if (dc == NULL) {
		drill_bad(r, r->line, "more than %d connections", MAX_CONN);
		return C_STOP;
	}
	struct td_tcp_open_opts oo = {
		.stream = TD_TCP_STREAM_BUFFER,
		.user_timeout_ms = (uint32_t)sk->user_timeout,
		.nodelay = sk->nodelay,
		.uctx = dc,
	};
	drill_set_tuple(r, sk->bound ? STACK_PORT : EPHEMERAL_PORT, STACK_PORT);
	r->local_known = false;
	r->conn_started = true;
	r->sut_fd = c->fd;
	int rc = td_tcp_connect(r->st, &r->tuple, &oo, &dc->c);
	if (rc < 0)
		return done(res, -1, -rc);
	drill_apply_sock_opts(sk, dc->c);
	dc->fd = c->fd;
	sk->kind = SK_CONN;
	sk->dc = dc;
	if (sk->nonblock)
		return done(res, -1, L_EINPROGRESS);
	return poll_connect(sk, res);
}

static int
sys_read(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);
	int64_t flags = c->sc == SC_RECV ? c->a[1] : 0;

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (sk->kind != SK_CONN)
		return done(res, -1, L_ENOTCONN);
	struct td_tcp_conn *tc = sk->dc->c;
	bool nb = sk->nonblock || (flags & L_MSG_DONTWAIT);
	uint32_t len = (uint32_t)(c->a[0] > IO_MAX ? IO_MAX : c->a[0]);
	if (c->a[0] == 0)
		return done(res, 0, 0);
	int n = (flags & L_MSG_PEEK) ? td_tcp_peek(r->st, tc, r->zbuf, len)
				     : td_tcp_recv(r->st, tc, r->zbuf, len);
	if (n == -TD_EAGAIN)
		return nb ? done(res, -1, L_EAGAIN) : C_BLOCK;
	if (n < 0)
		return done(res, -1, -n);
	return done(res, n, 0);
}

static int
sys_write(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);
	int64_t flags = c->sc == SC_SEND ? c->a[1] : 0;
	int64_t len = c->a[0];

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (sk->kind != SK_CONN)
		return done(res, -1, L_ENOTCONN);
	struct dconn *dc = sk->dc;
	bool nb = sk->nonblock || (flags & L_MSG_DONTWAIT);
	/* Linux waits for the handshake (sk_stream_wait_connect). */
	if (!dc->established && !dc->gone)
		return nb ? done(res, -1, L_EAGAIN) : C_BLOCK;
	int n = 0;
	do {
		uint32_t chunk = (uint32_t)(len - r->wdone > IO_MAX ? IO_MAX : len - r->wdone);
		n = td_tcp_send(r->st, dc->c, r->zbuf, chunk);
		if (n > 0)
			r->wdone += n;
		if (n < (int)chunk)
			break;
	} while (r->wdone < len);
	if (r->wdone == len && n >= 0)
		return done(res, len, 0);
	if (n < 0 && n != -TD_EAGAIN)
		return r->wdone > 0 ? done(res, r->wdone, 0) : done(res, -1, -n);
	if (nb)
		return r->wdone > 0 ? done(res, r->wdone, 0) : done(res, -1, L_EAGAIN);
	return C_BLOCK;
}

static int
sys_shutdown(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);
	int64_t how = c->a[0];

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (how < 0 || how > 2)
		return done(res, -1, L_EINVAL);
	if (sk->kind == SK_LISTEN) {
		if (how == 1)
			return done(res, 0, 0);
		drill_bad(r, r->line, "shutdown(SHUT_RD) of a listening socket");
		return C_STOP;
	}
	if (sk->kind == SK_NEW)
		return done(res, -1, L_ENOTCONN);
	struct td_tcp_conn *tc = sk->dc->c;
	enum td_tcp_state s = td_tcp_state(r->st, tc);
	/* A deleted connection, or one in TIME-WAIT, leaves the socket in
	 * TCP_CLOSE: ENOTCONN, as on Linux (PACKETDRILL.md 8). */
	if (s == TD_TCP_CLOSED || s == TD_TCP_TIME_WAIT)
		return done(res, -1, L_ENOTCONN);
	if (how != 1 && td_tcp_shutdown_rd(r->st, tc) < 0)
		return done(res, -1, L_ENOTCONN);
	if (how != 0) {
		int rc = td_tcp_shutdown(r->st, tc);
		if (rc == -TD_ENOTCONN)
			return done(res, -1, L_ENOTCONN);
		/* -TD_EPIPE: shut down before; repeating it is harmless. */
	}
	return done(res, 0, 0);
}

static int
sys_close(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (sk->kind == SK_LISTEN) {
		struct dconn *dc = r->pending;
		if (dc != NULL && !dc->released) {
			if (!dc->established && !dc->gone) {
				drill_bad(r, r->line,
					  "close() of the listener while the connection under "
					  "test is in SYN-RECEIVED (Linux drops it silently; "
					  "lib/tcp has no silent delete)");
				return C_STOP;
			}
			/* Linux aborts a connection it has not handed out yet
			 * (inet_csk_listen_stop): RST where due. */
			td_tcp_abort(r->st, dc->c);
			td_tcp_release(r->st, dc->c);
			dc->released = true;
			r->pending = NULL;
			if (r->sut_child == dc)
				r->sut_child = NULL;
		}
		td_tcp_unlisten(r->st, (uint8_t)r->o.ip, r->stack_addr, STACK_PORT);
		r->listen_fd = -1;
	} else if (sk->kind == SK_CONN) {
		struct dconn *dc = sk->dc;
		td_tcp_set_linger0(dc->c, sk->linger0);
		td_tcp_release(r->st, dc->c);
		dc->released = true;
		dc->fd = -1;
	}
	sk->open = false;
	return done(res, 0, 0);
}

static int
sys_fcntl(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (c->a[0] == 3) /* F_GETFL */
		return done(res, 2 | (sk->nonblock ? L_O_NONBLOCK : 0), 0);
	sk->nonblock = (c->a[1] & L_O_NONBLOCK) != 0;
	return done(res, 0, 0);
}

static int
sys_setsockopt(struct run *r, const struct d_call *c, struct res *res)
{
	struct sock *sk = drill_sock(r, c->fd);
	int64_t level = c->a[0], opt = c->a[1], v = c->a[2];

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	bool held = sk->kind == SK_CONN && !sk->dc->released;
	struct td_tcp_conn *tc = held ? sk->dc->c : NULL;
	if (level == 1 && opt == 2) {
		sk->reuseaddr = v != 0;
	} else if (level == 1 && opt == 13) {
		sk->linger0 = v != 0; /* onoff; linger is 0 (drill_parse.c) */
	} else if (opt == 1) {
		sk->nodelay = v != 0;
		if (tc != NULL) {
			td_tcp_set_nodelay(tc, sk->nodelay);
			/* Linux pushes what Nagle held (tcp_push_pending_frames);
			 * td_tcp_set_nodelay() does not, so a send of 0 bytes makes
			 * lib/tcp run its output. Only while no error can be pending
			 * (a pending error means the connection is gone). */
			enum td_tcp_state s = td_tcp_state(r->st, tc);
			if (sk->nodelay && (s == TD_TCP_ESTABLISHED || s == TD_TCP_CLOSE_WAIT))
				td_tcp_send(r->st, tc, r->zbuf, 0);
		}
	} else if (opt == 18) {
		if (v < 0 || v > 86400000)
			return done(res, -1, L_EINVAL);
		sk->user_timeout = v;
		if (tc != NULL)
			td_tcp_set_user_timeout(tc, (uint32_t)v);
	}
	return done(res, 0, 0);
}

static int
sys_getsockopt(struct run *r, const struct d_event *e, struct res *res)
{
	const struct d_call *c = &e->u.call;
	struct sock *sk = drill_sock(r, c->fd);
	int64_t level = c->a[0], opt = c->a[1], v = 0;
	char b1[32], b2[32];

	if (sk == NULL)
		return done(res, -1, L_EBADF);
	if (level == 1 && opt == 4) {
		if (sk->kind == SK_CONN)
			v = td_tcp_take_error(sk->dc->c);
		if (v != c->a[2]) {
			const char *w = c->a[2] ? drill_errname((int)c->a[2], b1, sizeof(b1)) : "0";
			const char *g = v ? drill_errname((int)v, b2, sizeof(b2)) : "0";
			drill_fail(r, e->line, "expected %s value %s got %s", c->text, w, g);
			return C_STOP;
		}
		return done(res, 0, 0);
	}
	if (level == 1 && opt == 2)
		v = sk->reuseaddr;
	else if (opt == 1)
		v = sk->nodelay;
	else if (opt == 18)
		v = sk->user_timeout;
	if (v != c->a[2]) {
		drill_fail(r, e->line, "expected %s value %lld got %lld", c->text,
			   (long long)c->a[2], (long long)v);
		return C_STOP;
	}
	return done(res, 0, 0);
}

int
drill_call(struct run *r, const struct d_event *e, struct res *res, bool poll)
{
	const struct d_call *c = &e->u.call;

	switch (c->sc) {
	case SC_SOCKET:
		return sys_socket(r, c, res);
	case SC_BIND:
		return sys_bind(r, c, res);
	case SC_LISTEN:
		return sys_listen(r, c, res);
	case SC_ACCEPT:
		return sys_accept(r, c, res);
	case SC_CONNECT:
		return sys_connect(r, c, res, poll);
	case SC_READ:
	case SC_RECV:
		return sys_read(r, c, res);
	case SC_WRITE:
	case SC_SEND:
		if (!poll)
			r->wdone = 0;
		return sys_write(r, c, res);
	case SC_SHUTDOWN:
		return sys_shutdown(r, c, res);
	case SC_CLOSE:
		return sys_close(r, c, res);
	case SC_FCNTL:
		return sys_fcntl(r, c, res);
	case SC_SETSOCKOPT:
		return sys_setsockopt(r, c, res);
	case SC_GETSOCKOPT:
		return sys_getsockopt(r, e, res);
	}
	return C_STOP;
}
