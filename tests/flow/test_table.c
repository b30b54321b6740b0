/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/flow's table, from one thread: add, look up, retag and delete IPv4 and
 * IPv6 keys; TIME-WAIT-tagged values; bulk lookup against single lookups; a
 * full table; deferred reuse of deleted slots; creation errors; the memory
 * figures against the EAL heap. Every test that fills a table empties it
 * again and checks that the table says so (no key or slot leaked).
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "eal_fixture.h"
#include "td_flow.h"

TestSuite(flow, .init = eal_up, .fini = eal_down, .timeout = 60);

/* The table is empty and every deleted slot is back (nothing pending). */
static void
expect_empty(struct td_flow *f)
{
	struct td_flow_stats s;

	td_flow_reclaim(f, 0);
	td_flow_stats(f, &s);
	cr_expect_eq(s.used_v4, 0, "IPv4 keys left: %u", s.used_v4);
	cr_expect_eq(s.used_v6, 0, "IPv6 keys left: %u", s.used_v6);
	cr_expect_eq(s.deferred, 0, "slots still deferred: %u", s.deferred);
	cr_expect_eq(s.reclaimed, s.dels, "every deleted slot returned");
}

Test(flow, key_layout)
{
	struct td_flow_key k;

	cr_expect_eq(sizeof(struct td_flow_key4), 16);
	cr_expect_eq(sizeof(struct td_flow_key6), 36);
	cr_expect_eq(sizeof(struct td_flow_key), 40);
	/* The unused bytes of a key are zero, since rte_hash hashes them. */
	memset(&k, 0xff, sizeof(k));
	td_flow_key_v4(&k, 1, 2, 3, 4);
	cr_expect_eq(k.v4.zero, 0);
	for (size_t i = sizeof(k.v4); i < sizeof(k.v6); i++)
		cr_expect_eq(((const uint8_t *)&k.v6)[i], 0);
}

static void
add_lookup_delete(uint8_t family)
{
	struct td_flow *f = test_table("ald", 64, 64);
	struct td_flow_key k, k2, got;
	uint32_t ref, ref2, lref;

	test_key(&k, family, 7);
	test_key(&k2, family, 8);
	cr_assert_eq(td_flow_lookup(f, &k, NULL), TD_FLOW_NONE);
	cr_assert_eq(td_flow_add(f, &k, td_flow_val_conn(5), &ref), 0);
	cr_assert_eq(td_flow_add(f, &k2, td_flow_val_conn(6), &ref2), 0);
	cr_expect_neq(ref, ref2);
	cr_expect_eq(td_flow_lookup(f, &k, &lref), 5);
	cr_expect_eq(lref, ref, "the lookup gives the add's ref");
	cr_expect_eq(td_flow_lookup(f, &k2, NULL), 6);

	/* The stored key comes back from its ref. */
	cr_assert_eq(td_flow_key_get(f, ref, &got), 0);
	cr_expect_eq(got.family, family);
	cr_expect_eq(memcmp(&got, &k, sizeof(k)), 0);

	/* A second add replaces the value and keeps the ref. */
	cr_expect_eq(td_flow_add(f, &k, td_flow_val_conn(9), &lref), 1);
	cr_expect_eq(lref, ref);
	cr_expect_eq(td_flow_lookup(f, &k, NULL), 9);

	cr_expect_eq(td_flow_del(f, ref), 0);
	cr_expect_eq(td_flow_lookup(f, &k, NULL), TD_FLOW_NONE);
	cr_expect_eq(td_flow_lookup(f, &k2, NULL), 6, "the other key stays");
	cr_expect_eq(td_flow_del(f, ref), -TD_ENOTCONN, "a deleted ref");
	cr_expect_eq(td_flow_key_get(f, ref, &got), -TD_ENOTCONN);
	cr_expect_eq(td_flow_set(f, ref, 1), -TD_ENOTCONN);

	uint32_t v = 0;
	cr_expect_eq(td_flow_del_key(f, &k2, &v), 0);
	cr_expect_eq(v, 6);
	cr_expect_eq(td_flow_del_key(f, &k2, &v), -TD_ENOTCONN);
	expect_empty(f);
	td_flow_destroy(f);
}

Test(flow, add_lookup_delete_ipv4)
{
	add_lookup_delete(TD_FLOW_V4);
}

