/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "td_tcp.h"

/*
 * The grammar is packetdrill's (parser.y) restricted to PACKETDRILL.md:
 *
 *   script  := option* [`init command`] event* [`cleanup command`]
 *   event   := time action
 *   time    := '+' T ['~' '+' T] | T ['~' T] | '*'
 *   action  := ('<' | '>') packet | ['...' T] name '(' args ')' '=' result
 *              [ERRNO '(' words ')'] ['(' words ')'] | `command` | %{ code }%
 *
 * Newlines mean nothing, as in packetdrill. Every construct packetdrill
 * knows but the dialect leaves out (PACKETDRILL.md 10) is reported as
 * "unsupported", anything else that does not parse as a "syntax error";
 * both stop the script with exit status 2 before it runs.
 */

struct expr {
	enum {
		EK_ELLIPSIS,
		EK_INT,
		EK_WORD,
		EK_STRING,
		EK_LIST,
		EK_BRACE,
		EK_OR,
		EK_ASSIGN,
		EK_CALL
	} k;
	int64_t i;
	const char *s;
	struct expr *l, *r;
	struct expr *item[8];
	int n;
};

#define MAX_EXPR 64

struct parser {
	const char *path;
	struct d_tok *t;
	size_t i;
	struct d_script *s;
	bool seen_io; /* a packet or system call was seen */
	struct expr ex[MAX_EXPR];
	int nex;
};

static int syntax(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int unsupported(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
report(struct parser *p, int line, const char *kind, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	d_msg(p->path, line, "%s: %s", kind, msg);
	return -1;
}

static int
syntax(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, line, "syntax error", fmt, ap);
	va_end(ap);
	return -1;
}

static int
unsupported(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, line, "unsupported", fmt, ap);
	va_end(ap);
	return -1;
}

static struct d_tok *
peek(struct parser *p)
{
	return &p->t[p->i];
}

static struct d_tok *
peek_at(struct parser *p, size_t k)
{
	size_t j = p->i;

	for (size_t m = 0; m < k && p->t[j].k != TK_EOF; m++)
		j++;
	return &p->t[j];
}

static struct d_tok *
next(struct parser *p)
{
	struct d_tok *t = &p->t[p->i];

	if (t->k != TK_EOF)
		p->i++;
	return t;
}

static bool
is_char(const struct d_tok *t, char c)
{
	return t->k == TK_CHAR && t->ch == c;
}

static bool
is_word(const struct d_tok *t, const char *w)
{
	return t->k == TK_WORD && strcmp(t->text, w) == 0;
}

/* "'foo'" or "end of file", for messages. */
static const char *
desc(const struct d_tok *t, char *buf, size_t len)
{
	switch (t->k) {
	case TK_EOF:
		return "end of file";
	case TK_CHAR:
		snprintf(buf, len, "'%c'", t->ch);
		return buf;
	case TK_ELLIPSIS:
		return "'...'";
	case TK_BQ:
		return "a `command`";
	case TK_CODE:
		return "a %{ }% block";
	case TK_STRING:
		return "a string";
	case TK_OPTION:
		snprintf(buf, len, "'--%s'", t->text);
		return buf;
	case TK_INT:
	case TK_FLOAT:
	case TK_WORD:
	case TK_ADDR:
		snprintf(buf, len, "'%s'", t->text);
		return buf;
	}
	return "?";
}

static int
expect_char(struct parser *p, char c, const char *where)
{
	char b[64];
	struct d_tok *t = peek(p);

	if (!is_char(t, c))
		return syntax(p, t->line, "expected '%c' %s, got %s", c, where,
			      desc(t, b, sizeof(b)));
	next(p);
	return 0;
}

