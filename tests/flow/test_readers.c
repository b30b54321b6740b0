/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A reader thread, registered with the table's QS variable, looks keys up
 * while the owner adds, retags and deletes them in a small table, so that
 * slots are reused thousands of times under the reader's feet. The reader
 * must never crash and never get a value that its key never had; once the
 * owner has deleted everything and the grace period is over, the reader
 * finds nothing.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

#include "eal_fixture.h"
#include "td_flow.h"

TestSuite(flow_readers, .init = eal_up, .fini = eal_down, .timeout = 120);

#define NKEYS 1024 /* half IPv4, half IPv6; four times the table */
#define CAP 256    /* entries per family */
#define READER_ID 1

enum { RUN, SWEEP, SWEPT, STOP };

struct shared {
	struct td_flow *f;
	atomic_int phase;
	atomic_int ready;
	atomic_ulong lookups, hits, bad, sweep_hits;
	atomic_ullong bad_pair; /* key << 32 | value of the last bad read */
};

static uint8_t
family_of(uint32_t i)
{
	return i % 2 ? TD_FLOW_V6 : TD_FLOW_V4;
}

/* The only values key i ever has: connection i, or TIME-WAIT entry i. */
static bool
valid(uint32_t i, uint32_t v)
{
	return v == td_flow_val_conn(i) || v == td_flow_val_tw(i);
}

/* splitmix64: the low bits of consecutive outputs are independent (those
 * of xorshift64 are not, which made the owner almost never delete). */
static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
sweep(struct shared *sh)
{
	struct td_flow_key keys[32];
	uint32_t vals[32];
	unsigned long hits = 0;

	for (uint32_t base = 0; base < NKEYS; base += 32) {
		for (uint32_t j = 0; j < 32; j++)
			test_key(&keys[j], family_of(base + j), base + j);
		hits += td_flow_lookup_bulk(sh->f, keys, 32, vals);
		for (uint32_t j = 0; j < 32; j++)
			hits += td_flow_lookup(sh->f, &keys[j], NULL) != TD_FLOW_NONE;
	}
	atomic_store(&sh->sweep_hits, hits);
}