Test(flow, add_lookup_delete_ipv6)
{
	add_lookup_delete(TD_FLOW_V6);
}

Test(flow, families_do_not_mix)
{
	struct td_flow *f = test_table("fam", 64, 64);
	struct td_flow *f4 = test_table("fam4", 64, 0);
	struct td_flow_key k4, k6;
	uint32_t r4, r6;

	test_key(&k4, TD_FLOW_V4, 1);
	test_key(&k6, TD_FLOW_V6, 1);
	cr_assert_eq(td_flow_add(f, &k4, 10, &r4), 0);
	cr_assert_eq(td_flow_add(f, &k6, 20, &r6), 0);
	cr_expect_eq(td_flow_lookup(f, &k4, NULL), 10);
	cr_expect_eq(td_flow_lookup(f, &k6, NULL), 20);
	cr_expect_neq(r4, r6, "refs name their family's table");

	/* A table without IPv6 refuses IPv6 keys and never finds one. */
	cr_expect_eq(td_flow_add(f4, &k6, 1, NULL), -TD_ENOTSUP);
	cr_expect_eq(td_flow_lookup(f4, &k6, NULL), TD_FLOW_NONE);
	cr_expect_eq(td_flow_del(f4, r6), -TD_ENOTCONN);

	/* Bad arguments are errors, not crashes. */
	struct td_flow_key bad = k4;
	bad.family = 5;
	cr_expect_eq(td_flow_add(f, &bad, 1, NULL), -TD_EINVAL);
	cr_expect_eq(td_flow_lookup(f, &bad, NULL), TD_FLOW_NONE);
	cr_expect_eq(td_flow_add(f, &k4, TD_FLOW_NONE, NULL), -TD_EINVAL);
	cr_expect_eq(td_flow_del(f, 1000000), -TD_ENOTCONN, "a ref beyond the table");
	cr_expect_eq(td_flow_set(f, 0x80000000u | 1000000, 1), -TD_ENOTCONN);

	cr_expect_eq(td_flow_del(f, r4), 0);
	cr_expect_eq(td_flow_del(f, r6), 0);
	expect_empty(f);
	expect_empty(f4);
	td_flow_destroy(f4);
	td_flow_destroy(f);
}

/* TIME-WAIT entries sit in the same table: a connection's value is retagged
 * by ref, as lib/tcp does in tcp_tw_enter(). */
Test(flow, time_wait_tagged_values)
{
	enum { N = 200 };
	struct td_flow *f = test_table("tw", 256, 256);
	uint32_t refs[N];
	struct td_flow_key k;

	cr_expect(td_flow_val_is_tw(td_flow_val_tw(0)));
	cr_expect_not(td_flow_val_is_tw(td_flow_val_conn(TD_FLOW_IDX_MAX)));
	cr_expect_eq(td_flow_val_idx(td_flow_val_tw(TD_FLOW_IDX_MAX)), TD_FLOW_IDX_MAX);
	cr_expect_neq(td_flow_val_tw(TD_FLOW_IDX_MAX), TD_FLOW_NONE);

	for (uint32_t i = 0; i < N; i++) {
		test_key(&k, i % 2 ? TD_FLOW_V6 : TD_FLOW_V4, i);
		cr_assert_eq(td_flow_add(f, &k, td_flow_val_conn(i), &refs[i]), 0);
	}
	/* Every third connection enters TIME-WAIT as entry 1000 + i. */
	for (uint32_t i = 0; i < N; i += 3)
		cr_assert_eq(td_flow_set(f, refs[i], td_flow_val_tw(1000 + i)), 0);
	cr_expect_eq(td_flow_set(f, refs[0], TD_FLOW_NONE), -TD_EINVAL);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t v, ref;

		test_key(&k, i % 2 ? TD_FLOW_V6 : TD_FLOW_V4, i);
		v = td_flow_lookup(f, &k, &ref);
		cr_assert_neq(v, TD_FLOW_NONE);
		cr_expect_eq(ref, refs[i], "retagging keeps the ref");
		if (i % 3 == 0) {
			cr_expect(td_flow_val_is_tw(v));
			cr_expect_eq(td_flow_val_idx(v), 1000 + i);
		} else {
			cr_expect_not(td_flow_val_is_tw(v));
			cr_expect_eq(td_flow_val_idx(v), i);
		}
	}
	for (uint32_t i = 0; i < N; i++)
		cr_assert_eq(td_flow_del(f, refs[i]), 0);
	expect_empty(f);
	td_flow_destroy(f);
}

