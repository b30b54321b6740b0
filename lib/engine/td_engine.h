/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_ENGINE_H
#define TD_ENGINE_H

/**
 * @file
 * teardown's per-lcore run-to-completion engine: DPDK ports on one side,
 * lib/tcp on the other, lib/net in between.
 *
 * One `struct td_worker` per lcore owns one (port, queue) pair, an mbuf pool
 * pointer, a lib/tcp stack (`struct td_tcp_stack`), the interface
 * (`struct td_net_if`: MAC and addresses), its counters, a small neighbour
 * table and a TX staging array. td_engine_poll() runs one iteration of the
 * loop:
 *
 *     rte_eth_rx_burst
 *       -> td_net_parse() of each frame (drops counted by reason)
 *       -> ARP and neighbour discovery answered and learned at once
 *       -> TCP segments collected into one burst array
 *       -> td_tcp_input_burst()
 *            -> replies built by the tx callback straight into mbufs:
 *               payload by td_tcp_out_payload() at its final place,
 *               headers by td_net_build_tcp() from a header template
 *       -> received mbufs freed in bulk
 *     td_tcp_advance(TSC in microseconds, budget)
 *     neighbour retries (only while a resolution is pending)
 *     rte_eth_tx_burst of everything staged
 *
 * There is no malloc, lock, syscall or log on that path. Everything is
 * allocated by td_engine_worker_create().
 *
 * @par Connection table
 * lib/tcp keeps its own 4-tuple table for now; the engine does not look
 * connections up itself. When lib/flow (rte_hash, lock-free readers) is
 * ready, the bulk lookup of a burst moves here, between parsing and
 * td_tcp_input_burst().
 *
 * @par Header templates
 * A `struct td_net_tmpl` holds the L2 and L3 headers of one (local address,
 * peer address) pair; ports come from each segment. The worker caches them
 * in a direct-mapped array of #TD_ENGINE_TMPL_SLOTS slots indexed by a hash
 * of the two addresses; a miss (or a collision) rebuilds the slot from the
 * neighbour table, a cold path. Connections between the same two addresses
 * share one template, which costs a connection nothing.
 *
 * @par Neighbour resolution policy (IPv4 ARP, IPv6 ND)
 * - Requests for our addresses are answered at once (ARP reply, Neighbor
 *   Advertisement), and the requester's address is learned from the request
 *   (RFC 826 merge, RFC 4861 7.2.3), so a server never has to ask.
 * - A segment to a peer whose MAC is unknown creates an INCOMPLETE entry,
 *   sends an ARP request (broadcast) or a Neighbor Solicitation (solicited-node
 *   multicast), and is built anyway with a zero destination MAC and held on
 *   the entry, at most #TD_ENGINE_NEIGH_HOLD frames per peer. Further
 *   segments beyond that are dropped and counted (`neigh_hold_drops`); TCP
 *   retransmits them as if the wire had lost them.
 * - An ARP reply or announcement, or a Neighbor Advertisement, for an entry
 *   fills its MAC; held frames get the MAC written into their first 6 bytes
 *   and are staged for TX in order.
 * - A request is repeated every #TD_ENGINE_NEIGH_RETRY_US, at most
 *   #TD_ENGINE_NEIGH_TRIES times; then the held frames are freed
 *   (`neigh_failed`, `neigh_hold_drops`) and the entry is freed, so the next
 *   segment starts over.
 * - Resolved entries do not age (a run is short and peers are fixed); a
 *   changed MAC from an ARP packet or an NA with the Override flag replaces
 *   the old one and empties the template cache.
 * - The table holds #TD_ENGINE_NEIGH_MAX entries; when it is full a segment
 *   to a new peer is dropped (`neigh_table_full`).
 *
 * @par mbuf exhaustion policy
 * When rte_pktmbuf_alloc() fails in the tx callback the segment is dropped
 * and counted (`mbuf_alloc_fail`): lib/tcp's retransmission timer recovers,
 * as for a loss on the wire. Received mbufs are always freed in the same
 * poll, so RX never starves TX for more than one burst.
 *
 * @par TX full policy
 * Frames are staged in an array of #TD_ENGINE_TX_STAGE; when it fills inside
 * a poll it is flushed at once with rte_eth_tx_burst(). Frames the port does
 * not take are freed and counted (`tx_full`): again a loss that TCP repairs.
 *
 * @par Checksums
 * td_engine_port_setup() reads the port's offload capabilities: IPv4 header
 * and TCP checksums are offloaded on TX and verified by the port on RX when
 * offered, and done in software otherwise (net_ring offers neither).
 *
 * @par Accounting
 * td_engine_account() proves that a run left nothing behind: no connection
 * or TIME-WAIT entry in the stack, no frame held or staged, and every mbuf
 * of the pool back in it (call it after td_engine_port_stop(), since a
 * started NIC keeps mbufs in its RX ring).
 *
 * @par Including this header
 * DPDK's headers use POSIX types (ssize_t): define `_GNU_SOURCE` (or
 * `_POSIX_C_SOURCE`) before the first include when compiling as C11. The
 * library is built with DPDK's include directories as system directories,
 * so that -Wall -Wextra -Werror judge teardown's code only
 * (`dpdk.as_system()` in lib/engine/meson.build).
 *
 * @par Threads
 * A worker belongs to one lcore: every call taking a worker must come from
 * that lcore, except td_engine_stats() and td_engine_net_stats(), whose
 * counters another thread may read (64-bit counters, torn reads are not
 * possible on x86-64; values may lag).
 */

