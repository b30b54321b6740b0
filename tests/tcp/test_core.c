/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The building blocks under the closing rules: wrap-safe sequence
 * arithmetic, the TCP option parser and writer, the configuration (defaults
 * of CONFORMANCE.md, validation), state names and the generated-payload mode.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* ------------------------------------------------------------------------ */
/* Sequence arithmetic modulo 2^32 (RFC 9293 3.4). */

Test(core, seq_compare_across_wrap, .init = h_setup, .fini = h_teardown)
{
	cr_assert(td_seq_lt(0xfffffff0u, 0x10u));
	cr_assert(td_seq_leq(0xfffffff0u, 0x10u));
	cr_assert(!td_seq_gt(0xfffffff0u, 0x10u));
	cr_assert(!td_seq_geq(0xfffffff0u, 0x10u));
	cr_assert(td_seq_gt(0x10u, 0xfffffff0u));
	cr_assert(td_seq_geq(0x10u, 0xfffffff0u));
	cr_assert(!td_seq_lt(0x10u, 0xfffffff0u));
	cr_assert(td_seq_lt(0xffffffffu, 0u));
	cr_assert(td_seq_gt(0u, 0xffffffffu));
	cr_assert(td_seq_lt(100u, 101u));
	cr_assert(!td_seq_lt(101u, 100u));
	/* Equal values. */
	cr_assert(!td_seq_lt(0xffffffffu, 0xffffffffu));
	cr_assert(!td_seq_gt(0u, 0u));
	cr_assert(td_seq_leq(0u, 0u));
	cr_assert(td_seq_geq(0xffffffffu, 0xffffffffu));
	/* Far apart but less than 2^31. */
	cr_assert(td_seq_lt(0x80000000u, 0xfffffffeu));
	cr_assert(td_seq_lt(0xc0000000u, 0x3fffffffu));
	cr_assert(td_seq_gt(0x3fffffffu, 0xc0000000u));
}

Test(core, seq_in_window_across_wrap, .init = h_setup, .fini = h_teardown)
{
	/* RCV.NXT = 0xffffff00, RCV.WND = 1000: [0xffffff00, 0x2e8). */
	uint32_t lo = 0xffffff00u, hi = 0xffffff00u + 1000;

	cr_assert_eq(hi, 0x2e8u);
	cr_assert(td_seq_in(lo, lo, hi));
	cr_assert(td_seq_in(0xffffffffu, lo, hi));
	cr_assert(td_seq_in(0u, lo, hi));
	cr_assert(td_seq_in(hi - 1, lo, hi));
	cr_assert(!td_seq_in(hi, lo, hi));
	cr_assert(!td_seq_in(lo - 1, lo, hi));
	cr_assert(!td_seq_in(0x80000000u, lo, hi));
	/* An empty window holds nothing. */
	cr_assert(!td_seq_in(5u, 5u, 5u));
	/* Without wrap. */
	cr_assert(td_seq_in(300u, 300u, 1300u));
	cr_assert(td_seq_in(1299u, 300u, 1300u));
	cr_assert(!td_seq_in(299u, 300u, 1300u));
	cr_assert(!td_seq_in(1300u, 300u, 1300u));
}

Test(core, seq_min_max_across_wrap, .init = h_setup, .fini = h_teardown)
{
	cr_assert_eq(td_seq_max(0xfffffff0u, 0x10u), 0x10u);
	cr_assert_eq(td_seq_max(0x10u, 0xfffffff0u), 0x10u);
	cr_assert_eq(td_seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
	cr_assert_eq(td_seq_min(0x10u, 0xfffffff0u), 0xfffffff0u);
	cr_assert_eq(td_seq_max(7u, 7u), 7u);
	cr_assert_eq(td_seq_min(100u, 200u), 100u);
}

/* ------------------------------------------------------------------------ */
/* Options: td_tcp_opts_parse / td_tcp_opts_write. */

static void
parse_ok(const uint8_t *p, unsigned len, struct td_tcp_opts *o)
{
	memset(o, 0xee, sizeof(*o));
	int rc = td_tcp_opts_parse(p, len, o);
	cr_assert_eq(rc, 0, "parse of a well-formed list returned %d", rc);
}

static void
parse_bad(const uint8_t *p, unsigned len, const char *what)
{
	struct td_tcp_opts o;

	cr_assert_eq(td_tcp_opts_parse(p, len, &o), -TD_EINVAL, "%s accepted", what);
}

Test(core, opts_write_syn_linux_layout, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_opts o = {.has = TD_OPT_MSS | TD_OPT_WSCALE | TD_OPT_SACKOK | TD_OPT_TS,
				.mss = 1460,
				.wscale = 7,
				.ts_val = 0x01020304,
				.ts_ecr = 0};
	uint8_t p[40];
	static const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2,
				       3, 4, 0,    0,    0, 0, 1, 3,  3, 7};

	unsigned n = td_tcp_opts_write(&o, true, p);
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(p, want, sizeof(want));

	struct td_tcp_opts r;
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, o.has);
	cr_assert_eq(r.mss, 1460);
	cr_assert_eq(r.wscale, 7);
	cr_assert_eq(r.ts_val, 0x01020304u);
	cr_assert_eq(r.ts_ecr, 0);
}