Test(flow, bulk_lookup_equals_single_lookups)
{
	enum { NKEYS = 4000, ROUNDS = 400 };
	struct td_flow *f = test_table("bulk", 4096, 4096);
	struct td_flow_key *keys = calloc(200, sizeof(*keys));
	uint32_t *vals = calloc(200, sizeof(*vals));
	uint64_t rng = 88172645463325252ull;
	struct td_flow_key k;

	cr_assert_not_null(keys);
	cr_assert_not_null(vals);
	/* Keys 0..NKEYS-1 of both families are present, half of them
	 * TIME-WAIT-tagged; keys NKEYS.. are absent. */
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint32_t v = i % 2 ? td_flow_val_tw(i) : td_flow_val_conn(i);

		test_key(&k, TD_FLOW_V4, i);
		cr_assert_eq(td_flow_add(f, &k, v, NULL), 0);
		test_key(&k, TD_FLOW_V6, i);
		cr_assert_eq(td_flow_add(f, &k, v ^ 1, NULL), 0);
	}
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint32_t n, hits, expect = 0;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		/* Sizes around the group of 64: 0..199. */
		n = (uint32_t)(rng % 200);
		for (uint32_t i = 0; i < n; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			test_key(&keys[i], (rng >> 40) & 1 ? TD_FLOW_V6 : TD_FLOW_V4,
				 (uint32_t)(rng % (NKEYS + NKEYS / 4)));
		}
		hits = td_flow_lookup_bulk(f, keys, n, vals);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t one = td_flow_lookup(f, &keys[i], NULL);

			cr_assert_eq(vals[i], one, "round %u key %u: bulk %#x, single %#x", r, i,
				     vals[i], one);
			expect += one != TD_FLOW_NONE;
		}
		cr_assert_eq(hits, expect);
	}
	for (uint32_t i = 0; i < NKEYS; i++) {
		test_key(&k, TD_FLOW_V4, i);
		cr_assert_eq(td_flow_del_key(f, &k, NULL), 0);
		test_key(&k, TD_FLOW_V6, i);
		cr_assert_eq(td_flow_del_key(f, &k, NULL), 0);
	}
	expect_empty(f);
	td_flow_destroy(f);
	free(vals);
	free(keys);
}

/* A full table refuses adds with -TD_ENOSPC, keeps what it has, and takes
 * keys again once some are deleted and their grace period is over. */
Test(flow, table_full_is_an_error)
{
	enum { CAP = 1024 };
	struct td_flow *f = test_table("full", CAP, 0);
	struct td_flow_stats s;
	struct td_flow_key k;
	uint32_t n = 0, refs[CAP];
	int rc;

	for (;;) {
		test_key(&k, TD_FLOW_V4, n);
		rc = td_flow_add(f, &k, n, &refs[n]);
		if (rc != 0)
			break;
		cr_assert_lt(++n, CAP + 1, "more keys than entries");
	}
	cr_assert_eq(rc, -TD_ENOSPC);
	/* The bucket array has as many slots as entries here (1024 is a power
	 * of two), so cuckoo displacement may give up a little early. */
	cr_expect_geq(n, CAP * 95 / 100, "only %u of %u keys fit", n, CAP);
	for (uint32_t i = n + 1; i < n + 100; i++) {
		test_key(&k, TD_FLOW_V4, i);
		cr_expect_eq(td_flow_add(f, &k, i, NULL), -TD_ENOSPC);
	}
	for (uint32_t i = 0; i < n; i++) {
		test_key(&k, TD_FLOW_V4, i);
		cr_assert_eq(td_flow_lookup(f, &k, NULL), i, "key %u lost in a full table", i);
	}
	td_flow_stats(f, &s);
	cr_expect_eq(s.used_v4, n);
	cr_expect_geq(s.add_full, 100);

	/* Delete one; no reader is registered, so its slot comes back at the
	 * next reclaim (or at the add that needs it), and the same key fits. */
	cr_assert_eq(td_flow_del(f, refs[0]), 0);
	test_key(&k, TD_FLOW_V4, 0);
	cr_expect_eq(td_flow_add(f, &k, 77, NULL), 0);
	cr_expect_eq(td_flow_lookup(f, &k, NULL), 77);

	for (uint32_t i = 0; i < n; i++) {
		test_key(&k, TD_FLOW_V4, i);
		cr_assert_eq(td_flow_del_key(f, &k, NULL), 0);
	}
	expect_empty(f);
	td_flow_destroy(f);
}

