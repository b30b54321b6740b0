/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK's headers use POSIX names (ssize_t, strnlen) that -std=c11 hides. */
#define _POSIX_C_SOURCE 200809L

#include <assert.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "td_flow.h"

static_assert(sizeof(struct td_flow_key4) == TD_FLOW_KEY4_LEN, "the IPv4 key is 16 bytes");
static_assert(sizeof(struct td_flow_key6) == TD_FLOW_KEY6_LEN, "the IPv6 key is 36 bytes");
static_assert(sizeof(struct td_flow_key) == 40, "an API key is 40 bytes");
static_assert(TD_FLOW_BULK_MAX == RTE_HASH_LOOKUP_BULK_MAX, "one rte_hash bulk per group");
static_assert(sizeof(void *) >= sizeof(uint32_t), "a value fits rte_hash's data word");

/* A ref is the rte_hash position, with this bit for the IPv6 table. rte_hash
 * positions are below RTE_HASH_ENTRIES_MAX (2^30), so the bit is free. */
#define REF_V6 0x80000000u
static_assert(RTE_HASH_ENTRIES_MAX <= (int64_t)REF_V6, "positions leave bit 31 free");

/* Batches of deletes waiting for their grace period. When all are in use,
 * the newest batch absorbs the next deletes under a newer token, which only
 * delays their reuse (a later token's grace period covers the earlier). */
#define NEPOCH 64

struct epoch {
	uint64_t token; /* from rte_rcu_qsbr_start() */
	uint64_t end;   /* defer queue position just after the batch's last ref */
};

struct td_flow {
	/* Read on every lookup. */
	alignas(RTE_CACHE_LINE_SIZE) struct rte_hash *h4;
	struct rte_hash *h6;
	struct rte_rcu_qsbr *qsv;

	/* The defer queue: refs in delete order. dq_head..dq_tail are waiting;
	 * the first dq_sealed of them belong to a batch with a token. The
	 * counters only grow; the slot is the counter modulo dq_cap. */
	alignas(RTE_CACHE_LINE_SIZE) uint32_t *dq;
	uint32_t dq_cap;
	uint64_t dq_head, dq_tail, dq_sealed;
	struct epoch ep[NEPOCH];
	unsigned ep_first, ep_n;
	bool ep_first_passed; /* the first batch's grace period is known to be over */

	bool own_qsv;
	uint32_t cap_v4, cap_v6;
	uint32_t used_v4, used_v6;
	uint64_t qsv_bytes;
	struct td_flow_stats st;
};

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
td_flow_key_v6(struct td_flow_key *k, const uint8_t *laddr, const uint8_t *raddr, uint16_t lport,
	       uint16_t rport)
{
	*k = (struct td_flow_key){.family = TD_FLOW_V6};
	memcpy(k->v6.laddr, laddr, 16);
	memcpy(k->v6.raddr, raddr, 16);
	k->v6.lport = lport;
	k->v6.rport = rport;
}

void
td_flow_key_reverse(const struct td_flow_key *k, struct td_flow_key *out)
{
	if (k->family == TD_FLOW_V6)
		td_flow_key_v6(out, k->v6.raddr, k->v6.laddr, k->v6.rport, k->v6.lport);
	else
		td_flow_key_v4(out, k->v4.raddr, k->v4.laddr, k->v4.rport, k->v4.lport);
}

static struct rte_hash *
hash_make(const struct td_flow_config *cfg, char fam, uint32_t entries, uint32_t key_len, char *err,
	  size_t errlen)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.hash_func = NULL, /* rte_hash's default: CRC32-C on x86 and arm64 */
		.hash_func_init_val = cfg->hash_seed,
		.socket_id = cfg->socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash *h;

	snprintf(name, sizeof(name), "td%c_%s", fam, cfg->name);
	h = rte_hash_create(&p);
	if (h == NULL)
		errf(err, errlen, "flow %s: rte_hash_create(%s, %u entries): %s", cfg->name, name,
		     entries, rte_strerror(rte_errno));
	return h;
}