Test(core, opts_write_syn_variants, .init = h_setup, .fini = h_teardown)
{
	uint8_t p[40];
	struct td_tcp_opts r;

	/* TS without SACK: nop,nop,TS. */
	struct td_tcp_opts a = {
		.has = TD_OPT_MSS | TD_OPT_TS, .mss = 536, .ts_val = 9, .ts_ecr = 5};
	static const uint8_t wa[] = {2, 4, 2, 24, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 5};
	unsigned n = td_tcp_opts_write(&a, true, p);
	cr_assert_eq(n, sizeof(wa));
	cr_assert_arr_eq(p, wa, sizeof(wa));
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, a.has);
	cr_assert_eq(r.mss, 536);
	cr_assert_eq(r.ts_val, 9);
	cr_assert_eq(r.ts_ecr, 5);

	/* SACK-permitted without TS: nop,nop,sackOK; then nop,wscale. */
	struct td_tcp_opts b = {
		.has = TD_OPT_MSS | TD_OPT_SACKOK | TD_OPT_WSCALE, .mss = 1000, .wscale = 0};
	static const uint8_t wb[] = {2, 4, 0x03, 0xe8, 1, 1, 4, 2, 1, 3, 3, 0};
	n = td_tcp_opts_write(&b, true, p);
	cr_assert_eq(n, sizeof(wb));
	cr_assert_arr_eq(p, wb, sizeof(wb));
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, b.has);
	cr_assert_eq(r.wscale, 0);

	/* MSS alone. */
	struct td_tcp_opts c = {.has = TD_OPT_MSS, .mss = 65495};
	n = td_tcp_opts_write(&c, true, p);
	cr_assert_eq(n, 4);
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, TD_OPT_MSS);
	cr_assert_eq(r.mss, 65495);
}

Test(core, opts_write_non_syn_ts_and_sack, .init = h_setup, .fini = h_teardown)
{
	uint8_t p[40];
	struct td_tcp_opts r;
	struct td_tcp_opts o = {.has = TD_OPT_TS | TD_OPT_SACK,
				.ts_val = 0xa0b0c0d0u,
				.ts_ecr = 500,
				.nsack = 2,
				.sack = {{310, 320}, {0xfffffff0u, 0x10u}}};
	static const uint8_t want[] = {1,    1,    8,    10,   0xa0, 0xb0, 0xc0, 0xd0, 0,    0,   1,
				       0xf4, 1,    1,    5,    18,   0,    0,    1,    0x36, 0,   0,
				       1,    0x40, 0xff, 0xff, 0xff, 0xf0, 0,    0,    0,    0x10};

	unsigned n = td_tcp_opts_write(&o, false, p);
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(p, want, sizeof(want));
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, TD_OPT_TS | TD_OPT_SACK);
	cr_assert_eq(r.ts_val, 0xa0b0c0d0u);
	cr_assert_eq(r.ts_ecr, 500);
	cr_assert_eq(r.nsack, 2);
	cr_assert_eq(r.sack[0][0], 310);
	cr_assert_eq(r.sack[0][1], 320);
	cr_assert_eq(r.sack[1][0], 0xfffffff0u);
	cr_assert_eq(r.sack[1][1], 0x10u);
}

