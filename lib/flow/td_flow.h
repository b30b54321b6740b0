/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_FLOW_H
#define TD_FLOW_H

/**
 * @file
 * The per-lcore connection table: 4-tuple -> tagged 32-bit value, on DPDK's
 * rte_hash (cuckoo hashing, 8-way buckets), with lock-free concurrency
 * between one writer and any number of readers.
 *
 * **Who uses it.** Each lcore owns one table (td_flow_create() once per
 * lcore, with a name unique in the process). The lcore is the only writer:
 * it adds a key when a connection is created, changes the value when the
 * connection becomes a TIME-WAIT entry, deletes the key when the entry goes,
 * and looks keys up once per received burst (td_flow_lookup_bulk()). Other
 * threads (stats, telemetry) may look up at the same time; see "Readers".
 *
 * **Values.** A value is a tagged 32-bit reference: a connection index, or a
 * TIME-WAIT entry index with TD_FLOW_TW_BIT set (td_flow_val_tw()). Both kinds
 * sit in the same table, so one lookup resolves a segment to either; the
 * value is stored in rte_hash's per-key data word, so a hit costs no access
 * beyond the key slot. TD_FLOW_NONE (all ones) is the miss and is never
 * stored.
 *
 * **Key references.** td_flow_add() returns a ref: the key's slot in the
 * table, stable while the key is present. lib/tcp keeps that ref in its
 * connection block and TIME-WAIT entry (their `key` field) instead of a copy
 * of the tuple, and deletes or retags by ref (td_flow_del(), td_flow_set()).
 * A deleted ref is not reused before the readers' grace period has passed;
 * after that it may name another key, so the owner forgets a ref when it
 * deletes it.
 *
 * **Keys.** IPv4 and IPv6 keys live in two rte_hash tables with compact
 * layouts: 16 bytes for IPv4 (12 bytes of tuple and 4 of zero, because
 * rte_hash compares 16-byte keys with one SSE instruction and its key slot
 * is 32 bytes for any key of 9 to 24 bytes), 36 bytes for IPv6 (a 48-byte
 * key slot). Addresses and ports are kept in network byte order, as in the
 * packet, so that a parser fills a key without swapping bytes. Which side is
 * "local" is fixed by the owner: for received segments, local is the
 * destination.
 *
 * **Hash.** rte_hash's default on x86 (CRC32-C, seeded). The NIC's RSS hash
 * is deliberately not reused: with the symmetric RSS key below, Toeplitz
 * depends only on the XOR of the tuple's 16-bit words, far too many
 * collisions for a table. CRC32-C is not a keyed hash either (the seed moves
 * buckets but not collisions), so a sender who picks many tuples can crowd
 * one bucket pair; cuckoo hashing bounds the damage: a lookup still reads
 * at most 2 buckets (16 slots), and only adds into the crowded pair fail.
 *
 * **Readers (rte_rcu, QSBR).** Tables are created with
 * RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF: a reader never blocks and never
 * sees a half-written entry. A deleted key's slot must not be reused while a
 * reader may still be comparing it, so deletes are deferred: td_flow_del()
 * puts the ref on the table's defer queue, and td_flow_reclaim(), called by
 * the owner from its poll loop, takes a grace-period token
 * (rte_rcu_qsbr_start()) for the deletes since its last call and returns the
 * slots of every batch whose token all readers have passed
 * (rte_rcu_qsbr_check(), non-blocking). The queue holds as many refs as the
 * table has slots, so it cannot overflow and a slow reader never makes a
 * slot leak; it only delays reuse (an add that finds no free slot reclaims
 * once and then fails with -TD_ENOSPC). This is our own queue rather than
 * rte_hash_rcu_qsbr_add()'s: 4 bytes per slot instead of 16, one token per
 * poll loop instead of one per delete, and no slot lost when the queue is
 * full.
 * A reader thread registers with the QS variable (td_flow_qsv()), and
 * reports a quiescent state whenever it holds no value from the table:
 * @code
 *	struct rte_rcu_qsbr *v = td_flow_qsv(f);
 *	rte_rcu_qsbr_thread_register(v, id);      // id < max_readers
 *	rte_rcu_qsbr_thread_online(v, id);
 *	while (running) {
 *		td_flow_lookup_bulk(f, keys, n, vals); // or td_flow_lookup()
 *		... use vals ...
 *		rte_rcu_qsbr_quiescent(v, id);
 *	}
 *	rte_rcu_qsbr_thread_offline(v, id);
 *	rte_rcu_qsbr_thread_unregister(v, id);
 * @endcode
 * Only the table is protected this way: a reader gets a consistent value,
 * but must not dereference the connection or TIME-WAIT entry it names
 * (those pools are the owner's and change without a grace period). A
 * reader should run on a CPU of its own: one sharing the owner's CPU
 * stretches every grace period to a scheduler time slice (the EAL pins the
 * main thread to its lcore, and a thread started from it inherits the pin).
 * Every other function is for the owner lcore only.
 *
 * **Both directions of a flow on one lcore.** A table is per lcore, so every
 * segment of a connection must reach the lcore that owns it. The choice,
 * per port type:
 * - Multi-queue ports with RSS (physical NICs): the port is configured with
 *   the symmetric Toeplitz key (td_flow_rss_key_symmetric(): 0x6d5a
 *   repeated), so that a segment from A to B and one from B to A hash alike
 *   and land on the same queue, hence the same lcore (tests/flow checks
 *   this with rte_softrss() for IPv4 and IPv6). This puts both ends of a
 *   connection on one lcore when both run in the same process on one link.
 *   For an active open towards an outside peer, only the reply direction
 *   goes through RSS: the engine picks the local port so that
 *   td_flow_rss_queue(td_flow_rss_hash(key)) is its own queue.
 * - Single-queue ports (net_ring, net_virtio_user, net_memif, net_vhost,
 *   net_af_packet with qpairs=1): one lcore per port, so there is nothing to
 *   steer. This is the choice for every port type of issue 6 (net_ring,
 *   net_af_packet, net_virtio_user/net_vhost, net_memif, net_tap), each
 *   with one queue pair per port, and an lcore may poll several ports.
 * - net_af_packet with several qpairs: the kernel spreads frames with
 *   PACKET_FANOUT_HASH on the skb flow hash, which is symmetric
 *   (flow_dissector orders addresses and ports before hashing). But the DPDK
 *   22.11 PMD also sets PACKET_FANOUT_FLAG_ROLLOVER, which moves frames to
 *   another socket when one socket's ring is full, and a frame sent by a
 *   local kernel socket may carry the hash that socket picked at random
 *   (skb->hash from sk_txhash). Either moves a flow off its queue, and a
 *   segment on the wrong lcore misses its connection (and is answered with
 *   a reset). Hence one qpair per port, as above.
 *
 * **Memory** (DPDK 22.11's layout; td_flow_memory() gives the figures of a
 * table, bench/bench_micro.c checks them against the EAL heap). Per IPv4
 * entry, with E = entries and P = E rounded up to a power of two: a 32-byte
 * key slot (8-byte data word and 16-byte key, 16-aligned), 8 bytes of bucket
 * per P/E (64-byte buckets of 8 slots), 4 bytes of free-slot ring per
 * P'/E (P' = E + 1 rounded up) and 4 bytes of defer queue: 48 bytes at best
 * (E = 2^k - 1), 48.6 at E = 10^6, 56.1 at E = 10^7; IPv6 adds 16 bytes of
 * key slot. When E is a power of two the buckets have one slot per entry and
 * cuckoo displacement gives up a little early: an add may return
 * -TD_ENOSPC from about 98% of E (97.8% measured at 2^20); for any other E
 * every entry fits. rte_hash takes up to RTE_HASH_ENTRIES_MAX (2^30)
 * entries; the memory comes from the EAL heap: hugepages, or with --no-huge
 * the -m size (10M IPv4 entries take 561 MB, so -m 1024 is enough for one
 * such table).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_common.h"

struct rte_rcu_qsbr;

/** A table (opaque): one per lcore. */
struct td_flow;

