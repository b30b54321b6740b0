/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"

/*
 * The lexer follows packetdrill's lexer.l: at each position the longest of
 * FLOAT ([-]?[0-9]*[.][0-9]+), INTEGER ([-]?[0-9]+), HEX (0x[0-9a-fA-F]+),
 * WORD ([a-zA-Z0-9_]+) and an IPv4 address wins, ties going to the rule
 * listed first. packetdrill's keywords (ack, win, mss, ...) are plain words
 * here; the parser tells them apart by position. IPv6 address literals are
 * not recognised: they only occur in constructs the dialect leaves out, which
 * the parser rejects anyway.
 */

struct lexer {
	const char *path;
	const char *p;
	int line;
	struct d_tok *toks;
	size_t n, cap;
};

static char *
dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL)
		abort();
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static struct d_tok *
push(struct lexer *lx, enum d_tok_kind k, int line)
{
	if (lx->n == lx->cap) {
		lx->cap = lx->cap ? 2 * lx->cap : 256;
		lx->toks = realloc(lx->toks, lx->cap * sizeof(*lx->toks));
		if (lx->toks == NULL)
			abort();
	}
	struct d_tok *t = &lx->toks[lx->n++];
	memset(t, 0, sizeof(*t));
	t->k = k;
	t->line = line;
	return t;
}

static size_t
digits(const char *p)
{
	size_t n = 0;

	while (isdigit((unsigned char)p[n]))
		n++;
	return n;
}

static bool
is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static size_t
match_float(const char *p)
{
	size_t i = (*p == '-') ? 1 : 0;

	i += digits(p + i);
	if (p[i] != '.')
		return 0;
	size_t f = digits(p + i + 1);
	return f ? i + 1 + f : 0;
}

static size_t
match_int(const char *p)
{
	size_t i = (*p == '-') ? 1 : 0;
	size_t d = digits(p + i);

	return d ? i + d : 0;
}

static size_t
match_hex(const char *p)
{
	size_t n = 0;

	if (p[0] != '0' || p[1] != 'x')
		return 0;
	while (isxdigit((unsigned char)p[2 + n]))
		n++;
	return n ? 2 + n : 0;
}

static size_t
match_word(const char *p)
{
	size_t n = 0;

	while (is_word_char(p[n]))
		n++;
	return n;
}

static size_t
match_ipv4(const char *p)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t d = digits(p + i);
		if (d == 0)
			return 0;
		i += d;
		if (part < 3) {
			if (p[i] != '.')
				return 0;
			i++;
		}
	}
	return i;
}

static int
lex_error(struct lexer *lx, int line, const char *what)
{
	d_msg(lx->path, line, "syntax error: %s", what);
	return -1;
}

/* A quoted string, back-quoted command or %{ }% block: everything up to the
 * closing delimiter, newlines included. */
static int
lex_delimited(struct lexer *lx, enum d_tok_kind k, const char *open, const char *close)
{
	int line = lx->line;
	const char *start = lx->p + strlen(open);
	const char *q = start;
	size_t cl = strlen(close);

	for (;;) {
		if (*q == '\0')
			return lex_error(lx, line,
					 k == TK_CODE ? "unterminated %{ }% block"
						      : "unterminated string");
		if (strncmp(q, close, cl) == 0)
			break;
		if (*q == '\\' && k != TK_CODE && q[1] != '\0') {
			if (q[1] == '\n')
				lx->line++;
			q += 2;
			continue;
		}
		if (*q == '\n')
			lx->line++;
		q++;
	}
	push(lx, k, line)->text = dup_range(start, (size_t)(q - start));
	lx->p = q + cl;
	return 0;
}

static int
lex_number_or_word(struct lexer *lx)
{
	const char *p = lx->p;
	size_t lf = match_float(p), li = match_int(p), lh = match_hex(p), lw = match_word(p);
	size_t la = match_ipv4(p);
	size_t best = lf;
	int which = 0; /* 0 float, 1 int, 2 hex, 3 word, 4 addr */

	if (li > best)
		best = li, which = 1;
	if (lh > best)
		best = lh, which = 2;
	if (lw > best)
		best = lw, which = 3;
	if (la > best)
		best = la, which = 4;
	if (best == 0)
		return 1; /* not ours: a single character */

	struct d_tok *t;
	switch (which) {
	case 0:
		t = push(lx, TK_FLOAT, lx->line);
		t->text = dup_range(p, best);
		break;
	case 1:
	case 2: {
		t = push(lx, TK_INT, lx->line);
		t->text = dup_range(p, best);
		t->hex = which == 2;
		errno = 0;
		if (which == 2) {
			unsigned long long v = strtoull(t->text + 2, NULL, 16);
			t->ival = (int64_t)v;
			if (errno != 0 || v > INT64_MAX)
				return lex_error(lx, lx->line, "integer out of range");
		} else {
			t->ival = strtoll(t->text, NULL, 10);
			if (errno != 0)
				return lex_error(lx, lx->line, "integer out of range");
		}
		break;
	}
	case 3:
		t = push(lx, TK_WORD, lx->line);
		t->text = dup_range(p, best);
		break;
	default:
		t = push(lx, TK_ADDR, lx->line);
		t->text = dup_range(p, best);
		break;
	}
	lx->p += best;
	return 0;
}

int
d_lex(const char *path, const char *src, struct d_tok **toks, size_t *ntoks)
{
	struct lexer lx = {.path = path, .p = src, .line = 1};
	int rc = 0;

	while (*lx.p != '\0' && rc == 0) {
		const char *p = lx.p;
		if (*p == '\n') {
			lx.line++;
			lx.p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') {
			lx.p++;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*lx.p != '\0' && *lx.p != '\n')
				lx.p++;
		} else if (p[0] == '/' && p[1] == '*') {
			int line = lx.line;
			const char *q = p + 2;
			while (*q != '\0' && !(q[0] == '*' && q[1] == '/')) {
				if (*q == '\n')
					lx.line++;
				q++;
			}
			if (*q == '\0')
				rc = lex_error(&lx, line, "unterminated /* comment");
			else
				lx.p = q + 2;
		} else if (p[0] == '%' && p[1] == '{') {
			rc = lex_delimited(&lx, TK_CODE, "%{", "}%");
		} else if (*p == '"') {
			rc = lex_delimited(&lx, TK_STRING, "\"", "\"");
		} else if (*p == '`') {
			rc = lex_delimited(&lx, TK_BQ, "`", "`");
		} else if (p[0] == '.' && p[1] == '.' && p[2] == '.') {
			push(&lx, TK_ELLIPSIS, lx.line);
			lx.p += 3;
		} else if (p[0] == '-' && p[1] == '-' && is_word_char(p[2])) {
			size_t n = match_word(p + 2);
			push(&lx, TK_OPTION, lx.line)->text = dup_range(p + 2, n);
			lx.p += 2 + n;
		} else {
			int r = lex_number_or_word(&lx);
			if (r < 0) {
				rc = -1;
			} else if (r > 0) {
				push(&lx, TK_CHAR, lx.line)->ch = *p;
				lx.p++;
			}
		}
	}
	push(&lx, TK_EOF, lx.line);
	if (rc != 0) {
		d_toks_free(lx.toks, lx.n);
		return -1;
	}
	*toks = lx.toks;
	*ntoks = lx.n;
	return 0;
}

void
d_toks_free(struct d_tok *toks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(toks[i].text);
	free(toks);
}