/* A reader that is online and has not reported a quiescent state holds
 * every slot deleted since: the slot is not reused, so the reader can never
 * read a new key in the slot of the one it was comparing. */
Test(flow, deleted_slot_waits_for_the_readers)
{
	enum { CAP = 64 };
	struct td_flow *f = test_table("grace", CAP, 0);
	struct rte_rcu_qsbr *v = td_flow_qsv(f);
	struct td_flow_stats s;
	struct td_flow_key k;
	uint32_t n = 0, refs[CAP], ref;

	cr_assert_eq(rte_rcu_qsbr_thread_register(v, 0), 0);
	rte_rcu_qsbr_thread_online(v, 0);
	for (; n < CAP; n++) {
		test_key(&k, TD_FLOW_V4, n);
		if (td_flow_add(f, &k, n, &refs[n]) != 0)
			break;
	}
	/* Make the table exactly full: no free slot anywhere. */
	td_flow_stats(f, &s);
	cr_assert_eq(s.used_v4, n);
	cr_assert_eq(td_flow_del(f, refs[n / 2]), 0);
	test_key(&k, TD_FLOW_V4, 1000);
	if (n == CAP) {
		cr_expect_eq(td_flow_reclaim(f, 0), 0, "the reader has not reported");
		cr_expect_eq(td_flow_add(f, &k, 1000, NULL), -TD_ENOSPC,
			     "the deleted slot is held by the reader");
		td_flow_stats(f, &s);
		cr_expect_eq(s.deferred, 1);
	}

	rte_rcu_qsbr_quiescent(v, 0);
	cr_expect_eq(td_flow_reclaim(f, 0), 1);
	cr_expect_eq(td_flow_add(f, &k, 1000, &ref), 0);
	if (n == CAP)
		cr_expect_eq(ref, refs[n / 2], "the only free slot is the one deleted");

	/* An offline reader holds nothing. */
	rte_rcu_qsbr_thread_offline(v, 0);
	cr_expect_eq(td_flow_del(f, ref), 0);
	cr_expect_eq(td_flow_reclaim(f, 0), 1);

	/* The budget bounds one call; the rest come with the next. */
	rte_rcu_qsbr_thread_online(v, 0);
	for (uint32_t i = 0; i < n; i++)
		if (i != n / 2)
			cr_assert_eq(td_flow_del(f, refs[i]), 0);
	cr_expect_eq(td_flow_reclaim(f, 0), 0);
	rte_rcu_qsbr_quiescent(v, 0);
	cr_expect_eq(td_flow_reclaim(f, 10), 10);
	cr_expect_eq(td_flow_reclaim(f, 0), n - 1 - 10);
	rte_rcu_qsbr_thread_offline(v, 0);
	rte_rcu_qsbr_thread_unregister(v, 0);
	expect_empty(f);
	td_flow_destroy(f);
}