/* ------------------------------------------------------------------------ */
/* Values                                                                    */

/** The tag bit of a TIME-WAIT entry index (same bit as lib/tcp's TCP_TW_BIT). */
#define TD_FLOW_TW_BIT 0x80000000u
/** A lookup miss. Never a stored value. */
#define TD_FLOW_NONE UINT32_MAX
/** The largest connection or TIME-WAIT entry index a value can carry. */
#define TD_FLOW_IDX_MAX 0x7ffffffeu

/** The value naming connection @p idx (at most TD_FLOW_IDX_MAX). */
static inline uint32_t
td_flow_val_conn(uint32_t idx)
{
	return idx;
}

/** The value naming TIME-WAIT entry @p idx (at most TD_FLOW_IDX_MAX). */
static inline uint32_t
td_flow_val_tw(uint32_t idx)
{
	return TD_FLOW_TW_BIT | idx;
}

/** True if @p v (not TD_FLOW_NONE) names a TIME-WAIT entry. */
static inline bool
td_flow_val_is_tw(uint32_t v)
{
	return (v & TD_FLOW_TW_BIT) != 0;
}

/** The connection or TIME-WAIT entry index of @p v (not TD_FLOW_NONE). */
static inline uint32_t
td_flow_val_idx(uint32_t v)
{
	return v & ~TD_FLOW_TW_BIT;
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

/** The IPv4 key, as stored: 16 bytes, network byte order. */
struct td_flow_key4 {
	uint32_t raddr; /**< remote address (the source of a received segment) */
	uint32_t laddr; /**< local address */
	uint16_t rport; /**< remote port */
	uint16_t lport; /**< local port */
	uint32_t zero;  /**< must be 0: rte_hash compares all 16 bytes */
};

/** The IPv6 key, as stored: 36 bytes, network byte order. */
struct td_flow_key6 {
	uint8_t raddr[16]; /**< remote address */
	uint8_t laddr[16]; /**< local address */
	uint16_t rport;    /**< remote port */
	uint16_t lport;    /**< local port */
};

/** Address family of a key: the IP version. */
enum td_flow_family {
	TD_FLOW_V4 = 4,
	TD_FLOW_V6 = 6,
};

/**
 * A key of either family, as passed to the API (40 bytes; only the
 * family's part is hashed and stored). Fill it with td_flow_key_v4() or
 * td_flow_key_v6(), which zero what the family does not use.
 */
struct td_flow_key {
	union {
		struct td_flow_key4 v4;
		struct td_flow_key6 v6;
	};
	uint8_t family; /**< enum td_flow_family */
	uint8_t pad[3];
};

/** Size of the stored IPv4 key (rte_hash key_len). */
#define TD_FLOW_KEY4_LEN 16
/** Size of the stored IPv6 key (rte_hash key_len). */
#define TD_FLOW_KEY6_LEN 36

/**
 * Make an IPv4 key. Addresses and ports in network byte order.
 * @param laddr local address, @param raddr remote address.
 */
static inline void
td_flow_key_v4(struct td_flow_key *k, uint32_t laddr, uint32_t raddr, uint16_t lport,
	       uint16_t rport)
{
	*k = (struct td_flow_key){.family = TD_FLOW_V4};
	k->v4.laddr = laddr;
	k->v4.raddr = raddr;
	k->v4.lport = lport;
	k->v4.rport = rport;
}

/** Make an IPv6 key. Addresses (16 bytes each) and ports in network byte order. */
void td_flow_key_v6(struct td_flow_key *k, const uint8_t *laddr, const uint8_t *raddr,
		    uint16_t lport, uint16_t rport);

/** The same flow seen from the other end: local and remote swapped. */
void td_flow_key_reverse(const struct td_flow_key *k, struct td_flow_key *out);

/* ------------------------------------------------------------------------ */
/* Table                                                                     */

/** Most keys td_flow_lookup_bulk() resolves in one pass (rte_hash's bulk limit). */
#define TD_FLOW_BULK_MAX 64

/** Configuration of a table. Zero-initialise, then set what you need. */
struct td_flow_config {
	/**
	 * Unique among the tables of the process (rte_hash names are global),
	 * at most 20 characters, e.g. "lc3".
	 */
	const char *name;
	uint32_t entries_v4; /**< IPv4 keys the table holds: 8 .. 2^30 */
	uint32_t entries_v6; /**< IPv6 keys: 0 (no IPv6) or 8 .. 2^30 */
	int socket_id;       /**< NUMA socket of the memory; -1 (SOCKET_ID_ANY) for any */
	uint32_t hash_seed;  /**< CRC32-C initial value; a random value per run is best */
	/**
	 * The readers' QS variable, shared between tables if the caller
	 * wishes (one telemetry thread reading every lcore's table registers
	 * once). NULL: the table makes its own for @p max_readers threads.
	 */
	struct rte_rcu_qsbr *qsv;
	uint32_t max_readers; /**< with qsv NULL: reader threads, 1 if 0 */
};

/**
 * Create a table (control path, on any thread; the EAL must be initialised).
 * Everything is allocated here from the EAL heap on @p cfg->socket_id and
 * nothing after.
 * @param err a buffer for one line saying what is wrong; may be NULL.
 * @return the table, or NULL with @p err filled (invalid config, a name in
 *   use, not enough EAL memory).
 */
struct td_flow *td_flow_create(const struct td_flow_config *cfg, char *err, size_t errlen);

/**
 * Free a table, its rte_hash tables, defer queue and (if its own) QS
 * variable. No reader may use the table any more. NULL is ignored.
 */
void td_flow_destroy(struct td_flow *f);

/**
 * Insert @p k with value @p val, or replace the value if @p k is present.
 * Readers see either no entry or the complete one (the value is written
 * before the key is published).
 * @param ref if not NULL, receives the key's ref.
 * @return 0 if inserted, 1 if @p k was present and its value replaced,
 *   -TD_ENOSPC if the table is full (every slot used or awaiting the grace
 *   period, or no cuckoo path for this key), -TD_ENOTSUP for an IPv6 key in a
 *   table without IPv6, -TD_EINVAL for val TD_FLOW_NONE or a bad family.
 */
int td_flow_add(struct td_flow *f, const struct td_flow_key *k, uint32_t val, uint32_t *ref);

/**
 * Change the value of the key @p ref names, atomically for readers (e.g. a
 * connection becoming TIME-WAIT entry i: td_flow_val_tw(i)).
 * @return 0, -TD_ENOTCONN if @p ref names no present key, -TD_EINVAL for
 *   val TD_FLOW_NONE.
 */
int td_flow_set(struct td_flow *f, uint32_t ref, uint32_t val);

/**
 * Delete the key @p ref names. Lookups miss it at once; its slot (and so
 * @p ref) is reused only after td_flow_reclaim() has seen the grace period.
 * @return 0 or -TD_ENOTCONN if @p ref names no present key.
 */
int td_flow_del(struct td_flow *f, uint32_t ref);

/**
 * Delete @p k.
 * @param val if not NULL, receives the value it had.
 * @return 0 or -TD_ENOTCONN if @p k is not present.
 */
int td_flow_del_key(struct td_flow *f, const struct td_flow_key *k, uint32_t *val);

/**
 * Look @p k up. Safe from a registered reader.
 * @param ref if not NULL and @p k is present, receives its ref.
 * @return the value, or TD_FLOW_NONE.
 */
uint32_t td_flow_lookup(const struct td_flow *f, const struct td_flow_key *k, uint32_t *ref);

/**
 * Look up a burst of keys: the hot path, once per received burst. Each group
 * of up to TD_FLOW_BULK_MAX keys of one family goes through
 * rte_hash_lookup_bulk_data(), which works in stages over the whole group:
 * it hashes every key and prefetches both candidate buckets of each, then
 * compares the 16-bit signatures and prefetches the first matching key slot
 * of each, then compares keys, so the memory latency of one key overlaps the
 * others'. The caller should then prefetch the connection blocks of the
 * hits before it processes the first. Safe from a registered reader.
 * @param n any number of keys; bursts of 32 or 64 are the intended use.
 * @param vals receives @p n values, TD_FLOW_NONE for each miss.
 * @return the number of hits.
 */
uint32_t td_flow_lookup_bulk(const struct td_flow *f, const struct td_flow_key *keys, uint32_t n,
			     uint32_t *vals);

/**
 * Copy the key @p ref names into @p k (what lib/tcp's tcp_key() needs to
 * address a segment). Not for the fast path: rte_hash checks the ref with a
 * lookup. The engine keeps the tuple in its per-connection segment template.
 * @return 0 or -TD_ENOTCONN.
 */
int td_flow_key_get(const struct td_flow *f, uint32_t ref, struct td_flow_key *k);

/**
 * Return to the free pool the slots of deleted keys that every reader is
 * done with, and start the grace period of the deletes since the last call.
 * Call it from the owner's poll loop (once per iteration is cheap: one
 * atomic increment when something was deleted, one non-blocking check per
 * pending batch). Never blocks.
 * @param budget at most this many slots freed (0: no limit).
 * @return the number of slots freed.
 */
unsigned td_flow_reclaim(struct td_flow *f, unsigned budget);

/** The QS variable readers register with (see "Readers" above). */
struct rte_rcu_qsbr *td_flow_qsv(const struct td_flow *f);

/** Counters and occupancy of a table, for its owner (plain loads). */
struct td_flow_stats {
	uint32_t cap_v4, cap_v6;   /**< configured entries */
	uint32_t used_v4, used_v6; /**< keys present */
	uint32_t deferred;         /**< deleted slots awaiting their grace period */
	uint64_t adds;             /**< keys inserted */
	uint64_t replaces;         /**< td_flow_add() on a present key, and td_flow_set() */
	uint64_t dels;             /**< keys deleted */
	uint64_t add_full;         /**< adds refused with -TD_ENOSPC */
	uint64_t reclaimed;        /**< slots returned after a grace period */
	uint64_t grace_periods;    /**< tokens taken (batches of deletes) */
};

/** Fill @p s. */
void td_flow_stats(const struct td_flow *f, struct td_flow_stats *s);

/**
 * Bytes a table holds, computed from rte_hash's layout in DPDK 22.11
 * (rte_cuckoo_hash.c: rte_hash_create()). bench/bench_micro.c checks the
 * total against the EAL heap's own count.
 */
struct td_flow_mem {
	uint64_t buckets;   /**< 64-byte buckets, 8 slots each, P slots per table */
	uint64_t key_store; /**< one key slot per entry, plus rte_hash's dummy slot 0 */
	uint64_t free_ring; /**< rte_hash's ring of free slot indices */
	uint64_t defer;     /**< our defer queue of deleted refs */
	uint64_t other;     /**< the table structs, QS variable, change counter */
	uint64_t total;
};

/** Fill @p m. */
void td_flow_memory(const struct td_flow *f, struct td_flow_mem *m);

/* ------------------------------------------------------------------------ */
/* RSS: both directions of a flow on one queue                               */

/** Length of the RSS key td_flow_rss_hash() uses (IPv6 with ports needs 40). */
#define TD_FLOW_RSS_KEY_LEN 40

/**
 * Fill @p len bytes of a symmetric Toeplitz key: 0x6d, 0x5a repeated (Woo and
 * Park, "Scalable TCP Session Monitoring with Symmetric Receive-side
 * Scaling", 2012). With it, hash(src, dst, sport, dport) equals
 * hash(dst, src, dport, sport). Give the port the length it asks for
 * (rte_eth_dev_info.hash_key_size: 40 or 52 on most NICs).
 */
void td_flow_rss_key_symmetric(uint8_t *key, size_t len);

/**
 * The Toeplitz hash a NIC computes for TCP segments received on the flow
 * @p k (source = remote, destination = local), with RSS types
 * RTE_ETH_RSS_NONFRAG_IPV4_TCP / IPV6_TCP, computed with rte_softrss().
 * @param rss_key TD_FLOW_RSS_KEY_LEN bytes or more.
 */
uint32_t td_flow_rss_hash(const struct td_flow_key *k, const uint8_t *rss_key);

/**
 * The queue a NIC delivers a hash to: the redirection table entry the low
 * bits of the hash select (@p reta_size is a power of two on every NIC
 * DPDK supports; modulo is used, which is the same thing then).
 */
static inline uint16_t
td_flow_rss_queue(uint32_t hash, const uint16_t *reta, uint32_t reta_size)
{
	return reta[hash % reta_size];
}

#endif /* TD_FLOW_H */