Test(core, opts_write_sack_fits_40_bytes, .init = h_setup, .fini = h_teardown)
{
	uint8_t p[40];
	struct td_tcp_opts r;
	struct td_tcp_opts o = {.has = TD_OPT_TS | TD_OPT_SACK,
				.ts_val = 1,
				.ts_ecr = 2,
				.nsack = 4,
				.sack = {{10, 20}, {30, 40}, {50, 60}, {70, 80}}};

	/* With TS, only three blocks fit: 12 + 4 + 24 = 40. */
	unsigned n = td_tcp_opts_write(&o, false, p);
	cr_assert_eq(n, 40);
	parse_ok(p, n, &r);
	cr_assert_eq(r.nsack, 3);
	for (unsigned k = 0; k < 3; k++) {
		cr_assert_eq(r.sack[k][0], o.sack[k][0]);
		cr_assert_eq(r.sack[k][1], o.sack[k][1]);
	}

	/* Without TS, all four: 4 + 32 = 36. */
	o.has = TD_OPT_SACK;
	n = td_tcp_opts_write(&o, false, p);
	cr_assert_eq(n, 36);
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, TD_OPT_SACK);
	cr_assert_eq(r.nsack, 4);
	cr_assert_eq(r.sack[3][0], 70);
	cr_assert_eq(r.sack[3][1], 80);
}

/* C-88: the MSS (and the other SYN-only options) never go on a non-SYN. */
Test(core, opts_write_syn_only_options_not_on_other_segments, .init = h_setup, .fini = h_teardown)
{
	uint8_t p[40];
	struct td_tcp_opts r;
	struct td_tcp_opts o = {
		.has = TD_OPT_MSS | TD_OPT_WSCALE | TD_OPT_SACKOK, .mss = 1460, .wscale = 7};

	cr_assert_eq(td_tcp_opts_write(&o, false, p), 0);
	o.has |= TD_OPT_TS;
	o.ts_val = 77;
	o.ts_ecr = 88;
	unsigned n = td_tcp_opts_write(&o, false, p);
	cr_assert_eq(n, 12);
	parse_ok(p, n, &r);
	cr_assert_eq(r.has, TD_OPT_TS);
}

Test(core, opts_parse_well_formed_lists, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_opts r;
	uint8_t any[4] = {0};

	/* Empty. */
	parse_ok(any, 0, &r);
	cr_assert_eq(r.has, 0);
	cr_assert_eq(r.nsack, 0);

	/* NOPs only. */
	static const uint8_t nops[] = {1, 1, 1, 1};
	parse_ok(nops, sizeof(nops), &r);
	cr_assert_eq(r.has, 0);

	/* EOL ends the list: what follows (even garbage) is not parsed. */
	static const uint8_t eol[] = {2, 4, 0x05, 0xb4, 0, 8, 0, 99};
	parse_ok(eol, sizeof(eol), &r);
	cr_assert_eq(r.has, TD_OPT_MSS);
	cr_assert_eq(r.mss, 1460);

	/* An unknown well-formed option is skipped. */
	static const uint8_t unk[] = {99, 4, 0xab, 0xcd, 2, 4, 0x02, 0x18};
	parse_ok(unk, sizeof(unk), &r);
	cr_assert_eq(r.has, TD_OPT_MSS);
	cr_assert_eq(r.mss, 536);

	/* A window scale above 14 is used as 14 (RFC 7323 2.3). */
	static const uint8_t ws[] = {1, 3, 3, 15};
	parse_ok(ws, sizeof(ws), &r);
	cr_assert_eq(r.has, TD_OPT_WSCALE);
	cr_assert_eq(r.wscale, 14);

	/* One SACK block. */
	static const uint8_t sk[] = {1, 1, 5, 10, 0, 0, 1, 0x36, 0, 0, 1, 0x40};
	parse_ok(sk, sizeof(sk), &r);
	cr_assert_eq(r.has, TD_OPT_SACK);
	cr_assert_eq(r.nsack, 1);
	cr_assert_eq(r.sack[0][0], 310);
	cr_assert_eq(r.sack[0][1], 320);
}