static void *
reader(void *arg)
{
	struct shared *sh = arg;
	struct rte_rcu_qsbr *v = td_flow_qsv(sh->f);
	struct td_flow_key keys[32];
	uint32_t idx[32], vals[32];
	uint64_t rng = 0xdeadbeefcafef00dull;

	test_thread_unpin();
	rte_rcu_qsbr_thread_register(v, READER_ID);
	rte_rcu_qsbr_thread_online(v, READER_ID);
	atomic_store(&sh->ready, 1);
	for (;;) {
		int phase = atomic_load(&sh->phase);

		if (phase == STOP)
			break;
		if (phase == SWEEP) {
			sweep(sh);
			rte_rcu_qsbr_quiescent(v, READER_ID);
			atomic_store(&sh->phase, SWEPT);
			continue;
		}
		for (unsigned j = 0; j < 32; j++) {
			idx[j] = (uint32_t)(next(&rng) % NKEYS);
			test_key(&keys[j], family_of(idx[j]), idx[j]);
		}
		unsigned long hits = td_flow_lookup_bulk(sh->f, keys, 32, vals);
		for (unsigned j = 0; j < 32; j++) {
			uint32_t one = td_flow_lookup(sh->f, &keys[j], NULL);

			if ((vals[j] != TD_FLOW_NONE && !valid(idx[j], vals[j])) ||
			    (one != TD_FLOW_NONE && !valid(idx[j], one))) {
				uint32_t got = vals[j] != TD_FLOW_NONE && !valid(idx[j], vals[j])
						       ? vals[j]
						       : one;

				atomic_fetch_add(&sh->bad, 1);
				atomic_store(&sh->bad_pair, (unsigned long long)idx[j] << 32 | got);
			}
		}
		atomic_fetch_add(&sh->lookups, 64);
		atomic_fetch_add(&sh->hits, hits);
		/* Holds no value from the table past this point. */
		rte_rcu_qsbr_quiescent(v, READER_ID);
	}
	rte_rcu_qsbr_thread_offline(v, READER_ID);
	rte_rcu_qsbr_thread_unregister(v, READER_ID);
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
wait_phase(struct shared *sh, int phase)
{
	double t0 = now_s();

	while (atomic_load(&sh->phase) != phase) {
		cr_assert_lt(now_s() - t0, 10.0, "the reader did not answer");
		sched_yield();
	}
}

Test(flow_readers, lookups_while_the_owner_adds_and_deletes)
{
	static struct shared sh;
	static uint32_t refs[NKEYS];
	static bool tw[NKEYS];
	struct td_flow_stats st;
	struct td_flow_key k;
	uint64_t rng = 0x0123456789abcdefull, ops = 0;
	pthread_t th;
	double t0;

	sh.f = test_table("readers", CAP, CAP);
	for (uint32_t i = 0; i < NKEYS; i++)
		refs[i] = TD_FLOW_NONE;
	cr_assert_eq(pthread_create(&th, NULL, reader, &sh), 0);
	while (!atomic_load(&sh.ready))
		sched_yield();

	/* The owner's churn, for about a second: a key that is absent is
	 * added (which fails while the family's slots are all used or
	 * deferred); a present key is deleted one time in eight, retagged to
	 * TIME-WAIT one time in eight, and otherwise looked up by the owner,
	 * which must see exactly what it wrote. A reclaim every 8 operations,
	 * as a poll loop would. */
	t0 = now_s();
	while (now_s() - t0 < 1.0 || atomic_load(&sh.lookups) < 100000) {
		cr_assert_lt(now_s() - t0, 30.0, "the reader made no progress");
		for (unsigned j = 0; j < 256; j++, ops++) {
			uint32_t i = (uint32_t)(next(&rng) % NKEYS), r = (uint32_t)next(&rng) % 8;

			test_key(&k, family_of(i), i);
			if (refs[i] == TD_FLOW_NONE) {
				int rc = td_flow_add(sh.f, &k, td_flow_val_conn(i), &refs[i]);

				cr_assert(rc == 0 || rc == -TD_ENOSPC, "add: %d", rc);
				if (rc != 0)
					refs[i] = TD_FLOW_NONE;
				tw[i] = false;
			} else if (r == 0) {
				cr_assert_eq(td_flow_del(sh.f, refs[i]), 0);
				refs[i] = TD_FLOW_NONE;
			} else if (r == 1 && !tw[i]) {
				cr_assert_eq(td_flow_set(sh.f, refs[i], td_flow_val_tw(i)), 0);
				tw[i] = true;
			} else {
				uint32_t want = tw[i] ? td_flow_val_tw(i) : td_flow_val_conn(i);

				cr_assert_eq(td_flow_lookup(sh.f, &k, NULL), want);
			}
			if (ops % 8 == 0)
				td_flow_reclaim(sh.f, 0);
		}
	}

	/* Delete everything, then wait for the grace period of the last
	 * deletes: the reader keeps reporting, so every slot comes back. */
	for (uint32_t i = 0; i < NKEYS; i++)
		if (refs[i] != TD_FLOW_NONE)
			cr_assert_eq(td_flow_del(sh.f, refs[i]), 0);
	t0 = now_s();
	do {
		td_flow_reclaim(sh.f, 0);
		td_flow_stats(sh.f, &st);
		cr_assert_lt(now_s() - t0, 10.0, "%u slots never came back", st.deferred);
	} while (st.deferred != 0);

	atomic_store(&sh.phase, SWEEP);
	wait_phase(&sh, SWEPT);
	atomic_store(&sh.phase, STOP);
	pthread_join(th, NULL);

	cr_expect_eq(atomic_load(&sh.bad), 0, "key %u read as %#x",
		     (unsigned)(atomic_load(&sh.bad_pair) >> 32),
		     (unsigned)atomic_load(&sh.bad_pair));
	cr_expect_eq(atomic_load(&sh.sweep_hits), 0, "stale entries after the grace period");
	cr_expect_gt(atomic_load(&sh.hits), 0, "the reader found keys while they lived");
	cr_expect_eq(st.used_v4 + st.used_v6, 0);
	cr_expect_eq(st.reclaimed, st.dels);
	cr_expect_gt(st.reclaimed, 10 * 2 * CAP, "slots reused many times (%lu)",
		     (unsigned long)st.reclaimed);
	cr_log_info("owner ops %lu, deletes %lu, grace periods %lu, reader lookups %lu, hits %lu",
		    (unsigned long)ops, (unsigned long)st.dels, (unsigned long)st.grace_periods,
		    (unsigned long)atomic_load(&sh.lookups), (unsigned long)atomic_load(&sh.hits));
	td_flow_destroy(sh.f);
}