Test(flow, create_errors)
{
	char err[160];
	struct td_flow_config cfg = {.name = "ok", .entries_v4 = 64, .socket_id = -1};
	struct td_flow *f, *g;

	cfg.entries_v4 = 7;
	err[0] = 0;
	cr_expect_null(td_flow_create(&cfg, err, sizeof(err)));
	cr_expect_neq(err[0], 0, "a reason is given");
	cfg.entries_v4 = 64;
	cfg.entries_v6 = 3;
	cr_expect_null(td_flow_create(&cfg, err, sizeof(err)));
	cfg.entries_v6 = 0;
	cfg.name = "a-name-that-is-far-too-long";
	cr_expect_null(td_flow_create(&cfg, err, sizeof(err)));
	cfg.name = NULL;
	cr_expect_null(td_flow_create(&cfg, NULL, 0));
	/* The longest name fits every rte_hash and rte_ring name it makes. */
	cfg.name = "twenty-characters-ok";
	cfg.entries_v6 = 64;
	g = td_flow_create(&cfg, err, sizeof(err));
	cr_expect_not_null(g, "%s", err);
	td_flow_destroy(g);
	cfg.entries_v6 = 0;
	cfg.name = "dup";
	f = td_flow_create(&cfg, err, sizeof(err));
	cr_assert_not_null(f, "%s", err);
	err[0] = 0;
	g = td_flow_create(&cfg, err, sizeof(err));
	cr_expect_null(g, "rte_hash names are global: a second 'dup' fails");
	cr_expect_neq(err[0], 0);
	/* More than the EAL heap holds (-m 2048): refused, not a crash. */
	cfg.name = "huge";
	cfg.entries_v4 = 1u << 30;
	cr_expect_null(td_flow_create(&cfg, err, sizeof(err)));
	td_flow_destroy(f);
	td_flow_destroy(NULL);
}

/* One QS variable for several tables: a telemetry thread reading every
 * lcore's table registers once. */
Test(flow, shared_qs_variable)
{
	size_t sz = rte_rcu_qsbr_get_memsize(2);
	struct rte_rcu_qsbr *v = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	struct td_flow_config cfg = {.entries_v4 = 64, .socket_id = -1, .qsv = v};
	struct td_flow *a, *b;
	struct td_flow_key k;
	uint32_t ra, rb;

	cr_assert_not_null(v);
	cr_assert_eq(rte_rcu_qsbr_init(v, 2), 0);
	cfg.name = "qa";
	a = td_flow_create(&cfg, NULL, 0);
	cfg.name = "qb";
	b = td_flow_create(&cfg, NULL, 0);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_expect_eq(td_flow_qsv(a), v);
	cr_expect_eq(td_flow_qsv(b), v);

	rte_rcu_qsbr_thread_register(v, 1);
	rte_rcu_qsbr_thread_online(v, 1);
	test_key(&k, TD_FLOW_V4, 1);
	cr_assert_eq(td_flow_add(a, &k, 1, &ra), 0);
	cr_assert_eq(td_flow_add(b, &k, 2, &rb), 0);
	cr_assert_eq(td_flow_del(a, ra), 0);
	cr_assert_eq(td_flow_del(b, rb), 0);
	cr_expect_eq(td_flow_reclaim(a, 0), 0);
	cr_expect_eq(td_flow_reclaim(b, 0), 0);
	rte_rcu_qsbr_quiescent(v, 1);
	cr_expect_eq(td_flow_reclaim(a, 0), 1);
	cr_expect_eq(td_flow_reclaim(b, 0), 1);
	rte_rcu_qsbr_thread_offline(v, 1);
	rte_rcu_qsbr_thread_unregister(v, 1);
	expect_empty(a);
	expect_empty(b);
	td_flow_destroy(a);
	td_flow_destroy(b);
	rte_free(v);
}

/* td_flow_memory() is computed from rte_hash's layout; the EAL heap counts
 * what was really allocated. They agree to within the allocator's element
 * headers and alignment (a few cache lines for each of the dozen
 * allocations of a table). */
Test(flow, memory_matches_the_heap)
{
	static const uint32_t sizes[][2] = {
		{8, 0}, {1000, 0}, {65535, 0}, {65536, 100}, {100000, 5000}};

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct rte_malloc_socket_stats a, b;
		struct td_flow_mem m;
		struct td_flow *f;
		int64_t heap;

		cr_assert_eq(rte_malloc_get_socket_stats(0, &a), 0);
		f = test_table("mem", sizes[i][0], sizes[i][1]);
		cr_assert_eq(rte_malloc_get_socket_stats(0, &b), 0);
		td_flow_memory(f, &m);
		heap = (int64_t)(b.heap_allocsz_bytes - a.heap_allocsz_bytes);
		cr_expect_eq(m.total, m.buckets + m.key_store + m.free_ring + m.defer + m.other);
		cr_expect_leq(llabs(heap - (int64_t)m.total), 4096,
			      "%u+%u entries: heap %lld bytes, layout %llu", sizes[i][0],
			      sizes[i][1], (long long)heap, (unsigned long long)m.total);
		td_flow_destroy(f);
	}
}