Test(core, opts_parse_malformed_lists, .init = h_setup, .fini = h_teardown)
{
	static const uint8_t len0[] = {8, 0, 0, 0};
	static const uint8_t len0_unknown[] = {99, 0, 1, 1};
	static const uint8_t len1[] = {99, 1, 0, 0};
	static const uint8_t past[] = {99, 10, 0, 0};
	static const uint8_t past_known[] = {8, 10, 0, 0, 0, 0, 0, 0};
	static const uint8_t kind_at_end[] = {1, 1, 1, 2};
	static const uint8_t mss3[] = {2, 3, 5, 1};
	static const uint8_t ts8[] = {8, 8, 0, 0, 0, 0, 0, 0};
	static const uint8_t ws4[] = {3, 4, 7, 0};
	static const uint8_t sackok3[] = {4, 3, 0, 1};
	static const uint8_t sack11[] = {5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1};

	parse_bad(len0, sizeof(len0), "length 0 (kind 8)");
	parse_bad(len0_unknown, sizeof(len0_unknown), "length 0 (unknown kind)");
	parse_bad(len1, sizeof(len1), "length 1");
	parse_bad(past, sizeof(past), "an option running past the end");
	parse_bad(past_known, sizeof(past_known), "TS running past the end");
	parse_bad(kind_at_end, sizeof(kind_at_end), "a kind without its length byte");
	parse_bad(mss3, sizeof(mss3), "MSS of length 3");
	parse_bad(ts8, sizeof(ts8), "TS of length 8");
	parse_bad(ws4, sizeof(ws4), "window scale of length 4");
	parse_bad(sackok3, sizeof(sackok3), "SACK-permitted of length 3");
	parse_bad(sack11, sizeof(sack11), "SACK of length 11");
}

/* ------------------------------------------------------------------------ */
/* Configuration. */

/* CONFORMANCE.md "Defaults". */
Test(core, config_defaults_match_conformance, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_config c;
	char err[256] = "";

	memset(&c, 0xa5, sizeof(c));
	td_tcp_config_defaults(&c);
	cr_assert_eq(c.msl_ms, 30000);
	cr_assert_eq(c.rto_min_ms, 200);
	cr_assert_eq(c.rto_max_ms, 60000);
	cr_assert_eq(c.rto_initial_ms, 1000);
	cr_assert_eq(c.user_timeout_ms, 300000);
	cr_assert_eq(c.fin_wait2_timeout_ms, 60000);
	cr_assert_eq(c.delack_ms, 40);
	cr_assert_eq(c.invalid_ratelimit_ms, 500);
	cr_assert_eq(c.challenge_ack_limit, 0);
	/* The policies' documented defaults (C-57, C-63, C-67). */
	cr_assert_eq(c.rst_on_user_timeout, 0);
	cr_assert_eq(c.ack_fin_delayed, 0);
	cr_assert_eq(c.rfc1337, 1);
	cr_assert_eq(td_tcp_config_validate(&c, err, sizeof(err)), 0, "defaults rejected: %s", err);
}

/* C-53, C-61: out-of-range values name the field and the accepted range. */
Test(core, config_set_range_errors, .init = h_setup, .fini = h_teardown)
{
	h_expect_config_error("rto_max_ms", "30000", -TD_ERANGE, "rto_max_ms", "60000", "3600000");
	h_expect_config_error("delack_ms", "500", -TD_ERANGE, "delack_ms", "499", NULL);
	h_expect_config_error("msl_ms", "0", -TD_ERANGE, "msl_ms", "600000", NULL);
	h_expect_config_error("rfc1337", "2", -TD_ERANGE, "rfc1337", NULL, NULL);
}

Test(core, config_set_unknown_and_malformed, .init = h_setup, .fini = h_teardown)
{
	h_expect_config_error("no_such_field", "1", -TD_EINVAL, "no_such_field", NULL, NULL);
	h_expect_config_error("delack", "40", -TD_EINVAL, "delack", NULL, NULL);
	h_expect_config_error("delack_ms", "forty", -TD_EINVAL, "delack_ms", NULL, NULL);
	h_expect_config_error("delack_ms", "40ms", -TD_EINVAL, "delack_ms", NULL, NULL);
	h_expect_config_error("delack_ms", "", -TD_EINVAL, "delack_ms", NULL, NULL);
}