#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "td_common.h"
#include "td_net.h"
#include "td_tcp.h"

/** Frames per rte_eth_rx_burst() and per td_tcp_input_burst(). */
#define TD_ENGINE_BURST 32
/** Frames staged for TX before a flush in the middle of a poll. */
#define TD_ENGINE_TX_STAGE 128
/** Neighbour table size (peers on the link, gateways). */
#define TD_ENGINE_NEIGH_MAX 64
/** Frames held per unresolved neighbour. */
#define TD_ENGINE_NEIGH_HOLD 8
/** Interval between two ARP requests or solicitations, microseconds. */
#define TD_ENGINE_NEIGH_RETRY_US 100000
/** Requests sent before a resolution fails. */
#define TD_ENGINE_NEIGH_TRIES 3
/** Header template cache slots (a power of 2). */
#define TD_ENGINE_TMPL_SLOTS 64
/** Default expiry budget per poll for td_tcp_advance(). */
#define TD_ENGINE_TIMER_BUDGET 256

static_assert((TD_ENGINE_TMPL_SLOTS & (TD_ENGINE_TMPL_SLOTS - 1)) == 0,
	      "template slots are a power of 2");
static_assert(TD_ENGINE_TX_STAGE >= TD_ENGINE_BURST, "a burst of replies fits the stage");

/**
 * Per-lcore counters of the engine (drops by parse reason are in the
 * worker's `struct td_net_stats`, td_engine_net_stats()).
 */
struct td_engine_stats {
	alignas(RTE_CACHE_LINE_SIZE) uint64_t polls; /**< td_engine_poll() calls */
	uint64_t rx_pkts;                            /**< frames received */
	uint64_t rx_multiseg;                        /**< chained mbufs dropped (not supported) */
	uint64_t tx_pkts;                            /**< frames the port took */
	uint64_t tx_full;                            /**< frames the port refused: freed */
	uint64_t mbuf_alloc_fail;                    /**< TX frames lost to an empty pool */
	uint64_t tx_build_fail;                      /**< segments that did not fit an mbuf */
	uint64_t timers_run;                         /**< timer expiries run by td_tcp_advance() */
	uint64_t arp_replies;                        /**< ARP replies sent */
	uint64_t na_sent;                            /**< Neighbor Advertisements sent */
	uint64_t neigh_requests;                     /**< ARP requests and solicitations sent */
	uint64_t neigh_learned;                      /**< entries filled from a peer's request */
	uint64_t neigh_resolved;                     /**< INCOMPLETE entries resolved by a reply */
	uint64_t neigh_held;                         /**< frames held while resolving */
	uint64_t neigh_hold_drops; /**< frames dropped: hold queue full or resolution failed */
	uint64_t neigh_failed;     /**< resolutions given up after the last retry */
	uint64_t neigh_table_full; /**< segments dropped: no free neighbour entry */
	uint64_t tmpl_misses;      /**< template cache misses (rebuilt) */
};
static_assert(sizeof(struct td_engine_stats) % RTE_CACHE_LINE_SIZE == 0,
	      "engine counters end on a cache line boundary");

/** State of a neighbour entry. */
enum td_engine_neigh_state {
	TD_ENGINE_NEIGH_FREE = 0,
	TD_ENGINE_NEIGH_INCOMPLETE, /**< request sent, frames held */
	TD_ENGINE_NEIGH_REACHABLE,  /**< MAC known */
};