/* An unsigned integer of at most @p max. */
static int
get_uint(struct parser *p, const char *what, int64_t max, int64_t *out)
{
	char b[64];
	struct d_tok *t = peek(p);

	if (t->k != TK_INT)
		return syntax(p, t->line, "expected %s, got %s", what, desc(t, b, sizeof(b)));
	if (t->ival < 0 || t->ival > max)
		return syntax(p, t->line, "%s %lld out of range (0..%lld)", what,
			      (long long)t->ival, (long long)max);
	*out = t->ival;
	next(p);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Times                                                                     */

/* Seconds as written ("1", ".25", "0.100") to microseconds, exactly. */
static int
get_time(struct parser *p, int64_t *us)
{
	char b[64];
	struct d_tok *t = peek(p);

	if (t->k == TK_INT && !t->hex) {
		if (t->ival < 0)
			return syntax(p, t->line, "negative time");
		if (t->ival > 1000000000)
			return syntax(p, t->line, "time %lld s out of range", (long long)t->ival);
		*us = t->ival * 1000000;
		next(p);
		return 0;
	}
	if (t->k == TK_FLOAT) {
		const char *s = t->text;
		if (*s == '-')
			return syntax(p, t->line, "negative time");
		int64_t sec = 0, frac = 0;
		int nd = 0;
		while (isdigit((unsigned char)*s)) {
			sec = sec * 10 + (*s++ - '0');
			if (sec > 1000000000)
				return syntax(p, t->line, "time %s out of range", t->text);
		}
		s++; /* '.' */
		for (; isdigit((unsigned char)*s); s++)
			if (nd < 6) {
				frac = frac * 10 + (*s - '0');
				nd++;
			}
		while (nd++ < 6)
			frac *= 10;
		*us = sec * 1000000 + frac;
		next(p);
		return 0;
	}
	return syntax(p, t->line, "expected a time, got %s", desc(t, b, sizeof(b)));
}

/* ------------------------------------------------------------------------ */
/* Packets (PACKETDRILL.md 4)                                                */

static int
parse_tcp_option(struct parser *p, struct d_pkt *pk)
{
	char b[64];
	struct d_tok *t = peek(p);
	int64_t v;

	if (pk->nopt == D_MAX_OPTS)
		return syntax(p, t->line, "TCP option list too long");
	struct d_tcpopt *o = &pk->opt[pk->nopt];
	memset(o, 0, sizeof(*o));
	if (t->k != TK_WORD)
		return syntax(p, t->line, "expected a TCP option, got %s", desc(t, b, sizeof(b)));
	if (is_word(t, "nop")) {
		o->kind = OPT_NOP;
		next(p);
	} else if (is_word(t, "eol")) {
		o->kind = OPT_EOL;
		next(p);
	} else if (is_word(t, "sackOK")) {
		o->kind = OPT_SACKOK;
		next(p);
	} else if (is_word(t, "mss")) {
		next(p);
		if (get_uint(p, "mss value", 65535, &v))
			return -1;
		o->kind = OPT_MSS;
		o->mss = (uint16_t)v;
	} else if (is_word(t, "wscale")) {
		next(p);
		if (get_uint(p, "window scale shift count", 255, &v))
			return -1;
		o->kind = OPT_WSCALE;
		o->wscale = (uint8_t)v;
	} else if (is_word(t, "sack")) {
		next(p);
		o->kind = OPT_SACK;
		while (peek(p)->k == TK_INT) {
			int64_t l, r;
			if (o->nsack == D_MAX_SACK)
				return syntax(p, t->line, "more than %d SACK blocks", D_MAX_SACK);
			if (get_uint(p, "SACK left edge", UINT32_MAX, &l) ||
			    expect_char(p, ':', "in a SACK block") ||
			    get_uint(p, "SACK right edge", UINT32_MAX, &r))
				return -1;
			o->sack[o->nsack][0] = (uint32_t)l;
			o->sack[o->nsack][1] = (uint32_t)r;
			o->nsack++;
		}
		if (o->nsack == 0)
			return syntax(p, t->line, "sack needs at least one block L:R");
	} else if (is_word(t, "TS")) {
		int64_t val, ecr;
		next(p);
		if (!is_word(peek(p), "val"))
			return syntax(p, t->line, "expected 'TS val V ecr E'");
		next(p);
		if (get_uint(p, "TS val", UINT32_MAX, &val))
			return -1;
		if (!is_word(peek(p), "ecr"))
			return syntax(p, t->line, "expected 'TS val V ecr E'");
		next(p);
		if (get_uint(p, "TS ecr", UINT32_MAX, &ecr))
			return -1;
		o->kind = OPT_TS;
		o->val = (uint32_t)val;
		o->ecr = (uint32_t)ecr;
	} else if (is_word(t, "md5") || is_word(t, "FO") || is_word(t, "FOEXP") ||
		   is_word(t, "ECN") || is_word(t, "exp") || is_word(t, "AccECN") ||
		   is_word(t, "accecn")) {
		return unsupported(p, t->line, "TCP option '%s'", t->text);
	} else {
		return syntax(p, t->line, "unknown TCP option '%s'", t->text);
	}
	pk->nopt++;
	return 0;
}

static int
parse_tcp_options(struct parser *p, struct d_pkt *pk, int line)
{
	uint8_t bytes[64];

	next(p); /* '<' */
	if (peek(p)->k == TK_ELLIPSIS) {
		next(p);
		if (expect_char(p, '>', "after '<...'"))
			return -1;
		if (!pk->out)
			return syntax(p, line,
				      "<...> for TCP options can only be used with "
				      "outbound packets");
		pk->nocheck = true;
		return 0;
	}
	for (;;) {
		if (parse_tcp_option(p, pk))
			return -1;
		if (is_char(peek(p), ',')) {
			next(p);
			continue;
		}
		if (expect_char(p, '>', "to end the TCP options"))
			return -1;
		break;
	}
	int n = d_opts_encode(pk->opt, pk->nopt, bytes);
	if (n < 0)
		return syntax(p, line, "TCP options longer than 40 bytes");
	if (n % 4 != 0)
		return syntax(p, line, "TCP options take %d bytes, not a multiple of 4", n);
	pk->optlen = (uint8_t)n;
	return 0;
}

static int
parse_flags(struct parser *p, struct d_pkt *pk)
{
	char b[64];
	struct d_tok *t = peek(p);

	if (is_char(t, '.')) {
		pk->flags = TD_TH_ACK;
		next(p);
	} else if (is_char(t, '-')) {
		pk->flags = 0;
		next(p);
	} else if (t->k == TK_WORD) {
		for (const char *c = t->text; *c; c++) {
			switch (*c) {
			case 'F':
				pk->flags |= TD_TH_FIN;
				break;
			case 'S':
				pk->flags |= TD_TH_SYN;
				break;
			case 'R':
				pk->flags |= TD_TH_RST;
				break;
			case 'P':
				pk->flags |= TD_TH_PSH;
				break;
			case 'E':
			case 'W':
			case 'A':
			case 'U':
				return unsupported(p, t->line, "TCP flag '%c' (flags E W A U)", *c);
			default:
				if (isdigit((unsigned char)*c))
					return unsupported(p, t->line, "AccECN flags '%s'",
							   t->text);
				return syntax(p, t->line, "bad TCP flags '%s'", t->text);
			}
		}
		next(p);
		if (is_char(peek(p), '.')) {
			pk->flags |= TD_TH_ACK;
			next(p);
		}
	} else if (t->k == TK_FLOAT) {
		return unsupported(p, t->line, "AccECN flags '%s'", t->text);
	} else {
		return syntax(p, t->line, "expected TCP flags, got %s", desc(t, b, sizeof(b)));
	}
	if (peek(p)->k == TK_FLOAT)
		return unsupported(p, t->line, "AccECN ACE field '%s'", peek(p)->text);
	return 0;
}

static int
parse_packet(struct parser *p, struct d_event *e)
{
	struct d_pkt *pk = &e->u.pkt;
	struct d_tok *t;
	int64_t seq, end, len, v;

	memset(pk, 0, sizeof(*pk));
	pk->out = is_char(next(p), '>');
	t = peek(p);
	if (is_word(t, "ipv4") || is_word(t, "ipv6") || is_word(t, "gre") || is_word(t, "GREv0") ||
	    is_word(t, "mpls"))
		return unsupported(p, t->line, "IP/encapsulation prefix '%s'", t->text);
	if (is_char(t, '(') || is_char(t, '['))
		return unsupported(p, t->line, "IP header fields (tos, ECN, flowlabel, ttl)");
	if (t->k == TK_INT && is_char(peek_at(p, 1), '>'))
		return unsupported(p, t->line, "explicit ports");
	if (is_word(t, "udp"))
		return unsupported(p, t->line, "UDP packets");
	if (is_word(t, "icmp"))
		return unsupported(p, t->line, "ICMP packets");
	if (parse_flags(p, pk))
		return -1;
	if (get_uint(p, "TCP sequence number", UINT32_MAX, &seq) ||
	    expect_char(p, ':', "in SEQ:END(LEN)") ||
	    get_uint(p, "TCP end sequence number", UINT32_MAX, &end) ||
	    expect_char(p, '(', "in SEQ:END(LEN)") ||
	    get_uint(p, "TCP payload size", 65535, &len) || expect_char(p, ')', "in SEQ:END(LEN)"))
		return -1;
	if ((uint32_t)(seq + len) != (uint32_t)end)
		return syntax(p, e->line,
			      "inconsistent TCP sequence numbers and payload size "
			      "(%lld + %lld != %lld)",
			      (long long)seq, (long long)len, (long long)end);
	pk->seq = (uint32_t)seq;
	pk->len = (uint32_t)len;
	if (is_word(peek(p), "ack")) {
		next(p);
		if (get_uint(p, "TCP ack number", UINT32_MAX, &v))
			return -1;
		pk->ack = (uint32_t)v;
		pk->has_ack = true;
	}
	if (is_word(peek(p), "win")) {
		next(p);
		if (get_uint(p, "TCP window", 65535, &v))
			return -1;
		pk->win = (uint16_t)v;
		pk->has_win = true;
	}
	if (is_word(peek(p), "urg"))
		return unsupported(p, peek(p)->line, "urgent pointer (urg)");
	if (is_char(peek(p), '<') && parse_tcp_options(p, pk, e->line))
		return -1;
	if (is_char(peek(p), '{'))
		return unsupported(p, peek(p)->line, "fuzzing parameters");
	if (!pk->out && !pk->has_win)
		return syntax(p, e->line, "an inbound packet needs 'win W'");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* System calls (PACKETDRILL.md 8)                                           */

static struct expr *
new_expr(struct parser *p, int kind)
{
	if (p->nex == MAX_EXPR)
		return NULL;
	struct expr *x = &p->ex[p->nex++];
	memset(x, 0, sizeof(*x));
	x->k = kind;
	return x;
}

static struct expr *parse_expr(struct parser *p);

/* Items of [ ], { } or a call's ( ), up to @p close. */
static int
parse_items(struct parser *p, struct expr *x, char close)
{
	next(p); /* the opening character */
	if (is_char(peek(p), close)) {
		next(p);
		return 0;
	}
	for (;;) {
		struct expr *it = parse_expr(p);
		if (it == NULL)
			return -1;
		if (x->n == (int)(sizeof(x->item) / sizeof(x->item[0])))
			return syntax(p, peek(p)->line, "too many items in a list");
		x->item[x->n++] = it;
		if (is_char(peek(p), ',')) {
			next(p);
			continue;
		}
		return expect_char(p, close, "to end a list");
	}
}

static struct expr *
parse_primary(struct parser *p)
{
	char b[64];
	struct d_tok *t = peek(p);
	struct expr *x;

	switch (t->k) {
	case TK_ELLIPSIS:
		next(p);
		return new_expr(p, EK_ELLIPSIS);
	case TK_INT:
		x = new_expr(p, EK_INT);
		if (x != NULL)
			x->i = t->ival;
		next(p);
		return x;
	case TK_STRING:
		x = new_expr(p, EK_STRING);
		if (x != NULL)
			x->s = t->text;
		next(p);
		if (peek(p)->k == TK_ELLIPSIS)
			next(p);
		return x;
	case TK_WORD:
		next(p);
		if (is_char(peek(p), '(')) {
			x = new_expr(p, EK_CALL);
			if (x == NULL || parse_items(p, x, ')'))
				return NULL;
			x->s = t->text;
			return x;
		}
		if (is_char(peek(p), '=')) {
			next(p);
			x = new_expr(p, EK_ASSIGN);
			if (x == NULL)
				return NULL;
			x->s = t->text;
			x->r = parse_expr(p);
			return x->r != NULL ? x : NULL;
		}
		x = new_expr(p, EK_WORD);
		if (x != NULL)
			x->s = t->text;
		return x;
	case TK_CHAR:
		if (t->ch == '[' || t->ch == '{') {
			x = new_expr(p, t->ch == '[' ? EK_LIST : EK_BRACE);
			if (x == NULL || parse_items(p, x, t->ch == '[' ? ']' : '}'))
				return NULL;
			return x;
		}
		break;
	default:
		break;
	}
	syntax(p, t->line, "expected an argument, got %s", desc(t, b, sizeof(b)));
	return NULL;
}

static struct expr *
parse_expr(struct parser *p)
{
	struct expr *x = parse_primary(p);

	while (x != NULL && is_char(peek(p), '|')) {
		next(p);
		struct expr *o = new_expr(p, EK_OR);
		if (o == NULL)
			return NULL;
		o->l = x;
		o->r = parse_primary(p);
		if (o->r == NULL)
			return NULL;
		x = o;
	}
	if (x == NULL && p->nex == MAX_EXPR)
		syntax(p, peek(p)->line, "expression too complex");
	return x;
}

/* The value of an integer expression: numbers, symbols and '|'. */
static int
eval(struct parser *p, int line, const struct expr *x, int64_t *v)
{
	int64_t a, b;

	switch (x->k) {
	case EK_INT:
		*v = x->i;
		return 0;
	case EK_WORD:
		if (!d_symbol(x->s, v))
			return unsupported(p, line, "unknown symbol '%s'", x->s);
		return 0;
	case EK_OR:
		if (eval(p, line, x->l, &a) || eval(p, line, x->r, &b))
			return -1;
		*v = a | b;
		return 0;
	case EK_CALL:
		return unsupported(p, line, "expression '%s(...)'", x->s);
	case EK_ELLIPSIS:
	case EK_STRING:
	case EK_LIST:
	case EK_BRACE:
	case EK_ASSIGN:
		break;
	}
	return syntax(p, line, "expected an integer argument");
}

/* "[V]" as packetdrill writes socket option values, or a bare V. */
static int
eval_boxed(struct parser *p, int line, const struct expr *x, int64_t *v)
{
	if (x->k == EK_LIST) {
		if (x->n != 1)
			return syntax(p, line, "expected [value]");
		return eval(p, line, x->item[0], v);
	}
	return eval(p, line, x, v);
}

static void
render(const struct expr *x, char *buf, size_t len)
{
	size_t at = strlen(buf);

	if (at + 1 >= len)
		return;
	switch (x->k) {
	case EK_ELLIPSIS:
		snprintf(buf + at, len - at, "...");
		return;
	case EK_INT:
		snprintf(buf + at, len - at, "%lld", (long long)x->i);
		return;
	case EK_WORD:
		snprintf(buf + at, len - at, "%s", x->s);
		return;
	case EK_STRING:
		snprintf(buf + at, len - at, "\"%s\"", x->s);
		return;
	case EK_OR:
		render(x->l, buf, len);
		snprintf(buf + strlen(buf), len - strlen(buf), "|");
		render(x->r, buf, len);
		return;
	case EK_ASSIGN:
		snprintf(buf + at, len - at, "%s=", x->s);
		render(x->r, buf, len);
		return;
	case EK_LIST:
	case EK_BRACE:
	case EK_CALL:
		if (x->k == EK_CALL)
			snprintf(buf + at, len - at, "%s(", x->s);
		else
			snprintf(buf + at, len - at, "%c", x->k == EK_LIST ? '[' : '{');
		for (int i = 0; i < x->n; i++) {
			if (i > 0)
				snprintf(buf + strlen(buf), len - strlen(buf), ", ");
			render(x->item[i], buf, len);
		}
		snprintf(buf + strlen(buf), len - strlen(buf), "%c",
			 x->k == EK_LIST    ? ']'
			 : x->k == EK_BRACE ? '}'
					    : ')');
		return;
	}
}

static const struct {
	const char *name;
	enum d_sc sc;
	int nargs; /* -1: 2 or 3 (fcntl) */
	bool may_block;
} calls[] = {
	{"socket", SC_SOCKET, 3, false},
	{"bind", SC_BIND, 3, false},
	{"listen", SC_LISTEN, 2, false},
	{"accept", SC_ACCEPT, 3, true},
	{"connect", SC_CONNECT, 3, true},
	{"read", SC_READ, 3, true},
	{"recv", SC_RECV, 4, true},
	{"write", SC_WRITE, 3, true},
	{"send", SC_SEND, 4, true},
	{"shutdown", SC_SHUTDOWN, 2, false},
	{"close", SC_CLOSE, 1, false},
	{"fcntl", SC_FCNTL, -1, false},
	{"setsockopt", SC_SETSOCKOPT, 5, false},
	{"getsockopt", SC_GETSOCKOPT, 5, false},
};

static int
need_ellipsis(struct parser *p, int line, const struct expr *x, const char *what)
{
	if (x->k != EK_ELLIPSIS)
		return unsupported(p, line, "%s other than '...'", what);
	return 0;
}

/* A socklen argument: '...', N or [N]; its value is not checked. */
static int
check_len(struct parser *p, int line, const struct expr *x)
{
	int64_t v;

	if (x->k == EK_ELLIPSIS)
		return 0;
	return eval_boxed(p, line, x, &v);
}

static int
check_sockopt(struct parser *p, int line, struct d_call *c, struct expr **a)
{
	int64_t level, opt;
	bool set = c->sc == SC_SETSOCKOPT;

	if (eval(p, line, a[1], &level) || eval(p, line, a[2], &opt) || check_len(p, line, a[4]))
		return -1;
	c->a[0] = level;
	c->a[1] = opt;
	bool sol_socket = level == 1, sol_tcp = level == 6;
	bool ok = (sol_socket && (opt == 2 || (opt == 13 && set) || (opt == 4 && !set))) ||
		  (sol_tcp && (opt == 1 || opt == 18));
	if (!ok)
		return unsupported(p, line,
				   "%s level %lld option %lld (supported: SO_REUSEADDR, "
				   "SO_LINGER (set), SO_ERROR (get), TCP_NODELAY, "
				   "TCP_USER_TIMEOUT)",
				   c->name, (long long)level, (long long)opt);
	if (opt == 13 && sol_socket) {
		/* SO_LINGER {onoff=X, linger=Y} */
		const struct expr *v = a[3];
		int64_t onoff = -1, linger = -1;
		if (v->k != EK_BRACE || v->n != 2)
			return syntax(p, line, "expected {onoff=X, linger=Y}");
		for (int i = 0; i < 2; i++) {
			const struct expr *it = v->item[i];
			int64_t x;
			if (it->k != EK_ASSIGN || eval(p, line, it->r, &x))
				return syntax(p, line, "expected {onoff=X, linger=Y}");
			if (strcmp(it->s, "onoff") == 0)
				onoff = x;
			else if (strcmp(it->s, "linger") == 0)
				linger = x;
			else
				return syntax(p, line, "unknown linger field '%s'", it->s);
		}
		if (onoff < 0 || linger < 0)
			return syntax(p, line, "expected {onoff=X, linger=Y}");
		if (onoff != 0 && linger != 0)
			return unsupported(p, line, "SO_LINGER with onoff=1 and linger > 0");
		c->a[2] = onoff;
		c->a[3] = linger;
		return 0;
	}
	return eval_boxed(p, line, a[3], &c->a[2]);
}

/* Resolve and check the arguments of a call (see d_call.a in drill.h). */
static int
check_call(struct parser *p, int line, struct d_call *c, struct expr **a, int n)
{
	int64_t v;

	c->fd = -1;
	if (c->sc != SC_SOCKET) {
		if (a[0]->k != EK_INT || a[0]->i < 0 || a[0]->i > 1000000)
			return syntax(p, line, "%s: expected a file descriptor", c->name);
		c->fd = (int)a[0]->i;
	}
	switch (c->sc) {
	case SC_SOCKET:
		if (a[0]->k == EK_ELLIPSIS) {
			c->a[0] = 0;
		} else {
			if (eval(p, line, a[0], &v))
				return -1;
			if (v != 2 && v != 10)
				return unsupported(p, line, "socket domain %lld", (long long)v);
			c->a[0] = v;
		}
		if (eval(p, line, a[1], &c->a[1]) || eval(p, line, a[2], &c->a[2]))
			return -1;
		if ((c->a[1] & ~(int64_t)(04000 | 02000000)) != 1)
			return unsupported(p, line, "socket type other than SOCK_STREAM");
		if (c->a[2] != 6 && c->a[2] != 0)
			return unsupported(p, line, "socket protocol other than IPPROTO_TCP");
		return 0;
	case SC_BIND:
	case SC_ACCEPT:
	case SC_CONNECT:
		if (need_ellipsis(p, line, a[1], "an address"))
			return -1;
		if (c->sc == SC_ACCEPT)
			return need_ellipsis(p, line, a[2], "an address length");
		return check_len(p, line, a[2]);
	case SC_LISTEN:
		return eval(p, line, a[1], &c->a[0]);
	case SC_READ:
	case SC_WRITE:
	case SC_RECV:
	case SC_SEND:
		if (need_ellipsis(p, line, a[1], "a buffer"))
			return -1;
		if (a[2]->k != EK_INT || a[2]->i < 0 || a[2]->i > (1 << 30))
			return syntax(p, line, "%s: expected a byte count", c->name);
		c->a[0] = a[2]->i;
		c->a[1] = 0;
		if (n == 4) {
			if (eval(p, line, a[3], &c->a[1]))
				return -1;
			int64_t allowed = c->sc == SC_RECV ? (0x2 | 0x40) : (0x40 | 0x4000);
			if (c->a[1] & ~allowed)
				return unsupported(p, line, "%s flags 0x%llx (supported: %s)",
						   c->name, (unsigned long long)c->a[1],
						   c->sc == SC_RECV ? "MSG_PEEK, MSG_DONTWAIT"
								    : "MSG_DONTWAIT, MSG_NOSIGNAL");
		}
		return 0;
	case SC_SHUTDOWN:
		return eval(p, line, a[1], &c->a[0]);
	case SC_CLOSE:
		return 0;
	case SC_FCNTL:
		if (eval(p, line, a[1], &c->a[0]))
			return -1;
		if (c->a[0] == 3) { /* F_GETFL */
			if (n != 2)
				return syntax(p, line,
					      "fcntl(FD, F_GETFL) takes no third argument");
			return 0;
		}
		if (c->a[0] != 4)
			return unsupported(p, line, "fcntl command %lld (F_GETFL, F_SETFL only)",
					   (long long)c->a[0]);
		if (n != 3)
			return syntax(p, line, "fcntl(FD, F_SETFL, FLAGS) needs FLAGS");
		if (eval(p, line, a[2], &c->a[1]))
			return -1;
		if (c->a[1] & ~(int64_t)(3 | 04000))
			return unsupported(p, line, "fcntl flags 0x%llx (O_RDWR, O_NONBLOCK only)",
					   (unsigned long long)c->a[1]);
		return 0;
	case SC_SETSOCKOPT:
	case SC_GETSOCKOPT:
		return check_sockopt(p, line, c, a);
	}
	return 0;
}

/* '(' WORD+ ')': the text packetdrill requires after an errno. */
static int
parse_note(struct parser *p)
{
	char b[64];
	int words = 0;

	next(p); /* '(' */
	while (peek(p)->k == TK_WORD) {
		next(p);
		words++;
	}
	if (words == 0)
		return syntax(p, peek(p)->line, "expected words in the note, got %s",
			      desc(peek(p), b, sizeof(b)));
	return expect_char(p, ')', "to end the note");
}

static int
parse_call(struct parser *p, struct d_event *e, bool blocking, int64_t end_us)
{
	struct d_call *c = &e->u.call;
	struct d_tok *name = next(p);
	struct expr args = {.k = EK_CALL};
	char b[64];
	int k;

	memset(c, 0, sizeof(*c));
	p->nex = 0;
	for (k = 0; k < (int)(sizeof(calls) / sizeof(calls[0])); k++)
		if (strcmp(calls[k].name, name->text) == 0)
			break;
	if (parse_items(p, &args, ')'))
		return -1;
	if (k == (int)(sizeof(calls) / sizeof(calls[0])))
		return unsupported(p, e->line, "system call '%s'", name->text);
	c->sc = calls[k].sc;
	c->name = calls[k].name;
	c->blocking = blocking;
	c->end_us = end_us;
	if (blocking && !calls[k].may_block)
		return unsupported(p, e->line, "%s cannot be a blocking call (T...E)", c->name);
	if (calls[k].nargs >= 0 ? args.n != calls[k].nargs : (args.n < 2 || args.n > 3))
		return syntax(p, e->line, "%s takes %d arguments, got %d", c->name,
			      calls[k].nargs >= 0 ? calls[k].nargs : 3, args.n);
	args.s = c->name;
	render(&args, c->text, sizeof(c->text));

	if (expect_char(p, '=', "before the expected result"))
		return -1;
	struct d_tok *t = peek(p);
	if (t->k != TK_INT)
		return syntax(p, t->line, "expected the result of %s, got %s", c->name,
			      desc(t, b, sizeof(b)));
	c->ret = t->ival;
	next(p);
	if (peek(p)->k == TK_WORD) {
		int64_t err;
		t = next(p);
		if (!d_symbol(t->text, &err) || t->text[0] != 'E')
			return syntax(p, t->line, "unknown errno '%s'", t->text);
		c->err = (int)err;
		if (!is_char(peek(p), '('))
			return syntax(p, t->line,
				      "an errno must be followed by its text, e.g. "
				      "%s (...)",
				      t->text);
		if (parse_note(p))
			return -1;
	}
	if (is_char(peek(p), '(') && parse_note(p))
		return -1;
	if (c->err != 0 && c->ret != -1)
		return syntax(p, e->line, "an errno goes with the result -1");
	struct expr *a[8];
	for (int i = 0; i < args.n; i++)
		a[i] = args.item[i];
	return check_call(p, e->line, c, a, args.n);
}

/* ------------------------------------------------------------------------ */
/* Commands (PACKETDRILL.md 9) and code blocks                               */

int
d_sysctl_map(const char *name, const char *value, char *field, size_t flen, char *out, size_t olen,
	     char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (*value == '\0' || *value == '-' || *end != '\0' || errno != 0 || v > UINT32_MAX) {
		snprintf(err, errlen, "net.ipv4.%s: '%s' is not a supported value", name, value);
		return -1;
	}
	const char *f = NULL;
	unsigned long long x = v;
	if (strcmp(name, "tcp_fin_timeout") == 0) {
		f = "fin_wait2_timeout_ms";
		x = v * 1000;
	} else if (strcmp(name, "tcp_rfc1337") == 0) {
		f = "rfc1337";
	} else if (strcmp(name, "tcp_timestamps") == 0) {
		/* 2 is timestamps without the random offset: the offset is
		 * invisible to scripts (PACKETDRILL.md 5), so 2 acts as 1. */
		f = "timestamps";
		x = v == 2 ? 1 : v;
	} else if (strcmp(name, "tcp_sack") == 0) {
		f = "sack";
	} else if (strcmp(name, "tcp_window_scaling") == 0) {
		f = "window_scaling";
	} else if (strcmp(name, "tcp_tw_reuse") == 0) {
		/* 2 = loopback only: never here. */
		f = "tw_reuse";
		x = v == 2 ? 0 : v;
	} else if (strcmp(name, "tcp_max_tw_buckets") == 0) {
		f = "tw_max";
		if (v == 0) {
			snprintf(err, errlen,
				 "net.ipv4.tcp_max_tw_buckets=0 (no TIME-WAIT) is not "
				 "supported");
			return -1;
		}
	} else if (strcmp(name, "tcp_challenge_ack_limit") == 0) {
		f = "challenge_ack_limit";
		if (v == 0) {
			snprintf(err, errlen,
				 "net.ipv4.tcp_challenge_ack_limit=0 (no challenge "
				 "ACKs) is not supported");
			return -1;
		}
		if (v >= 1000000000)
			x = 0; /* no cap */
	} else if (strcmp(name, "tcp_invalid_ratelimit") == 0) {
		f = "invalid_ratelimit_ms";
	} else if (strcmp(name, "tcp_retries2") == 0) {
		f = "retries2";
	} else if (strcmp(name, "tcp_orphan_retries") == 0) {
		f = "orphan_retries";
		x = v == 0 ? 8 : v;
	} else if (strcmp(name, "tcp_rto_min_us") == 0) {
		f = "rto_min_ms";
		if (v % 1000 != 0 || v > 1000000) {
			snprintf(err, errlen,
				 "net.ipv4.tcp_rto_min_us=%llu: only whole "
				 "milliseconds up to the initial RTO (1 s) are supported",
				 v);
			return -1;
		}
		x = v / 1000;
	} else {
		snprintf(err, errlen, "sysctl net.ipv4.%s is not supported", name);
		return -1;
	}
	snprintf(field, flen, "%s", f);
	snprintf(out, olen, "%llu", x);
	return 0;
}

/* Any path ending in defaults.sh, without arguments or shell operators;
 * "$(dirname $0)/defaults.sh" is fine. */
static bool
is_defaults_sh(const char *c)
{
	size_t n = strlen(c), k = strlen("defaults.sh");
	int depth = 0;

	if (n < k || strcmp(c + n - k, "defaults.sh") != 0)
		return false;
	if (n > k && c[n - k - 1] != '/')
		return false;
	for (const char *q = c; *q; q++) {
		if (q[0] == '$' && q[1] == '(') {
			depth++;
			q++;
			continue;
		}
		if (*q == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (strchr(";&|<>`\"'\n", *q) != NULL)
			return false;
		if (isspace((unsigned char)*q) && depth == 0)
			return false;
	}
	return depth == 0;
}

static int
parse_command(struct parser *p, int line, const char *text, struct d_cmd *cmd)
{
	char buf[1024], *w[64];
	int nw = 0;

	memset(cmd, 0, sizeof(*cmd));
	while (isspace((unsigned char)*text))
		text++;
	snprintf(buf, sizeof(buf), "%s", text);
	for (size_t n = strlen(buf); n > 0 && isspace((unsigned char)buf[n - 1]); n--)
		buf[n - 1] = '\0';
	if (is_defaults_sh(buf)) {
		cmd->defaults = true;
		return 0;
	}
	for (char *q = strtok(buf, " \t\n"); q != NULL && nw < 64; q = strtok(NULL, " \t\n"))
		w[nw++] = q;
	if (nw == 0 || strcmp(w[0], "sysctl") != 0)
		return unsupported(p, line, "command `%s` (only sysctl and defaults.sh)", text);
	if (p->seen_io)
		return syntax(p, line, "sysctl after the first packet or system call");
	for (int i = 1; i < nw; i++) {
		char *a = w[i];
		if (a[0] == '-') {
			if (strcmp(a, "-q") && strcmp(a, "-w") && strcmp(a, "-qw") &&
			    strcmp(a, "-wq"))
				return unsupported(p, line, "sysctl option '%s'", a);
			continue;
		}
		char *eq = strchr(a, '=');
		if (eq == NULL)
			return unsupported(p, line, "sysctl '%s' without a value", a);
		*eq = '\0';
		for (char *s = a; *s; s++)
			if (*s == '/')
				*s = '.';
		if (strncmp(a, "net.ipv4.", 9) != 0)
			return unsupported(p, line, "sysctl %s", a);
		if (cmd->n == D_MAX_SYSCTL)
			return syntax(p, line, "too many sysctl settings on one line");
		char err[256], *f = cmd->set[cmd->n].field, *v = cmd->set[cmd->n].value;
		if (d_sysctl_map(a + 9, eq + 1, f, sizeof(cmd->set[0].field), v,
				 sizeof(cmd->set[0].value), err, sizeof(err)))
			return unsupported(p, line, "%s", err);
		/* The ranges are lib/tcp's (TD_TCP_CONFIG_MAP). */
		struct td_tcp_config scratch;
		td_tcp_config_defaults(&scratch);
		if (td_tcp_config_set(&scratch, f, v, err, sizeof(err)) != 0)
			return unsupported(p, line, "sysctl %s=%s: %s", a, eq + 1, err);
		snprintf(cmd->set[cmd->n].sysctl, sizeof(cmd->set[0].sysctl), "%s", a);
		cmd->n++;
	}
	if (cmd->n == 0)
		return unsupported(p, line, "sysctl without settings");
	return 0;
}

static const char *
skip_blank(const char *q)
{
	while (*q == ' ' || *q == '\t' || *q == '\r')
		q++;
	return q;
}

static bool
literal(const char **q, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(*q, w, n) != 0)
		return false;
	*q += n;
	return true;
}

/* One statement: assert [(]tcpi_state == STATE[)] [, tcpi_state]. */
static int
parse_assert(const char *q, char *name, size_t nlen)
{
	size_t n = 0;
	bool paren = false;

	q = skip_blank(q);
	if (!literal(&q, "assert") || (*q != ' ' && *q != '\t' && *q != '('))
		return -1;
	q = skip_blank(q);
	if (*q == '(') {
		paren = true;
		q = skip_blank(q + 1);
	}
	if (!literal(&q, "tcpi_state"))
		return -1;
	q = skip_blank(q);
	if (!literal(&q, "=="))
		return -1;
	q = skip_blank(q);
	while ((isalnum((unsigned char)q[n]) || q[n] == '_') && n + 1 < nlen) {
		name[n] = q[n];
		n++;
	}
	name[n] = '\0';
	if (n == 0)
		return -1;
	q = skip_blank(q + n);
	if (paren) {
		if (*q != ')')
			return -1;
		q = skip_blank(q + 1);
	}
	if (*q == ',') {
		q = skip_blank(q + 1);
		if (!literal(&q, "tcpi_state"))
			return -1;
		q = skip_blank(q);
	}
	return *q == '\0' ? 0 : -1;
}

/* %{ assert tcpi_state == STATE [, tcpi_state] }%, one or more lines. */
static int
parse_code(struct parser *p, int line, const char *text, struct d_code *code)
{
	char buf[2048];
	int l = line;

	memset(code, 0, sizeof(*code));
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *s = buf, *nxt; s != NULL; s = nxt) {
		nxt = strpbrk(s, "\n;");
		bool nl = nxt != NULL && *nxt == '\n';
		if (nxt != NULL)
			*nxt++ = '\0';
		if (*skip_blank(s) != '\0') {
			char name[64];
			int64_t v;
			if (parse_assert(s, name, sizeof(name)) != 0)
				return unsupported(p, l,
						   "%%{ }%% other than 'assert tcpi_state == "
						   "STATE'");
			if (isdigit((unsigned char)name[0]))
				v = strtoll(name, NULL, 10);
			else if (strncmp(name, "TCP_", 4) != 0 || !d_symbol(name, &v))
				return syntax(p, l, "unknown TCP state '%s'", name);
			if (d_state_name((int)v) == NULL)
				return syntax(p, l, "unknown TCP state '%s'", name);
			if (code->n == D_MAX_ASSERT)
				return syntax(p, l, "too many assertions in one block");
			code->state[code->n++] = (int)v;
		}
		l += nl;
	}
	if (code->n == 0)
		return unsupported(p, line, "empty %%{ }%% block");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Script                                                                    */

static struct d_event *
new_event(struct parser *p, int line)
{
	struct d_script *s = p->s;

	if (s->nev == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
		if (s->ev == NULL)
			abort();
	}
	struct d_event *e = &s->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	e->line = line;
	e->tk = DT_NONE;
	return e;
}

static int
parse_event(struct parser *p)
{
	char b[64];
	struct d_tok *t = peek(p);
	struct d_event *e = new_event(p, t->line);

	if (is_char(t, '+')) {
		next(p);
		if (get_time(p, &e->t))
			return -1;
		e->tk = DT_REL;
		if (is_char(peek(p), '~')) {
			next(p);
			if (expect_char(p, '+', "in a relative range +A~+B") ||
			    get_time(p, &e->t_end))
				return -1;
			e->tk = DT_REL_RANGE;
		}
	} else if (t->k == TK_INT || t->k == TK_FLOAT) {
		if (get_time(p, &e->t))
			return -1;
		e->tk = DT_ABS;
		if (is_char(peek(p), '~')) {
			next(p);
			if (get_time(p, &e->t_end))
				return -1;
			e->tk = DT_ABS_RANGE;
		}
	} else if (is_char(t, '*')) {
		next(p);
		e->tk = DT_ANY;
	} else {
		return syntax(p, t->line, "expected an event time, got %s", desc(t, b, sizeof(b)));
	}
	if ((e->tk == DT_ABS_RANGE || e->tk == DT_REL_RANGE) && e->t_end < e->t)
		return syntax(p, e->line, "time range is backwards");

	t = peek(p);
	if (is_char(t, '<') || is_char(t, '>')) {
		e->kind = DE_PKT;
		p->seen_io = true;
		if (parse_packet(p, e))
			return -1;
	} else if (t->k == TK_ELLIPSIS || (t->k == TK_WORD && is_char(peek_at(p, 1), '('))) {
		int64_t end = 0;
		bool blocking = t->k == TK_ELLIPSIS;
		if (blocking) {
			next(p);
			if (get_time(p, &end))
				return -1;
			if (peek(p)->k != TK_WORD || !is_char(peek_at(p, 1), '('))
				return syntax(p, peek(p)->line,
					      "expected a system call after '...'");
		}
		e->kind = DE_CALL;
		p->seen_io = true;
		if (parse_call(p, e, blocking, end))
			return -1;
		if (blocking && e->tk == DT_ABS && end < e->t)
			return syntax(p, e->line, "a blocking call cannot end before it starts");
	} else if (t->k == TK_BQ) {
		e->kind = DE_CMD;
		next(p);
		if (parse_command(p, e->line, t->text, &e->u.cmd))
			return -1;
	} else if (t->k == TK_CODE) {
		e->kind = DE_CODE;
		next(p);
		if (parse_code(p, t->line, t->text, &e->u.code))
			return -1;
	} else if (t->k == TK_WORD) {
		return unsupported(p, t->line, "event '%s'", t->text);
	} else {
		return syntax(p, t->line,
			      "expected a packet, system call, command or %%{ }%%, "
			      "got %s",
			      desc(t, b, sizeof(b)));
	}
	if (e->tk == DT_ANY && !(e->kind == DE_PKT && e->u.pkt.out))
		return syntax(p, e->line, "event time * can only be used with outbound packets");
	if ((e->tk == DT_ABS_RANGE || e->tk == DT_REL_RANGE) &&
	    !(e->kind == DE_PKT && e->u.pkt.out))
		return syntax(p, e->line,
			      "event time range can only be used with outbound "
			      "packets");
	return 0;
}

static int
parse_all(struct parser *p)
{
	char err[256], b[64];

	while (peek(p)->k == TK_OPTION) {
		struct d_tok *o = next(p);
		const char *value = NULL;
		if (is_char(peek(p), '=')) {
			next(p);
			struct d_tok *v = next(p);
			if (v->k != TK_INT && v->k != TK_WORD && v->k != TK_FLOAT &&
			    v->k != TK_STRING && v->k != TK_ADDR)
				return syntax(p, o->line, "expected a value for --%s, got %s",
					      o->text, desc(v, b, sizeof(b)));
			value = v->text;
		}
		if (strcmp(o->text, "define") == 0 || strcmp(o->text, "D") == 0)
			return unsupported(p, o->line, "--%s", o->text);
		if (d_opt_set(&p->s->opts, o->text, value, err, sizeof(err)))
			return unsupported(p, o->line, "%s", err);
	}
	if (peek(p)->k == TK_BQ) {
		struct d_tok *t = next(p);
		struct d_event *e = new_event(p, t->line);
		e->kind = DE_CMD;
		if (parse_command(p, t->line, t->text, &e->u.cmd))
			return -1;
	}
	while (peek(p)->k != TK_EOF) {
		struct d_tok *t = peek(p);
		if (t->k == TK_OPTION)
			return syntax(p, t->line, "option --%s after the first event", t->text);
		if (t->k == TK_BQ) {
			/* packetdrill's cleanup command: last in the script. */
			next(p);
			struct d_event *e = new_event(p, t->line);
			e->kind = DE_CMD;
			if (parse_command(p, t->line, t->text, &e->u.cmd))
				return -1;
			if (!e->u.cmd.defaults)
				return unsupported(p, t->line, "cleanup command");
			if (peek(p)->k != TK_EOF)
				return syntax(p, peek(p)->line, "expected an event time, got %s",
					      desc(peek(p), b, sizeof(b)));
			break;
		}
		if (parse_event(p))
			return -1;
	}
	bool timed = false;
	for (size_t i = 0; i < p->s->nev; i++)
		timed |= p->s->ev[i].tk != DT_NONE;
	if (!timed)
		return syntax(p, peek(p)->line, "the script has no events");
	for (size_t i = 0; i < p->s->nev; i++) {
		const struct d_event *e = &p->s->ev[i];
		if (e->tk == DT_NONE)
			continue;
		if (e->tk != DT_REL && !(e->tk == DT_ABS && e->t == 0))
			return syntax(p, e->line, "the first event must be at time 0");
		break;
	}
	return 0;
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 16384;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		snprintf(err, errlen, "not a text file (NUL byte)");
		free(buf);
		return NULL;
	}
	return buf;
}

int
d_parse_file(const char *path, struct d_script *s)
{
	char err[256];
	struct d_tok *toks;
	size_t ntoks;

	memset(s, 0, sizeof(*s));
	s->path = path;
	d_opts_defaults(&s->opts);
	char *src = read_file(path, err, sizeof(err));
	if (src == NULL) {
		d_msg(path, 0, "%s", err);
		return D_BAD;
	}
	int rc = d_lex(path, src, &toks, &ntoks);
	free(src);
	if (rc != 0)
		return D_BAD;
	struct parser *p = calloc(1, sizeof(*p));
	if (p == NULL)
		abort();
	p->path = path;
	p->t = toks;
	p->s = s;
	rc = parse_all(p);
	free(p);
	d_toks_free(toks, ntoks);
	return rc == 0 ? D_PASS : D_BAD;
}

void
d_script_free(struct d_script *s)
{
	free(s->ev);
	s->ev = NULL;
	s->nev = s->cap = 0;
}