struct td_flow *
td_flow_create(const struct td_flow_config *cfg, char *err, size_t errlen)
{
	struct td_flow *f;
	uint64_t dq_cap;

	if (cfg->name == NULL || cfg->name[0] == '\0' || strlen(cfg->name) > 20) {
		errf(err, errlen, "flow: name must have 1 to 20 characters");
		return NULL;
	}
	if (cfg->entries_v4 < 8 || cfg->entries_v4 > RTE_HASH_ENTRIES_MAX ||
	    (cfg->entries_v6 != 0 &&
	     (cfg->entries_v6 < 8 || cfg->entries_v6 > RTE_HASH_ENTRIES_MAX))) {
		errf(err, errlen, "flow %s: entries_v4 must be 8..%u, entries_v6 0 or 8..%u",
		     cfg->name, (unsigned)RTE_HASH_ENTRIES_MAX, (unsigned)RTE_HASH_ENTRIES_MAX);
		return NULL;
	}
	f = rte_zmalloc_socket("td_flow", sizeof(*f), RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (f == NULL) {
		errf(err, errlen, "flow %s: no EAL memory for the table", cfg->name);
		return NULL;
	}
	f->cap_v4 = cfg->entries_v4;
	f->cap_v6 = cfg->entries_v6;
	f->st.cap_v4 = f->cap_v4;
	f->st.cap_v6 = f->cap_v6;

	f->h4 = hash_make(cfg, '4', cfg->entries_v4, TD_FLOW_KEY4_LEN, err, errlen);
	if (f->h4 == NULL)
		goto fail;
	if (cfg->entries_v6 != 0) {
		f->h6 = hash_make(cfg, '6', cfg->entries_v6, TD_FLOW_KEY6_LEN, err, errlen);
		if (f->h6 == NULL)
			goto fail;
	}

	/* Every slot of both tables can be awaiting its grace period at once
	 * (a reader that stopped reporting), never more: the queue cannot
	 * overflow. */
	dq_cap = (uint64_t)cfg->entries_v4 + cfg->entries_v6;
	f->dq = rte_malloc_socket("td_flow_dq", dq_cap * sizeof(*f->dq), RTE_CACHE_LINE_SIZE,
				  cfg->socket_id);
	if (f->dq == NULL) {
		errf(err, errlen, "flow %s: no EAL memory for the defer queue (%" PRIu64 " refs)",
		     cfg->name, dq_cap);
		goto fail;
	}
	f->dq_cap = (uint32_t)dq_cap;

	if (cfg->qsv != NULL) {
		f->qsv = cfg->qsv;
	} else {
		uint32_t n = cfg->max_readers ? cfg->max_readers : 1;
		size_t sz = rte_rcu_qsbr_get_memsize(n);

		f->qsv = rte_zmalloc_socket("td_flow_qsv", sz, RTE_CACHE_LINE_SIZE, cfg->socket_id);
		if (f->qsv == NULL || rte_rcu_qsbr_init(f->qsv, n) != 0) {
			errf(err, errlen, "flow %s: cannot make a QS variable for %u readers",
			     cfg->name, n);
			rte_free(f->qsv);
			f->qsv = NULL;
			goto fail;
		}
		f->own_qsv = true;
		f->qsv_bytes = sz;
	}
	return f;

fail:
	td_flow_destroy(f);
	return NULL;
}

void
td_flow_destroy(struct td_flow *f)
{
	if (f == NULL)
		return;
	rte_hash_free(f->h4);
	rte_hash_free(f->h6);
	rte_free(f->dq);
	if (f->own_qsv)
		rte_free(f->qsv);
	rte_free(f);
}

static inline struct rte_hash *
table_of_key(const struct td_flow *f, const struct td_flow_key *k)
{
	return k->family == TD_FLOW_V4 ? f->h4 : k->family == TD_FLOW_V6 ? f->h6 : NULL;
}

static inline struct rte_hash *
table_of_ref(const struct td_flow *f, uint32_t ref)
{
	return (ref & REF_V6) ? f->h6 : f->h4;
}

/* The table of a ref that may name a slot, NULL for one out of range
 * (rte_hash would read outside its key store). */
static inline struct rte_hash *
table_of_valid_ref(const struct td_flow *f, uint32_t ref)
{
	if (ref & REF_V6)
		return (ref & ~REF_V6) < f->cap_v6 ? f->h6 : NULL;
	return ref < f->cap_v4 ? f->h4 : NULL;
}

static inline const void *
key_bytes(const struct td_flow_key *k)
{
	return k->family == TD_FLOW_V4 ? (const void *)&k->v4 : (const void *)&k->v6;
}

static inline uint32_t
val_of(const void *data)
{
	return (uint32_t)(uintptr_t)data;
}

static inline void *
data_of(uint32_t val)
{
	return (void *)(uintptr_t)val;
}

/* Seal the deletes since the last batch under a new token. */
static void
seal(struct td_flow *f)
{
	uint64_t token;

	if (f->dq_sealed == f->dq_tail)
		return;
	token = rte_rcu_qsbr_start(f->qsv);
	f->st.grace_periods++;
	if (f->ep_n == NEPOCH) {
		struct epoch *last = &f->ep[(f->ep_first + NEPOCH - 1) % NEPOCH];

		last->token = token;
		last->end = f->dq_tail;
	} else {
		struct epoch *e = &f->ep[(f->ep_first + f->ep_n) % NEPOCH];

		e->token = token;
		e->end = f->dq_tail;
		f->ep_n++;
	}
	f->dq_sealed = f->dq_tail;
}

unsigned
td_flow_reclaim(struct td_flow *f, unsigned budget)
{
	unsigned freed = 0;

	seal(f);
	while (f->ep_n > 0) {
		struct epoch *e = &f->ep[f->ep_first];

		/* Tokens grow batch after batch: when one grace period is not
		 * over, the later ones are not either. */
		if (!f->ep_first_passed) {
			if (rte_rcu_qsbr_check(f->qsv, e->token, false) != 1)
				break;
			f->ep_first_passed = true;
		}
		while (f->dq_head < e->end) {
			uint32_t ref;

			if (budget != 0 && freed == budget)
				goto out;
			ref = f->dq[f->dq_head % f->dq_cap];
			f->dq_head++;
			rte_hash_free_key_with_position(table_of_ref(f, ref),
							(int32_t)(ref & ~REF_V6));
			freed++;
		}
		f->ep_first = (f->ep_first + 1) % NEPOCH;
		f->ep_n--;
		f->ep_first_passed = false;
	}
out:
	f->st.reclaimed += freed;
	return freed;
}

int
td_flow_add(struct td_flow *f, const struct td_flow_key *k, uint32_t val, uint32_t *ref)
{
	struct rte_hash *h = table_of_key(f, k);
	const void *kb = key_bytes(k);
	hash_sig_t sig;
	int32_t before, pos;
	int rc;

	if (val == TD_FLOW_NONE || (k->family != TD_FLOW_V4 && k->family != TD_FLOW_V6))
		return -TD_EINVAL;
	if (h == NULL)
		return -TD_ENOTSUP;
	sig = rte_hash_hash(h, kb);
	/* rte_hash_count() is the slots not on the free ring, an O(1) read;
	 * with one writer it grows by one exactly when the key is new. */
	before = rte_hash_count(h);
	rc = rte_hash_add_key_with_hash_data(h, kb, sig, data_of(val));
	if (rc == -ENOSPC && f->dq_tail != f->dq_head && td_flow_reclaim(f, 0) > 0) {
		before = rte_hash_count(h);
		rc = rte_hash_add_key_with_hash_data(h, kb, sig, data_of(val));
	}
	if (rc != 0) {
		f->st.add_full++;
		return rc == -ENOSPC ? -TD_ENOSPC : -TD_EINVAL;
	}
	if (ref != NULL) {
		/* The data variant of the add does not return the position;
		 * the entry was just touched, so this lookup hits the cache. */
		pos = rte_hash_lookup_with_hash(h, kb, sig);
		*ref = (uint32_t)pos | (k->family == TD_FLOW_V6 ? REF_V6 : 0);
	}
	if (rte_hash_count(h) == before) {
		f->st.replaces++;
		return 1;
	}
	f->st.adds++;
	if (k->family == TD_FLOW_V6)
		f->used_v6++;
	else
		f->used_v4++;
	return 0;
}

int
td_flow_set(struct td_flow *f, uint32_t ref, uint32_t val)
{
	struct rte_hash *h = table_of_valid_ref(f, ref);
	void *kb;

	if (val == TD_FLOW_NONE)
		return -TD_EINVAL;
	if (h == NULL || rte_hash_get_key_with_position(h, (int32_t)(ref & ~REF_V6), &kb) != 0)
		return -TD_ENOTCONN;
	/* An add of a present key stores the new data word atomically and
	 * touches nothing else. The key passed in is the stored one itself,
	 * which the add only reads. */
	if (rte_hash_add_key_data(h, kb, data_of(val)) != 0)
		return -TD_ENOTCONN;
	f->st.replaces++;
	return 0;
}

static void
defer(struct td_flow *f, uint32_t ref)
{
	/* dq_tail - dq_head <= slots in use by deleted keys <= dq_cap. */
	f->dq[f->dq_tail % f->dq_cap] = ref;
	f->dq_tail++;
	f->st.dels++;
	if (ref & REF_V6)
		f->used_v6--;
	else
		f->used_v4--;
}

int
td_flow_del(struct td_flow *f, uint32_t ref)
{
	struct rte_hash *h = table_of_valid_ref(f, ref);
	int32_t pos = (int32_t)(ref & ~REF_V6);
	void *kb;

	if (h == NULL || rte_hash_get_key_with_position(h, pos, &kb) != 0)
		return -TD_ENOTCONN;
	/* The key passed in is the stored one; the delete reads it before it
	 * unlinks the slot, and the slot is not reused before the grace
	 * period. */
	if (rte_hash_del_key(h, kb) != pos)
		return -TD_ENOTCONN;
	defer(f, ref);
	return 0;
}

int
td_flow_del_key(struct td_flow *f, const struct td_flow_key *k, uint32_t *val)
{
	struct rte_hash *h = table_of_key(f, k);
	const void *kb;
	hash_sig_t sig;
	int32_t pos;

	if (h == NULL)
		return -TD_ENOTCONN;
	kb = key_bytes(k);
	sig = rte_hash_hash(h, kb);
	if (val != NULL) {
		void *data;

		if (rte_hash_lookup_with_hash_data(h, kb, sig, &data) < 0)
			return -TD_ENOTCONN;
		*val = val_of(data);
	}
	pos = rte_hash_del_key_with_hash(h, kb, sig);
	if (pos < 0)
		return -TD_ENOTCONN;
	defer(f, (uint32_t)pos | (k->family == TD_FLOW_V6 ? REF_V6 : 0));
	return 0;
}

uint32_t
td_flow_lookup(const struct td_flow *f, const struct td_flow_key *k, uint32_t *ref)
{
	struct rte_hash *h = table_of_key(f, k);
	void *data;
	int32_t pos;

	if (h == NULL)
		return TD_FLOW_NONE;
	pos = rte_hash_lookup_data(h, key_bytes(k), &data);
	if (pos < 0)
		return TD_FLOW_NONE;
	if (ref != NULL)
		*ref = (uint32_t)pos | (k->family == TD_FLOW_V6 ? REF_V6 : 0);
	return val_of(data);
}

/* One rte_hash bulk lookup over the keys of one family, scattered back. */
static uint32_t
bulk_one(const struct rte_hash *h, const void **kp, const uint8_t *at, uint32_t n, uint32_t *vals)
{
	void *data[TD_FLOW_BULK_MAX];
	uint64_t hit = 0;
	int hits;

	if (h == NULL || n == 0)
		return 0;
	hits = rte_hash_lookup_bulk_data(h, kp, n, &hit, data);
	if (hits <= 0)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (hit & (1ull << i))
			vals[at[i]] = val_of(data[i]);
	return (uint32_t)hits;
}

uint32_t
td_flow_lookup_bulk(const struct td_flow *f, const struct td_flow_key *keys, uint32_t n,
		    uint32_t *vals)
{
	const void *p4[TD_FLOW_BULK_MAX], *p6[TD_FLOW_BULK_MAX];
	uint8_t at4[TD_FLOW_BULK_MAX], at6[TD_FLOW_BULK_MAX];
	uint32_t hits = 0;

	for (uint32_t base = 0; base < n; base += TD_FLOW_BULK_MAX) {
		uint32_t m = TD_MIN(n - base, (uint32_t)TD_FLOW_BULK_MAX);
		uint32_t n4 = 0, n6 = 0;

		for (uint32_t i = 0; i < m; i++) {
			const struct td_flow_key *k = &keys[base + i];

			vals[base + i] = TD_FLOW_NONE;
			if (k->family == TD_FLOW_V4) {
				p4[n4] = &k->v4;
				at4[n4++] = (uint8_t)i;
			} else if (k->family == TD_FLOW_V6) {
				p6[n6] = &k->v6;
				at6[n6++] = (uint8_t)i;
			}
		}
		hits += bulk_one(f->h4, p4, at4, n4, vals + base);
		hits += bulk_one(f->h6, p6, at6, n6, vals + base);
	}
	return hits;
}

int
td_flow_key_get(const struct td_flow *f, uint32_t ref, struct td_flow_key *k)
{
	struct rte_hash *h = table_of_valid_ref(f, ref);
	void *kb;

	if (h == NULL || rte_hash_get_key_with_position(h, (int32_t)(ref & ~REF_V6), &kb) != 0)
		return -TD_ENOTCONN;
	*k = (struct td_flow_key){.family = (ref & REF_V6) ? TD_FLOW_V6 : TD_FLOW_V4};
	if (ref & REF_V6)
		memcpy(&k->v6, kb, TD_FLOW_KEY6_LEN);
	else
		memcpy(&k->v4, kb, TD_FLOW_KEY4_LEN);
	return 0;
}

struct rte_rcu_qsbr *
td_flow_qsv(const struct td_flow *f)
{
	return f->qsv;
}

void
td_flow_stats(const struct td_flow *f, struct td_flow_stats *s)
{
	*s = f->st;
	s->used_v4 = f->used_v4;
	s->used_v6 = f->used_v6;
	s->deferred = (uint32_t)(f->dq_tail - f->dq_head);
}

/* What rte_hash_create() allocates for @p entries keys of @p key_len bytes,
 * with RW_CONCURRENCY_LF and without EXT_TABLE or MULTI_WRITER_ADD
 * (rte_cuckoo_hash.c, DPDK 22.11): the bucket array, the key store of
 * entries + 1 slots (slot 0 is a dummy), the free-slot ring, and the small
 * parts (struct rte_hash is two cache lines plus its name, the table change
 * counter one line). */
static void
hash_memory(uint32_t entries, uint32_t key_len, struct td_flow_mem *m)
{
	/* Mirrors struct rte_hash_bucket and struct rte_hash_key, which DPDK
	 * keeps private: 8 signatures, 8 key indices, 8 flags, next pointer;
	 * an 8-byte data word before each key, 16-byte aligned. */
	const uint64_t bucket = 64, entries_per_bucket = 8, key_align = 16, data_word = 8;
	uint64_t slots = (uint64_t)entries + 1;
	uint64_t ksz = RTE_ALIGN_CEIL(data_word + key_len, key_align);

	m->buckets += rte_align32pow2(entries) / entries_per_bucket * bucket;
	m->key_store += slots * ksz;
	m->free_ring += (uint64_t)rte_ring_get_memsize_elem(sizeof(uint32_t),
							    rte_align32pow2((uint32_t)slots));
	m->other += 3 * RTE_CACHE_LINE_SIZE;
}

void
td_flow_memory(const struct td_flow *f, struct td_flow_mem *m)
{
	*m = (struct td_flow_mem){0};
	hash_memory(f->cap_v4, TD_FLOW_KEY4_LEN, m);
	if (f->h6 != NULL)
		hash_memory(f->cap_v6, TD_FLOW_KEY6_LEN, m);
	m->defer = (uint64_t)f->dq_cap * sizeof(*f->dq);
	m->other += sizeof(*f) + f->qsv_bytes;
	m->total = m->buckets + m->key_store + m->free_ring + m->defer + m->other;
}