/** One neighbour (see the resolution policy in the file comment). */
struct td_engine_neigh {
	uint8_t addr[16]; /**< the peer's IP address (IPv4: first 4 bytes) */
	uint8_t src[16];  /**< our address that asks for it */
	uint8_t family;   /**< 4 or 6 */
	uint8_t state;    /**< enum td_engine_neigh_state */
	uint8_t tries;    /**< requests sent */
	uint8_t nheld;    /**< frames in held[] */
	uint8_t mac[6];
	uint64_t next_us; /**< when the next request is due */
	struct rte_mbuf *held[TD_ENGINE_NEIGH_HOLD];
};

/** One cached header template and the addresses it was built for. */
struct td_engine_tmpl_slot {
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint8_t family; /**< 0: empty */
	struct td_net_tmpl t;
};

/**
 * A user event callback: as `td_tcp_ops.event`, with the worker as @p ctx
 * (the user's own pointer is td_engine_worker_uctx()).
 */
typedef void (*td_engine_event_fn)(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err);

/** What td_engine_worker_create() needs. */
struct td_engine_config {
	uint16_t port_id;            /**< a port set up with td_engine_port_setup() */
	uint16_t queue_id;           /**< its RX and TX queue for this worker */
	struct rte_mempool *mp;      /**< TX mbufs come from here */
	const struct td_net_if *nif; /**< copied into the worker */
	struct td_tcp_config tcp;    /**< the stack's configuration */
	td_engine_event_fn event;    /**< user events; NULL: none */
	uint32_t (*isn)(void *ctx, const struct td_tuple *t); /**< NULL: RFC 6528 */
	void *uctx;                                           /**< the user's pointer */
	const uint8_t *isn_key; /**< 16 bytes for RFC 6528; NULL: fixed test key */
	unsigned tx_offload;    /**< TD_NET_TX_* from td_engine_port_setup() */
	unsigned rx_offload;    /**< TD_ENGINE_RX_* from td_engine_port_setup() */
	unsigned timer_budget;  /**< expiries per poll; 0: TD_ENGINE_TIMER_BUDGET */
	int socket_id;          /**< NUMA socket for the worker; SOCKET_ID_ANY */
};

/** td_engine_port_setup() result: the port verifies IPv4 header checksums. */
#define TD_ENGINE_RX_IP_CKSUM 0x01u
/** td_engine_port_setup() result: the port verifies TCP checksums. */
#define TD_ENGINE_RX_TCP_CKSUM 0x02u

/**
 * The worker of one lcore. Hot fields first; the arrays of a burst follow.
 * Allocated by td_engine_worker_create() on its socket, cache-aligned.
 */
struct td_worker {
	/* Read on every poll. */
	alignas(RTE_CACHE_LINE_SIZE) struct td_tcp_stack *st;
	struct rte_mempool *mp;
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t ntx;          /**< frames in tx[] */
	uint8_t nincomplete;   /**< INCOMPLETE neighbours: retries pending */
	unsigned tx_flags;     /**< TD_NET_TX_* for td_net_build_tcp() */
	uint64_t rx_ol_mask;   /**< mbuf RX checksum flags the port sets */
	uint64_t tx_ol_flags;  /**< mbuf TX offload flags for IPv4 (0 without offload) */
	uint64_t tx_ol_flags6; /**< same for IPv6 */
	uint64_t tsc_per_us;   /**< rte_get_tsc_hz() / 10^6 */
	unsigned timer_budget;
	void *uctx;

	struct td_engine_stats stats;
	struct td_net_stats net;
	struct td_net_if nif;

	struct td_seg segs[TD_ENGINE_BURST];       /**< the burst for lib/tcp */
	struct rte_mbuf *rx_keep[TD_ENGINE_BURST]; /**< frames the segments point into */
	struct rte_mbuf *tx[TD_ENGINE_TX_STAGE];   /**< TX staging */
	struct td_engine_tmpl_slot tmpl[TD_ENGINE_TMPL_SLOTS];
	struct td_engine_neigh neigh[TD_ENGINE_NEIGH_MAX];
};
static_assert(offsetof(struct td_worker, stats) % RTE_CACHE_LINE_SIZE == 0,
	      "counters start on their own cache line");

/* ------------------------------------------------------------------------ */
/* Ports                                                                     */

/**
 * Configure port @p port_id with one RX and one TX queue of @p nb_desc
 * descriptors each (0: 1024), RX buffers from @p mp, turn on the checksum
 * offloads the port offers, and start it. Control path.
 * @param tx_offload out: TD_NET_TX_* flags for td_engine_config.tx_offload
 *   (0: checksums in software).
 * @param rx_offload out: TD_ENGINE_RX_* flags for td_engine_config.rx_offload.
 * @return 0, or a negative errno from DPDK (-EINVAL, -ENODEV, ...).
 */
