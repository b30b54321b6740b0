/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"

/* Symbols scripts may use, with their Linux values (PACKETDRILL.md 2). */
static const struct {
	const char *name;
	int64_t value;
} symbols[] = {
	{"AF_INET", 2},
	{"AF_INET6", 10},
	{"PF_INET", 2},
	{"PF_INET6", 10},
	{"SOCK_STREAM", 1},
	{"SOCK_DGRAM", 2},
	{"SOCK_RAW", 3},
	{"SOCK_NONBLOCK", 04000},
	{"SOCK_CLOEXEC", 02000000},
	{"IPPROTO_IP", 0},
	{"IPPROTO_TCP", 6},
	{"IPPROTO_UDP", 17},
	{"SOL_SOCKET", 1},
	{"SOL_TCP", 6},
	{"SOL_IP", 0},
	{"SOL_IPV6", 41},
	{"SO_DEBUG", 1},
	{"SO_REUSEADDR", 2},
	{"SO_TYPE", 3},
	{"SO_ERROR", 4},
	{"SO_DONTROUTE", 5},
	{"SO_BROADCAST", 6},
	{"SO_SNDBUF", 7},
	{"SO_RCVBUF", 8},
	{"SO_KEEPALIVE", 9},
	{"SO_OOBINLINE", 10},
	{"SO_LINGER", 13},
	{"SO_REUSEPORT", 15},
	{"SO_RCVLOWAT", 18},
	{"SO_SNDLOWAT", 19},
	{"SO_RCVTIMEO", 20},
	{"SO_SNDTIMEO", 21},
	{"TCP_NODELAY", 1},
	{"TCP_MAXSEG", 2},
	{"TCP_CORK", 3},
	{"TCP_KEEPIDLE", 4},
	{"TCP_KEEPINTVL", 5},
	{"TCP_KEEPCNT", 6},
	{"TCP_SYNCNT", 7},
	{"TCP_LINGER2", 8},
	{"TCP_DEFER_ACCEPT", 9},
	{"TCP_WINDOW_CLAMP", 10},
	{"TCP_INFO", 11},
	{"TCP_QUICKACK", 12},
	{"TCP_CONGESTION", 13},
	{"TCP_MD5SIG", 14},
	{"TCP_USER_TIMEOUT", 18},
	{"TCP_FASTOPEN", 23},
	{"TCP_NOTSENT_LOWAT", 25},
	{"F_GETFL", 3},
	{"F_SETFL", 4},
	{"O_RDONLY", 0},
	{"O_WRONLY", 1},
	{"O_RDWR", 2},
	{"O_NONBLOCK", 04000},
	{"SHUT_RD", 0},
	{"SHUT_WR", 1},
	{"SHUT_RDWR", 2},
	{"MSG_OOB", 0x1},
	{"MSG_PEEK", 0x2},
	{"MSG_DONTROUTE", 0x4},
	{"MSG_TRUNC", 0x20},
	{"MSG_DONTWAIT", 0x40},
	{"MSG_EOR", 0x80},
	{"MSG_WAITALL", 0x100},
	{"MSG_NOSIGNAL", 0x4000},
	{"MSG_MORE", 0x8000},
	{"MSG_ZEROCOPY", 0x4000000},
	{"EPERM", 1},
	{"ENOENT", 2},
	{"EINTR", 4},
	{"EIO", 5},
	{"EBADF", 9},
	{"EAGAIN", 11},
	{"EWOULDBLOCK", 11},
	{"ENOMEM", 12},
	{"EACCES", 13},
	{"EFAULT", 14},
	{"EEXIST", 17},
	{"EINVAL", 22},
	{"ENOSPC", 28},
	{"EPIPE", 32},
	{"ERANGE", 34},
	{"ENOTSOCK", 88},
	{"EDESTADDRREQ", 89},
	{"EMSGSIZE", 90},
	{"EPROTOTYPE", 91},
	{"ENOPROTOOPT", 92},
	{"EPROTONOSUPPORT", 93},
	{"EOPNOTSUPP", 95},
	{"ENOTSUP", 95},
	{"EAFNOSUPPORT", 97},
	{"EADDRINUSE", 98},
	{"EADDRNOTAVAIL", 99},
	{"ENETDOWN", 100},
	{"ENETUNREACH", 101},
	{"ENETRESET", 102},
	{"ECONNABORTED", 103},
	{"ECONNRESET", 104},
	{"ENOBUFS", 105},
	{"EISCONN", 106},
	{"ENOTCONN", 107},
	{"ESHUTDOWN", 108},
	{"ETIMEDOUT", 110},
	{"ECONNREFUSED", 111},
	{"EHOSTUNREACH", 113},
	{"EALREADY", 114},
	{"EINPROGRESS", 115},
	{"TCP_ESTABLISHED", 1},
	{"TCP_SYN_SENT", 2},
	{"TCP_SYN_RECV", 3},
	{"TCP_FIN_WAIT1", 4},
	{"TCP_FIN_WAIT2", 5},
	{"TCP_TIME_WAIT", 6},
	{"TCP_CLOSE", 7},
	{"TCP_CLOSE_WAIT", 8},
	{"TCP_LAST_ACK", 9},
	{"TCP_LISTEN", 10},
	{"TCP_CLOSING", 11},
};