Test(core, config_set_valid_values, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_config c;
	char err[256] = "";

	td_tcp_config_defaults(&c);
	cr_assert_eq(td_tcp_config_set(&c, "msl_ms", "1000", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.msl_ms, 1000);
	cr_assert_eq(td_tcp_config_set(&c, "delack_ms", "0", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.delack_ms, 0);
	cr_assert_eq(td_tcp_config_set(&c, "delack_ms", "499", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.delack_ms, 499);
	cr_assert_eq(td_tcp_config_set(&c, "rto_max_ms", "3600000", err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(c.rto_max_ms, 3600000);
	cr_assert_eq(td_tcp_config_validate(&c, err, sizeof(err)), 0, "%s", err);
	/* The other fields are untouched. */
	cr_assert_eq(c.rto_min_ms, 200);
	cr_assert_eq(c.fin_wait2_timeout_ms, 60000);
}

Test(core, config_validate_errors_name_the_field, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_config c;
	char err[256];

	td_tcp_config_defaults(&c);
	c.rto_max_ms = 30000;
	memset(err, 0, sizeof(err));
	cr_assert_eq(td_tcp_config_validate(&c, err, sizeof(err)), -TD_ERANGE);
	cr_assert(strstr(err, "rto_max_ms") != NULL, "error \"%s\"", err);
	cr_assert(strstr(err, "60000") != NULL, "error \"%s\" lacks the range", err);

	td_tcp_config_defaults(&c);
	c.delack_ms = 500;
	memset(err, 0, sizeof(err));
	cr_assert_eq(td_tcp_config_validate(&c, err, sizeof(err)), -TD_ERANGE);
	cr_assert(strstr(err, "delack_ms") != NULL, "error \"%s\"", err);
	cr_assert(strstr(err, "499") != NULL, "error \"%s\" lacks the range", err);

	td_tcp_config_defaults(&c);
	c.mss = 50;
	memset(err, 0, sizeof(err));
	cr_assert_eq(td_tcp_config_validate(&c, err, sizeof(err)), -TD_ERANGE);
	cr_assert(strstr(err, "mss") != NULL, "error \"%s\"", err);
}

/* ------------------------------------------------------------------------ */

Test(core, state_names, .init = h_setup, .fini = h_teardown)
{
	static const char *const names[TD_TCP_NSTATES] = {
		[TD_TCP_CLOSED] = "CLOSED",           [TD_TCP_LISTEN] = "LISTEN",
		[TD_TCP_SYN_SENT] = "SYN-SENT",       [TD_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
		[TD_TCP_ESTABLISHED] = "ESTABLISHED", [TD_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TD_TCP_FIN_WAIT_1] = "FIN-WAIT-1",   [TD_TCP_CLOSING] = "CLOSING",
		[TD_TCP_LAST_ACK] = "LAST-ACK",       [TD_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
		[TD_TCP_TIME_WAIT] = "TIME-WAIT",
	};

	for (int s = 0; s < TD_TCP_NSTATES; s++) {
		const char *n = td_tcp_state_name((enum td_tcp_state)s);
		cr_assert_not_null(n);
		cr_assert_str_eq(n, names[s], "state %d is \"%s\"", s, n);
	}
}

/* ------------------------------------------------------------------------ */
/* The generated payload. */

Test(core, gen_fill_deterministic_per_seed_and_offset, .init = h_setup, .fini = h_teardown)
{
	static uint8_t a[4096], b[4096], c[4096];

	td_tcp_gen_fill(0x1234, 0, a, sizeof(a));
	td_tcp_gen_fill(0x1234, 0, b, sizeof(b));
	cr_assert_arr_eq(a, b, sizeof(a));

	/* Any offset and length give the same bytes as the whole stream. */
	static const uint32_t offs[] = {1, 7, 8, 9, 123, 1000, 4000};
	for (unsigned i = 0; i < TD_ARRAY_SIZE(offs); i++) {
		uint32_t n = (uint32_t)sizeof(a) - offs[i];
		memset(c, 0, sizeof(c));
		td_tcp_gen_fill(0x1234, offs[i], c, n);
		cr_assert_arr_eq(c, a + offs[i], n, "offset %u differs", offs[i]);
	}
	for (uint32_t k = 0; k < 64; k++) {
		uint8_t x;
		td_tcp_gen_fill(0x1234, k * 61, &x, 1);
		cr_assert_eq(x, a[k * 61], "byte %u alone differs", k * 61);
	}

	/* Another seed: another stream. */
	td_tcp_gen_fill(0x1235, 0, c, sizeof(c));
	unsigned same = 0;
	for (unsigned i = 0; i < sizeof(a); i++)
		same += a[i] == c[i];
	cr_assert_lt(same, 100, "%u of 4096 bytes equal for another seed", same);

	/* Not a constant or a short cycle. */
	unsigned seen[256] = {0}, distinct = 0;
	for (unsigned i = 0; i < sizeof(a); i++)
		distinct += seen[a[i]]++ == 0;
	cr_assert_gt(distinct, 200);
}

/* A second stack, B, wired to H.st: B listens on 198.18.0.2:8080 in
 * generated mode; segments are carried both ways by pump(). */
static struct td_tcp_stack *B;
static struct td_tcp_conn *b_conn;
static bool corrupt_next;

struct wire_seg {
	struct td_seg s;
	uint8_t opts[40];
	uint8_t data[H_MAX_DATA];
};
static struct wire_seg bq[64];
static unsigned bn;

static struct td_tuple
swap_tuple(const struct td_tuple *t)
{
	struct td_tuple r = *t;

	memcpy(r.laddr, t->raddr, sizeof(r.laddr));
	memcpy(r.raddr, t->laddr, sizeof(r.raddr));
	r.lport = t->rport;
	r.rport = t->lport;
	return r;
}

static void
b_tx(void *ctx, const struct td_tcp_out *o)
{
	(void)ctx;
	cr_assert_lt(bn, TD_ARRAY_SIZE(bq), "B sent too much in one step");
	cr_assert_leq(o->len, H_MAX_DATA);
	struct wire_seg *w = &bq[bn++];
	w->s = (struct td_seg){.tuple = swap_tuple(o->tuple),
			       .seq = o->seq,
			       .ack = o->ack,
			       .wnd = o->wnd,
			       .flags = o->flags,
			       .optlen = o->optlen,
			       .len = o->len};
	memcpy(w->opts, o->opts, o->optlen);
	if (o->len > 0)
		td_tcp_out_payload(B, o, w->data);
}

static void
b_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	(void)ctx, (void)err;
	if (ev == TD_TCP_EV_ACCEPTED)
		b_conn = c;
}

/* Deliver everything either side sent until both are quiet. */
static void
pump(void)
{
	static struct wire_seg q[TD_ARRAY_SIZE(bq)];

	for (unsigned round = 0; round < 10000; round++) {
		bool moved = false;
		const struct h_out *o;

		while ((o = h_next()) != NULL) {
			static uint8_t data[H_MAX_DATA];
			uint8_t opts[40];
			unsigned n = td_tcp_opts_write(&o->opts, o->flags & S, opts);

			memcpy(data, o->data, o->len);
			if (corrupt_next && o->len > 5) {
				data[5] ^= 0x5a;
				corrupt_next = false;
			}
			struct td_seg s = {.tuple = swap_tuple(&o->tuple),
					   .seq = o->seq,
					   .ack = o->ack,
					   .wnd = o->wnd,
					   .flags = o->flags,
					   .opts = n ? opts : NULL,
					   .optlen = (uint8_t)n,
					   .data = o->len ? data : NULL,
					   .len = o->len};
			td_tcp_input(B, &s);
			moved = true;
		}
		unsigned n = bn;
		memcpy(q, bq, n * sizeof(q[0]));
		bn = 0;
		for (unsigned i = 0; i < n; i++) {
			q[i].s.opts = q[i].s.optlen ? q[i].opts : NULL;
			q[i].s.data = q[i].s.len ? q[i].data : NULL;
			td_tcp_input(H.st, &q[i].s);
			moved = true;
		}
		if (!moved)
			return;
	}
	cr_assert_fail("the two stacks never went quiet");
}

static void
tick_ms(uint64_t ms)
{
	for (uint64_t i = 0; i < ms; i++) {
		h_adv_ms(1);
		td_tcp_advance(B, H.now_us, 0);
		pump();
	}
}

/* Two stacks in generated mode: A (H.st) connects to B; returns A's side. */
static struct td_tcp_conn *
gen_pair(void)
{
	static const struct td_tcp_ops ops = {.tx = b_tx, .event = b_event};
	struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_GENERATED};
	struct td_tcp_config cfg = H.cfg;
	struct td_tcp_conn *c = NULL;
	char err[256];

	H.cfg.rcvbuf = 65536;
	h_restart(&H.cfg);
	cfg.rcvbuf = 65536;
	bn = 0;
	b_conn = NULL;
	corrupt_next = false;
	B = td_tcp_stack_create(&cfg, &ops, H.now_us, NULL, err, sizeof(err));
	cr_assert_not_null(B, "stack_create B: %s", err);
	uint8_t baddr[4] = {198, 18, 0, 2};
	cr_assert_eq(td_tcp_listen(B, 4, baddr, 8080, &oo), 0);
	cr_assert_eq(td_tcp_connect(H.st, &H.t, &oo, &c), 0);
	H.c = c;
	pump();
	cr_assert_eq(td_tcp_state(H.st, c), TD_TCP_ESTABLISHED);
	cr_assert_not_null(b_conn, "B accepted nothing");
	cr_assert_eq(td_tcp_state(B, b_conn), TD_TCP_ESTABLISHED);
	return c;
}

static void
gen_pair_done(void)
{
	td_tcp_abort(B, b_conn);
	td_tcp_release(B, b_conn);
	td_tcp_stack_destroy(B);
	B = NULL;
	td_tcp_abort(H.st, H.c);
	h_drain();
}

Test(core, gen_stream_between_two_stacks_verified, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_conn *a = gen_pair();

	cr_assert_eq(td_tcp_send(H.st, a, NULL, 5000), 5000);
	pump();
	tick_ms(100);
	const struct td_tcp_stats *bs = td_tcp_stack_stats(B);
	cr_assert_eq(bs->data_verified, 5000);
	cr_assert_eq(bs->data_errors, 0);
	cr_assert_eq(td_tcp_readable(b_conn), 5000);
	cr_assert_eq(td_tcp_recv(B, b_conn, NULL, 10000), 5000);
	cr_assert_eq(h_info().snd_una, h_info().snd_nxt, "data not acknowledged");

	/* And the other way. */
	cr_assert_eq(td_tcp_send(B, b_conn, NULL, 3000), 3000);
	pump();
	tick_ms(100);
	cr_assert_eq(h_stats()->data_verified, 3000);
	cr_assert_eq(h_stats()->data_errors, 0);
	cr_assert_eq(h_info().data_errors, 0);
	cr_assert_eq(td_tcp_recv(H.st, a, NULL, 10000), 3000);
	gen_pair_done();
}

Test(core, gen_stream_one_corrupted_byte_counted, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_conn *a = gen_pair();

	corrupt_next = true;
	cr_assert_eq(td_tcp_send(H.st, a, NULL, 5000), 5000);
	pump();
	tick_ms(100);
	cr_assert(!corrupt_next, "no data segment to corrupt");
	const struct td_tcp_stats *bs = td_tcp_stack_stats(B);
	cr_assert_eq(bs->data_errors, 1);
	cr_assert_eq(bs->data_verified, 5000);
	struct td_tcp_info bi;
	td_tcp_info(B, b_conn, &bi);
	cr_assert_eq(bi.data_errors, 1);
	gen_pair_done();
}

/* A retransmission regenerates the same bytes: the first transmission is
 * lost and the receiver verifies what the retransmissions carry. */
Test(core, gen_retransmission_regenerates_same_bytes, .init = h_setup, .fini = h_teardown)
{
	struct td_tcp_conn *a = gen_pair();

	cr_assert_eq(td_tcp_send(H.st, a, NULL, 3000), 3000);
	cr_assert_gt(h_pending(), 0);
	h_drain(); /* lost */
	for (unsigned i = 0; i < 20000 && td_tcp_readable(b_conn) < 3000; i++)
		tick_ms(1);
	cr_assert_eq(td_tcp_readable(b_conn), 3000);
	cr_assert_geq(td_tcp_stack_stats(B)->data_verified, 3000);
	cr_assert_eq(td_tcp_stack_stats(B)->data_errors, 0);
	cr_assert_gt(h_stats()->retransmits, 0);
	gen_pair_done();
}