int td_engine_port_setup(uint16_t port_id, struct rte_mempool *mp, uint16_t nb_desc,
			 unsigned *tx_offload, unsigned *rx_offload);

/** Stop a port started by td_engine_port_setup() (its RX ring mbufs go back). */
void td_engine_port_stop(uint16_t port_id);

/**
 * Make two ports joined by two rte_rings, a wire in one process (net_ring
 * through rte_eth_from_rings()): what port 0 sends, port 1 receives, and the
 * reverse. The rings are named "<name>_ab" and "<name>_ba"; the ports are
 * not configured yet (td_engine_port_setup()).
 * @param ring_size slots per ring (a power of 2).
 * @param ports out: the two port ids.
 * @return 0, or -TD_ENOMEM / -TD_EINVAL.
 */
int td_engine_ring_pair(const char *name, unsigned ring_size, uint16_t ports[2]);

/**
 * Stop, close and remove the ports of td_engine_ring_pair() and free its
 * rings. Every mbuf left in the rings is freed.
 */
void td_engine_ring_pair_free(const char *name, const uint16_t ports[2]);

/* ------------------------------------------------------------------------ */
/* Workers                                                                   */

/**
 * Create a worker and its stack. Control path: every allocation of the
 * worker's life happens here.
 * @return the worker, or NULL with @p err filled.
 */
struct td_worker *td_engine_worker_create(const struct td_engine_config *cfg, char *err,
					  size_t errlen);

/**
 * Destroy a worker: held and staged frames are freed, the stack is
 * destroyed (no events). The port is not touched.
 */
void td_engine_worker_destroy(struct td_worker *w);

/** The worker's stack, for user calls (td_tcp_connect(), td_tcp_send(), ...). */
static inline struct td_tcp_stack *
td_engine_stack(struct td_worker *w)
{
	return w->st;
}

/** The user's pointer given in td_engine_config.uctx. */
static inline void *
td_engine_worker_uctx(const struct td_worker *w)
{
	return w->uctx;
}

/** The engine's clock in microseconds (the TSC), as given to lib/tcp. */
static inline uint64_t
td_engine_now_us(const struct td_worker *w)
{
	return rte_rdtsc() / w->tsc_per_us;
}

/**
 * One iteration of the loop (see the file comment): receive a burst, answer
 * ARP and ND, hand the TCP segments to lib/tcp, run due timers up to the
 * budget, retry pending resolutions, and transmit everything staged.
 * Every received mbuf is freed or transmitted before the call returns; every
 * built mbuf is transmitted, freed, or held on an INCOMPLETE neighbour.
 * @return the number of frames received.
 */
uint16_t td_engine_poll(struct td_worker *w);

/**
 * Transmit what user calls made outside td_engine_poll() (td_tcp_connect(),
 * td_tcp_send() ... build their segments at once). td_engine_poll() does it
 * too, at its end.
 * @return frames the port took.
 */
uint16_t td_engine_flush(struct td_worker *w);

/** The engine's counters. */
static inline const struct td_engine_stats *
td_engine_stats(const struct td_worker *w)
{
	return &w->stats;
}

/** The parser's counters: frames accepted by kind, dropped by reason. */
static inline const struct td_net_stats *
td_engine_net_stats(const struct td_worker *w)
{
	return &w->net;
}

/**
 * The neighbour entry of @p addr (family 4 or 6), or NULL. For tests and
 * tools.
 */
const struct td_engine_neigh *td_engine_neigh_find(const struct td_worker *w, uint8_t family,
						   const uint8_t *addr);

/** What td_engine_account() found still in use. */
struct td_engine_accounting {
	unsigned mbufs_in_use; /**< rte_mempool_in_use_count() of the worker's pool */
	uint32_t conns_used;   /**< lib/tcp connections */
	uint32_t tw_used;      /**< lib/tcp TIME-WAIT entries */
	uint32_t bufs_used;    /**< lib/tcp payload buffers */
	uint32_t held;         /**< frames held on neighbours */
	uint32_t staged;       /**< frames staged for TX */
};

/**
 * Account for everything the worker allocated. Off the fast path; the port
 * should be stopped first (a started port keeps RX mbufs). When several
 * workers share a pool, `mbufs_in_use` counts them all.
 * @return 0 when nothing is in use, -TD_EBUSY otherwise (details in @p a).
 */
int td_engine_account(const struct td_worker *w, struct td_engine_accounting *a);

#endif /* TD_ENGINE_H */