bool
d_symbol(const char *name, int64_t *v)
{
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
		if (strcmp(symbols[i].name, name) == 0) {
			*v = symbols[i].value;
			return true;
		}
	return false;
}

/* The first name with @p v whose prefix is @p prefix and that is not an alias. */
static const char *
symbol_name(const char *prefix, int64_t v, const char *skip)
{
	size_t pl = strlen(prefix);

	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
		if (symbols[i].value == v && strncmp(symbols[i].name, prefix, pl) == 0 &&
		    (skip == NULL || strcmp(symbols[i].name, skip) != 0))
			return symbols[i].name;
	return NULL;
}

const char *
d_errno_name(int err)
{
	return symbol_name("E", err, "EWOULDBLOCK");
}

const char *
d_state_name(int s)
{
	static const char *const names[] = {
		NULL,
		"TCP_ESTABLISHED",
		"TCP_SYN_SENT",
		"TCP_SYN_RECV",
		"TCP_FIN_WAIT1",
		"TCP_FIN_WAIT2",
		"TCP_TIME_WAIT",
		"TCP_CLOSE",
		"TCP_CLOSE_WAIT",
		"TCP_LAST_ACK",
		"TCP_LISTEN",
		"TCP_CLOSING",
	};
	return s > 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : NULL;
}

