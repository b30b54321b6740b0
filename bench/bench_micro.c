/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * td_bench_micro: micro-benchmarks of lib/flow and lib/timer, and the memory
 * a connection and a TIME-WAIT entry cost all-in. One JSON object per line
 * on stdout; see bench/README.md for what each figure means.
 *
 * Everything runs on the main lcore, one run per size, timed with the TSC
 * (rte_rdtsc(), converted with rte_get_tsc_hz()). The EAL runs with
 * --no-huge, so the flow table sits on 4 KiB pages.
 *
 *  - flow_lookup: a table of N IPv4 entries (configured for exactly N, so
 *    full), looked up in bursts of 32 keys drawn uniformly at random among
 *    the N present keys with td_flow_lookup_bulk(). Each key is built from
 *    its index just before the lookup, as a parser would build it from a
 *    packet; that cost is in the figure and printed apart (keygen_ns).
 *  - timer: N timers in an array (as in lib/tcp's connection pool), armed,
 *    cancelled and expired in a random order of the array. Expiry: every
 *    timer due at a uniformly random tick of the next 1000 (1 s of lib/tcp's
 *    1 ms ticks: RTO-like deadlines), the wheel advanced one tick at a time;
 *    and, as a second figure, all N due at the same tick.
 *  - memory: lib/tcp's connection block and TIME-WAIT entry (sizeof of the
 *    structs in tcp_impl.h), the pool's free-list index, the flow table's
 *    share (the EAL heap's allocated bytes before and after td_flow_create(),
 *    divided by the N entries of the full table) and the timer wheel's share
 *    (lib/tcp's 65536 slot heads over N connections).
 */

/* _DEFAULT_SOURCE for madvise(MADV_HUGEPAGE) (--thp). */
#define _DEFAULT_SOURCE

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "td_flow.h"
#include "td_timer.h"
#include "tcp_impl.h"

#define BURST 32
#define TIMER_SLOTS 65536 /* lib/tcp's default timer_slots */
#define SPAN 1000         /* ticks over which expiring timers are spread */

static const uint32_t sizes_all[] = {1000, 100000, 1000000, 10000000};

struct run {
	double seconds; /* per lookup measurement */
	uint32_t max_entries;
	uint64_t hz;
	bool thp;          /* 2 MiB transparent huge pages for the table and the timers */
	const char *pages; /* "4k" or "thp" */
	int socket;        /* the heap the flow tables come from */
};

/* A bijection of 64-bit integers (splitmix64's finaliser): distinct
 * indices give distinct keys, and nearby indices unrelated ones. */
static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* The key of index i: one local address, 64 random bits of remote address
 * and ports. */
static inline void
key_of(struct td_flow_key *k, uint64_t i)
{
	uint64_t x = mix64(i);

	td_flow_key_v4(k, rte_cpu_to_be_32(0x0a000001), (uint32_t)(x >> 32), (uint16_t)(x >> 16),
		       (uint16_t)x);
}

static double
ns_of(const struct run *r, uint64_t cycles)
{
	return (double)cycles * 1e9 / (double)r->hz;
}

/* --thp: the EAL's --no-huge memory is a shared memfd, for which this
 * kernel gives no transparent huge pages (shmem_enabled is "never"). So the
 * tables come from an external malloc heap on private anonymous memory
 * marked MADV_HUGEPAGE: the layout of a run with 2 MiB hugepages, on a
 * machine that has none reserved. */
#define THP_HEAP_BYTES (1536ull << 20)

static int
thp_heap(void)
{
	const size_t huge = 2u << 20;
	uint8_t *va = mmap(NULL, THP_HEAP_BYTES + huge, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (va == MAP_FAILED)
		return -1;
	va = (uint8_t *)(((uintptr_t)va + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise(va, THP_HEAP_BYTES, MADV_HUGEPAGE) != 0 ||
	    rte_malloc_heap_create("td_thp") != 0 ||
	    rte_malloc_heap_memory_add("td_thp", va, THP_HEAP_BYTES, NULL,
				       (unsigned)(THP_HEAP_BYTES / huge), huge) != 0)
		return -1;
	return rte_malloc_heap_get_socket("td_thp");
}

static void *
alloc_array(const struct run *r, size_t bytes)
{
	const size_t huge = 2u << 20;
	size_t len = (bytes + huge - 1) / huge * huge;
	void *p = aligned_alloc(huge, len);

	if (p == NULL)
		return NULL;
	if (r->thp)
		madvise(p, len, MADV_HUGEPAGE);
	memset(p, 0, len);
	return p;
}

static uint64_t
heap_allocated(int socket)
{
	struct rte_malloc_socket_stats s;

	if (rte_malloc_get_socket_stats(socket, &s) != 0)
		return 0;
	return s.heap_allocsz_bytes;
}

static void
bench_flow(const struct run *r, uint32_t n)
{
	char err[160], name[32];
	struct td_flow_config cfg = {
		.name = name,
		.entries_v4 = n,
		.socket_id = r->socket,
		.hash_seed = 0x5eed,
		.max_readers = 1,
	};
	struct td_flow_key keys[BURST];
	uint32_t vals[BURST];
	struct td_flow_mem mem;
	struct td_flow_stats st;
	uint64_t heap0, heap1, t0, t1, lookups = 0, hits = 0, rng = 0x9e3779b97f4a7c15ull;
	uint64_t sink = 0, budget = (uint64_t)(r->seconds * (double)r->hz);
	uint32_t failed = 0;
	struct td_flow *f;

	snprintf(name, sizeof(name), "bench%u", n);
	heap0 = heap_allocated(r->socket);
	f = td_flow_create(&cfg, err, sizeof(err));
	if (f == NULL) {
		fprintf(stderr, "td_bench_micro: %s\n", err);
		exit(1);
	}
	heap1 = heap_allocated(r->socket);
	td_flow_memory(f, &mem);

	t0 = rte_rdtsc();
	for (uint32_t i = 0; i < n; i++) {
		struct td_flow_key k;

		key_of(&k, i);
		if (td_flow_add(f, &k, td_flow_val_conn(i), NULL) != 0)
			failed++;
	}
	t1 = rte_rdtsc();
	printf("{\"bench\":\"flow_add\",\"entries\":%u,\"ns_per_op\":%.1f,\"failed\":%u}\n", n,
	       ns_of(r, t1 - t0) / n, failed);

	/* What building the keys alone costs, to read the lookup figure. */
	t0 = rte_rdtsc();
	for (uint32_t b = 0; b < (1u << 20) / BURST; b++) {
		for (unsigned j = 0; j < BURST; j++)
			key_of(&keys[j], xorshift(&rng) % n);
		sink += keys[b % BURST].v4.raddr;
	}
	t1 = rte_rdtsc();
	double keygen_ns = ns_of(r, t1 - t0) / (1u << 20);

	t0 = rte_rdtsc();
	do {
		for (unsigned b = 0; b < 256; b++) {
			for (unsigned j = 0; j < BURST; j++)
				key_of(&keys[j], xorshift(&rng) % n);
			hits += td_flow_lookup_bulk(f, keys, BURST, vals);
			sink += vals[b % BURST];
		}
		lookups += 256 * BURST;
		t1 = rte_rdtsc();
	} while (t1 - t0 < budget);
	printf("{\"bench\":\"flow_lookup\",\"entries\":%u,\"mops\":%.2f,\"burst\":%u,"
	       "\"ns_per_lookup\":%.1f,\"keygen_ns\":%.1f,\"hit_ratio\":%.6f,\"pages\":\"%s\"}\n",
	       n, (double)lookups / (ns_of(r, t1 - t0) / 1e3), BURST, ns_of(r, t1 - t0) / lookups,
	       keygen_ns, (double)hits / lookups, r->pages);

	/* Memory, all-in, for IPv4: the table is full at its configured size,
	 * so its bytes divide by n. */
	td_flow_stats(f, &st);
	double table = (double)(heap1 - heap0) / n;
	double wheel = (double)TIMER_SLOTS * sizeof(struct td_timer) / n;
	double conn = sizeof(struct td_tcp_conn) + sizeof(uint32_t) + table + wheel;
	double tw = sizeof(struct td_tw) + table;
	printf("{\"bench\":\"memory\",\"entries\":%u,\"bytes_per_conn\":%.1f,"
	       "\"bytes_per_time_wait\":%.1f,\"conn_block\":%zu,\"tw_entry\":%zu,"
	       "\"table_per_entry\":%.1f,\"table_layout_per_entry\":%.1f,\"wheel_per_conn\":%.2f,"
	       "\"table_used\":%u}\n",
	       n, conn, tw, sizeof(struct td_tcp_conn), sizeof(struct td_tw), table,
	       (double)mem.total / n, wheel, st.used_v4);
	if (sink == 42)
		fprintf(stderr, "\n");
	td_flow_destroy(f);
}

static uint64_t fired;

static void
on_fire(struct td_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	fired++;
}

static void
timer_line(const struct run *r, const char *op, uint32_t n, double ns, const char *extra)
{
	printf("{\"bench\":\"timer\",\"op\":\"%s\",\"timers\":%u,\"ns_per_op\":%.1f%s,"
	       "\"pages\":\"%s\"}\n",
	       op, n, ns, extra, r->pages);
}

static void
shuffle(uint32_t *a, uint32_t n, uint64_t *rng)
{
	for (uint32_t i = 0; i < n; i++)
		a[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(xorshift(rng) % (i + 1)), x = a[i];

		a[i] = a[j];
		a[j] = x;
	}
}

static void
bench_timer(const struct run *r, uint32_t n)
{
	struct td_timer_wheel w;
	struct td_timer *tm = alloc_array(r, (size_t)n * sizeof(*tm));
	uint32_t *perm = alloc_array(r, (size_t)n * sizeof(*perm));
	uint32_t *perm2 = alloc_array(r, (size_t)n * sizeof(*perm2));
	uint64_t rng = 0x2545f4914f6cdd1dull, t0, t1;

	if (tm == NULL || perm == NULL || perm2 == NULL ||
	    td_timer_wheel_init(&w, TIMER_SLOTS, 0, on_fire, NULL)) {
		fprintf(stderr, "td_bench_micro: no memory for %u timers\n", n);
		exit(1);
	}
	/* A random order of the array: connections do not time out in the
	 * order they sit in memory. */
	shuffle(perm, n, &rng);
	shuffle(perm2, n, &rng);

	t0 = rte_rdtsc();
	for (uint32_t i = 0; i < n; i++)
		td_timer_arm(&w, &tm[perm[i]], 1 + xorshift(&rng) % SPAN);
	t1 = rte_rdtsc();
	timer_line(r, "arm", n, ns_of(r, t1 - t0) / n,
		   ",\"due\":\"spread_1000_ticks\",\"order\":\"random\"");

	t0 = rte_rdtsc();
	for (uint32_t i = 0; i < n; i++)
		td_timer_cancel(&w, &tm[perm2[i]]);
	t1 = rte_rdtsc();
	timer_line(r, "cancel", n, ns_of(r, t1 - t0) / n, ",\"order\":\"random\"");

	for (uint32_t i = 0; i < n; i++)
		td_timer_arm(&w, &tm[perm[i]], 1 + xorshift(&rng) % SPAN);
	fired = 0;
	t0 = rte_rdtsc();
	for (uint64_t tick = 1; tick <= SPAN; tick++)
		td_timer_advance(&w, tick, 0);
	t1 = rte_rdtsc();
	if (fired != n || w.armed != 0) {
		fprintf(stderr, "td_bench_micro: %" PRIu64 " of %u timers fired\n", fired, n);
		exit(1);
	}
	timer_line(r, "expire", n, ns_of(r, t1 - t0) / n,
		   ",\"due\":\"spread_1000_ticks\",\"order\":\"random\"");

	for (uint32_t i = 0; i < n; i++)
		td_timer_arm(&w, &tm[perm[i]], SPAN + 1);
	fired = 0;
	t0 = rte_rdtsc();
	td_timer_advance(&w, SPAN + 1, 0);
	t1 = rte_rdtsc();
	if (fired != n) {
		fprintf(stderr, "td_bench_micro: %" PRIu64 " of %u timers fired\n", fired, n);
		exit(1);
	}
	timer_line(r, "expire", n, ns_of(r, t1 - t0) / n,
		   ",\"due\":\"same_tick\",\"order\":\"random\"");

	/* The wheel's own cost, without the cache misses: timers due in the
	 * order they sit in memory, each tick's timers a run of the array. */
	for (uint32_t i = 0; i < n; i++)
		td_timer_arm(&w, &tm[i], SPAN + 2 + (uint64_t)i * SPAN / n);
	fired = 0;
	t0 = rte_rdtsc();
	for (uint64_t tick = SPAN + 2; tick <= 2 * SPAN + 1; tick++)
		td_timer_advance(&w, tick, 0);
	t1 = rte_rdtsc();
	if (fired != n) {
		fprintf(stderr, "td_bench_micro: %" PRIu64 " of %u timers fired\n", fired, n);
		exit(1);
	}
	timer_line(r, "expire", n, ns_of(r, t1 - t0) / n,
		   ",\"due\":\"spread_1000_ticks\",\"order\":\"memory\"");

	td_timer_wheel_free(&w);
	free(perm2);
	free(perm);
	free(tm);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--seconds S] [--max-entries N] [--thp]\n"
		"  --seconds S      time per lookup measurement (default 0.5)\n"
		"  --max-entries N  skip the sizes above N (default 10000000)\n"
		"  --thp            2 MiB transparent huge pages under the tables and timers\n",
		prog);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct run r = {.seconds = 0.5, .max_entries = 10000000};
	char prefix[64];
	/* --no-shconf and --no-telemetry leave the runtime directory empty,
	 * so that it can be removed at the end. */
	char *eal[] = {argv[0],         "--no-huge",   "--no-pci",       "-m", "2048", prefix,
		       "--log-level=3", "--no-shconf", "--no-telemetry", "-l", "0",    NULL};
	char rundir[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			r.seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--thp") == 0)
			r.thp = true;
		else if (strcmp(argv[i], "--max-entries") == 0 && i + 1 < argc)
			r.max_entries = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			usage(argv[0]);
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=tdbench%d", (int)getpid());
	if (rte_eal_init((int)TD_ARRAY_SIZE(eal) - 1, eal) < 0) {
		fprintf(stderr, "td_bench_micro: rte_eal_init failed\n");
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	r.hz = rte_get_tsc_hz();
	r.pages = r.thp ? "thp" : "4k";
	r.socket = r.thp ? thp_heap() : (int)rte_socket_id();
	if (r.socket < 0) {
		fprintf(stderr, "td_bench_micro: cannot make the --thp heap\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (unsigned i = 0; i < TD_ARRAY_SIZE(sizes_all); i++)
		if (sizes_all[i] <= r.max_entries)
			bench_flow(&r, sizes_all[i]);
	for (unsigned i = 0; i < TD_ARRAY_SIZE(sizes_all); i++)
		if (sizes_all[i] <= r.max_entries)
			bench_timer(&r, sizes_all[i]);
	rte_eal_cleanup();
	rmdir(rundir);
	return 0;
}