void
d_msg(const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(stderr, "%s:%d: ", path, line);
	else
		fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
d_opts_defaults(struct d_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ip = 4;
	o->tol_us = 4000;
	o->tol_pct = 12.5;
}

static int
parse_nonneg(const char *v, int64_t *out)
{
	char *end;

	if (v == NULL || *v == '\0' || *v == '-')
		return -1;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = x;
	return 0;
}

int
d_opt_set(struct d_opts *o, const char *name, const char *value, char *err, size_t errlen)
{
	if (strcmp(name, "ip_version") == 0 || strcmp(name, "ip") == 0) {
		if (value != NULL && (strcmp(value, "ipv4") == 0 || strcmp(value, "4") == 0)) {
			o->ip = 4;
		} else if (value != NULL &&
			   (strcmp(value, "ipv6") == 0 || strcmp(value, "6") == 0)) {
			o->ip = 6;
		} else {
			snprintf(err, errlen, "--%s=%s is not supported (ipv4 or ipv6)", name,
				 value ? value : "");
			return -1;
		}
		o->has_ip = true;
		return 0;
	}
	if (strcmp(name, "tolerance_usecs") == 0) {
		if (parse_nonneg(value, &o->tol_us) != 0)
			goto bad_number;
		o->has_tol_us = true;
		return 0;
	}
	if (strcmp(name, "tolerance_percent") == 0) {
		char *end;
		if (value == NULL || *value == '\0')
			goto bad_number;
		errno = 0;
		double p = strtod(value, &end);
		if (errno != 0 || *end != '\0' || p < 0 || p > 100)
			goto bad_number;
		o->tol_pct = p;
		o->has_tol_pct = true;
		return 0;
	}
	if (strcmp(name, "tcp_ts_tick_usecs") == 0) {
		if (parse_nonneg(value, &o->ts_tick_us) != 0)
			goto bad_number;
		o->has_ts_tick = true;
		return 0;
	}
	if (strcmp(name, "verbose") == 0 && value == NULL) {
		o->verbose = true;
		o->has_verbose = true;
		return 0;
	}
	/* packetdrill options with no meaning here (PACKETDRILL.md 10). */
	if (strcmp(name, "strict_segments") == 0 && value == NULL)
		return 0;
	if (strcmp(name, "mss") == 0) {
		int64_t v;
		if (parse_nonneg(value, &v) != 0)
			goto bad_number;
		return 0;
	}
	snprintf(err, errlen, "option --%s is not supported", name);
	return -1;
bad_number:
	snprintf(err, errlen, "--%s: '%s' is not a valid value", name, value ? value : "");
	return -1;
}

void
d_flags_str(uint8_t f, char *b)
{
	int n = 0;

	/* packetdrill's order: F S R P . */
	if (f & 0x01)
		b[n++] = 'F';
	if (f & 0x02)
		b[n++] = 'S';
	if (f & 0x04)
		b[n++] = 'R';
	if (f & 0x08)
		b[n++] = 'P';
	if (f & 0x20)
		b[n++] = 'U';
	if (f & 0x40)
		b[n++] = 'E';
	if (f & 0x80)
		b[n++] = 'W';
	if (f & 0x10)
		b[n++] = '.';
	if (n == 0)
		b[n++] = '-';
	b[n] = '\0';
}

void
d_time_str(int64_t us, char *buf, size_t len)
{
	const char *sign = us < 0 ? "-" : "";
	uint64_t a = us < 0 ? (uint64_t)(-us) : (uint64_t)us;

	if (a % 1000 == 0)
		snprintf(buf, len, "%s%llu.%03llu", sign, (unsigned long long)(a / 1000000),
			 (unsigned long long)(a % 1000000 / 1000));
	else
		snprintf(buf, len, "%s%llu.%06llu", sign, (unsigned long long)(a / 1000000),
			 (unsigned long long)(a % 1000000));
}

static size_t append(char *buf, size_t len, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t
append(char *buf, size_t len, size_t at, const char *fmt, ...)
{
	va_list ap;

	if (at >= len)
		return at;
	va_start(ap, fmt);
	int n = vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

void
d_opts_str(const struct d_tcpopt *o, unsigned n, bool nocheck, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	if (nocheck) {
		snprintf(buf, len, "<...>");
		return;
	}
	if (n == 0)
		return;
	at = append(buf, len, at, "<");
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			at = append(buf, len, at, ",");
		switch (o[i].kind) {
		case OPT_EOL:
			at = append(buf, len, at, "eol");
			break;
		case OPT_NOP:
			at = append(buf, len, at, "nop");
			break;
		case OPT_MSS:
			at = append(buf, len, at, "mss %u", o[i].mss);
			break;
		case OPT_WSCALE:
			at = append(buf, len, at, "wscale %u", o[i].wscale);
			break;
		case OPT_SACKOK:
			at = append(buf, len, at, "sackOK");
			break;
		case OPT_SACK:
			at = append(buf, len, at, "sack");
			for (unsigned b = 0; b < o[i].nsack; b++)
				at = append(buf, len, at, " %u:%u", o[i].sack[b][0],
					    o[i].sack[b][1]);
			break;
		case OPT_TS:
			at = append(buf, len, at, "TS val %u ecr %u", o[i].val, o[i].ecr);
			break;
		default:
			at = append(buf, len, at, "kind %u", o[i].kind);
			break;
		}
	}
	append(buf, len, at, ">");
}

void
d_seg_str(uint8_t flags, uint32_t seq, uint32_t len, bool has_ack, uint32_t ack, bool has_win,
	  uint16_t win, const char *opts, char *buf, size_t blen)
{
	char f[10];
	size_t at = 0;

	d_flags_str(flags, f);
	at = append(buf, blen, at, "%s %u:%u(%u)", f, seq, seq + len, len);
	if (has_ack)
		at = append(buf, blen, at, " ack %u", ack);
	if (has_win)
		at = append(buf, blen, at, " win %u", win);
	if (opts != NULL && opts[0] != '\0')
		append(buf, blen, at, " %s", opts);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
d_opts_decode(const uint8_t *p, unsigned len, struct d_tcpopt *o, unsigned max)
{
	unsigned i = 0, n = 0;

	while (i < len) {
		if (n == max)
			return -1;
		struct d_tcpopt *x = &o[n++];
		memset(x, 0, sizeof(*x));
		x->kind = p[i];
		if (p[i] == OPT_EOL || p[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
			return -1;
		unsigned olen = p[i + 1];
		const uint8_t *v = p + i + 2;
		switch (p[i]) {
		case OPT_MSS:
			if (olen != 4)
				return -1;
			x->mss = (uint16_t)(v[0] << 8 | v[1]);
			break;
		case OPT_WSCALE:
			if (olen != 3)
				return -1;
			x->wscale = v[0];
			break;
		case OPT_SACKOK:
			if (olen != 2)
				return -1;
			break;
		case OPT_SACK:
			if (olen < 10 || (olen - 2) % 8 != 0 || (olen - 2) / 8 > D_MAX_SACK)
				return -1;
			x->nsack = (uint8_t)((olen - 2) / 8);
			for (unsigned b = 0; b < x->nsack; b++) {
				x->sack[b][0] = rd32(v + 8 * b);
				x->sack[b][1] = rd32(v + 8 * b + 4);
			}
			break;
		case OPT_TS:
			if (olen != 10)
				return -1;
			x->val = rd32(v);
			x->ecr = rd32(v + 4);
			break;
		default:
			break;
		}
		i += olen;
	}
	return (int)n;
}

int
d_opts_encode(const struct d_tcpopt *o, unsigned n, uint8_t *p)
{
	unsigned at = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned need;
		switch (o[i].kind) {
		case OPT_EOL:
		case OPT_NOP:
			need = 1;
			break;
		case OPT_MSS:
			need = 4;
			break;
		case OPT_WSCALE:
			need = 3;
			break;
		case OPT_SACKOK:
			need = 2;
			break;
		case OPT_SACK:
			need = 2 + 8u * o[i].nsack;
			break;
		case OPT_TS:
			need = 10;
			break;
		default:
			return -1;
		}
		if (at + need > 40)
			return -1;
		uint8_t *q = p + at;
		q[0] = o[i].kind;
		if (need > 1)
			q[1] = (uint8_t)need;
		switch (o[i].kind) {
		case OPT_MSS:
			q[2] = (uint8_t)(o[i].mss >> 8);
			q[3] = (uint8_t)o[i].mss;
			break;
		case OPT_WSCALE:
			q[2] = o[i].wscale;
			break;
		case OPT_SACK:
			for (unsigned b = 0; b < o[i].nsack; b++) {
				wr32(q + 2 + 8 * b, o[i].sack[b][0]);
				wr32(q + 6 + 8 * b, o[i].sack[b][1]);
			}
			break;
		case OPT_TS:
			wr32(q + 2, o[i].val);
			wr32(q + 6, o[i].ecr);
			break;
		default:
			break;
		}
		at += need;
	}
	return (int)at;
}
