/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_NET_H
#define TD_NET_H

/**
 * @file
 * teardown's packet layer: parse and build Ethernet (with at most one 802.1Q
 * tag), ARP for IPv4, IPv4, IPv6 with neighbour discovery, and TCP, with the
 * Internet checksum in software.
 *
 * Nothing here depends on DPDK: every function works on a (uint8_t *, length)
 * buffer, so the tests run in a plain process. Putting frames into mbufs,
 * and deciding whether the port computes checksums, is the engine's job.
 *
 * Received frames go through td_net_parse(), which either classifies the
 * frame (a TCP segment as lib/tcp's `struct td_seg`, an ARP packet, a
 * Neighbor Solicitation or Advertisement) or drops it with one reason out of
 * #TD_NET_DROP_MAP, counted in the caller's per-lcore `struct td_net_stats`.
 * Segments to send come from lib/tcp as `struct td_tcp_out` and are written by
 * td_net_build_tcp() from a per-connection (or per-peer) header template,
 * `struct td_net_tmpl`. ARP replies and Neighbor Advertisements are built
 * from the parsed request; ARP requests and Neighbor Solicitations resolve a
 * neighbour.
 *
 * @par For the engine: who owns what
 * - The caller owns every buffer. td_net_parse() only reads
 *   `frame[0 .. len)`, never writes it and keeps nothing after it returns,
 *   except the pointers it stores in the result: `pkt->seg.opts` and
 *   `pkt->seg.data` point into the frame, so the mbuf must outlive the
 *   td_tcp_input_burst() call that reads those segments. Trailing bytes after
 *   the IP datagram (Ethernet padding) are ignored.
 * - The counters (`struct td_net_stats`) belong to one lcore; the parser
 *   increments them without atomics. Sum them off the fast path with
 *   td_net_stats_add(). td_net_parse() counts every frame exactly once, in
 *   `rx[kind]` or in `drops[reason]`; the caller must not count it again.
 * - td_tcp_input_burst() takes a contiguous array of `struct td_seg`: copy
 *   `pkt->seg` of each TCP frame into the burst's array (72 bytes), and keep
 *   the frames until the call returns. ARP and ND results are answered
 *   with the reply builders below; resolution (the neighbour table, retries)
 *   is the engine's.
 * - The interface (`struct td_net_if`) and templates are only read by the
 *   fast path and may be shared by lcores once set up.
 * - A builder writes only `buf[0 .. returned length)`, never more than `cap`
 *   bytes, and writes nothing at all when it returns an error. The frame is
 *   complete: Ethernet (and the VLAN tag of the interface), IP, TCP header,
 *   options padded with zeros (EOL) to a multiple of 4, payload. Short frames
 *   are not padded to 60 bytes: Ethernet ports pad on transmission.
 *
 * @par For the engine: what td_net_build_tcp() writes
 * The template holds the constant part: MAC addresses, VLAN tag, EtherType,
 * IP version, TTL or hop limit, protocol, addresses, DF (IPv4), and the
 * partial sums of the constant words. For each segment the builder copies
 * the template, then writes the IP length, the IPv4 header checksum, every
 * field of the TCP header (ports from `o->tuple`, seq, ack, data offset,
 * flags, window, checksum; urgent pointer 0), the options and the payload.
 * IPv4 datagrams are atomic (DF set, identification 0, RFC 6864 4.1); the
 * IPv6 flow label is 0.
 *
 * @par For the engine: checksum offload
 * With #TD_NET_TX_NO_IP_CKSUM the IPv4 header checksum is left 0, as DPDK
 * wants with `RTE_MBUF_F_TX_IP_CKSUM`. With #TD_NET_TX_NO_TCP_CKSUM the TCP
 * checksum field holds the pseudo-header sum (addresses, protocol and TCP
 * length, folded to 16 bits and not complemented), which is exactly what
 * rte_ipv4_phdr_cksum() and rte_ipv6_phdr_cksum() return without
 * `RTE_MBUF_F_TX_TCP_SEG` (tests/net/test_dpdk.c checks it against them);
 * set `RTE_MBUF_F_TX_TCP_CKSUM` with `RTE_MBUF_F_TX_IPV4` or
 * `RTE_MBUF_F_TX_IPV6`, `l2_len` from `t->l2_len` and `l3_len` from
 * `t->l3_len`. For TSO, which lib/tcp does not
 * use, the engine would have to take the length out again. On receive, a
 * port that verified checksums says so with the TD_NET_RX_* flags and the
 * parser skips its own verification.
 */

#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_common.h"
#include "td_tcp.h"

/* ------------------------------------------------------------------------ */
/* Sizes and numbers from the wire                                          */

#define TD_NET_ETH_LEN 14   /**< Ethernet header without a VLAN tag */
#define TD_NET_VLAN_LEN 4   /**< one 802.1Q tag */
#define TD_NET_ARP_LEN 28   /**< ARP packet for Ethernet and IPv4 */
#define TD_NET_IP4_LEN 20   /**< IPv4 header without options */
#define TD_NET_IP6_LEN 40   /**< IPv6 header */
#define TD_NET_TCP_LEN 20   /**< TCP header without options */
#define TD_NET_ND_LEN 24    /**< NS or NA without options (RFC 4861 4.3, 4.4) */
#define TD_NET_ND_OPT_LEN 8 /**< one link-layer address option for Ethernet */

#define TD_NET_ETHERTYPE_IPV4 0x0800 /**< EtherType of IPv4 */
#define TD_NET_ETHERTYPE_ARP 0x0806  /**< EtherType of ARP */
#define TD_NET_ETHERTYPE_VLAN 0x8100 /**< TPID of an 802.1Q tag */
#define TD_NET_ETHERTYPE_IPV6 0x86dd /**< EtherType of IPv6 */

#define TD_NET_PROTO_TCP 6     /**< IP protocol / next header of TCP */
#define TD_NET_PROTO_ICMPV6 58 /**< next header of ICMPv6 */

#define TD_NET_ARP_REQUEST 1 /**< ARP operation: request */
#define TD_NET_ARP_REPLY 2   /**< ARP operation: reply */

#define TD_NET_ND_NS 135 /**< ICMPv6 type of a Neighbor Solicitation */
#define TD_NET_ND_NA 136 /**< ICMPv6 type of a Neighbor Advertisement */

/** Neighbor Advertisement flags (`struct td_net_nd` flags, RFC 4861 4.4). */
#define TD_NET_NA_ROUTER 0x80
#define TD_NET_NA_SOLICITED 0x40
#define TD_NET_NA_OVERRIDE 0x20

/** Longest L2 + L3 header a template holds: Ethernet, VLAN tag, IPv6. */
#define TD_NET_TMPL_HDR_MAX (TD_NET_ETH_LEN + TD_NET_VLAN_LEN + TD_NET_IP6_LEN)
/** Longest header stack td_net_build_tcp() writes before the payload. */
#define TD_NET_TCP_HDR_MAX (TD_NET_TMPL_HDR_MAX + TD_NET_TCP_LEN + 40)
/** Longest ARP frame the builders write (with a VLAN tag). */
#define TD_NET_ARP_FRAME_MAX (TD_NET_ETH_LEN + TD_NET_VLAN_LEN + TD_NET_ARP_LEN)
/** Longest NS or NA frame the builders write (with a VLAN tag). */
#define TD_NET_ND_FRAME_MAX                                                                        \
	(TD_NET_ETH_LEN + TD_NET_VLAN_LEN + TD_NET_IP6_LEN + TD_NET_ND_LEN + TD_NET_ND_OPT_LEN)

/* ------------------------------------------------------------------------ */
/* Internet checksum (RFC 1071, RFC 1624)                                    */

/**
 * @defgroup td_net_cksum Internet checksum
 * Sums are kept as host integers whose value is the big-endian 16-bit word
 * on the wire: a checksum field is read and written most significant byte
 * first. A "partial sum" is a 32-bit ones' complement accumulator: add up to
 * 65536 of them (each at most 0xffff) in a uint32_t, then fold.
 * @{
 */

/**
 * Add the ones' complement sum of @p len bytes at @p buf to @p sum.
 * Chunks may be summed separately and added, but every chunk except the last
 * must have an even length (an odd chunk would shift the next one by a byte).
 * @return the new partial sum, folded to at most 0xffff.
 */
uint32_t td_net_cksum_add(uint32_t sum, const void *buf, size_t len);

/** Fold a partial sum to 16 bits (end-around carry), not complemented. */
static inline uint16_t
td_net_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/** The checksum field for a partial sum: folded and complemented. */
static inline uint16_t
td_net_cksum_finish(uint32_t sum)
{
	return (uint16_t)~td_net_cksum_fold(sum);
}

/** The Internet checksum of @p len bytes, as stored in a header. */
uint16_t td_net_cksum(const void *buf, size_t len);

/**
 * Partial sum of the IPv4 pseudo-header (RFC 9293 3.1): source, destination,
 * protocol and the L4 length.
 */
uint32_t td_net_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t len);

/**
 * Partial sum of the IPv6 pseudo-header (RFC 8200 8.1): source, destination,
 * upper-layer packet length and next header.
 */
uint32_t td_net_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, uint32_t len);

/**
 * Incremental update of a checksum field when one 16-bit word of the covered
 * data changes from @p from to @p to (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
 */
static inline uint16_t
td_net_cksum_update16(uint16_t cksum, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint16_t)~cksum + (uint32_t)(uint16_t)~from + to;

	return td_net_cksum_finish(sum);
}

/** td_net_cksum_update16() for a 32-bit field at an even offset (a sequence number, an address). */
static inline uint16_t
td_net_cksum_update32(uint16_t cksum, uint32_t from, uint32_t to)
{
	uint32_t sum = (uint16_t)~cksum + (uint32_t)(uint16_t) ~(from >> 16) +
		       (uint32_t)(uint16_t) ~(from & 0xffff) + (to >> 16) + (to & 0xffff);

	return td_net_cksum_finish(sum);
}

/** @} */

/* ------------------------------------------------------------------------ */
/* The interface: our MAC, VLAN and addresses                                */

/** Address ranges per family in a `struct td_net_if`. */
#define TD_NET_MAX_RANGES 8

/** IPv4 addresses first, first + 1, ... first + count - 1. */
struct td_net_range4 {
	uint8_t first[4];
	uint32_t count;
};

/** IPv6 addresses that share the first 12 bytes of @p first and count up in the last 4. */
struct td_net_range6 {
	uint8_t first[16];
	uint32_t count;
};

/**
 * What the parser needs to know to tell "for us" from "not for us", and what
 * the builders put in the source fields. A load generator owns many source
 * addresses, so addresses come in ranges. Fill with td_net_if_init() and the
 * td_net_if_add*() calls; read-only afterwards.
 */
struct td_net_if {
	uint8_t mac[6];
	uint16_t vlan; /**< 802.1Q VLAN ID of the interface; 0: untagged */
	uint8_t ttl;   /**< TTL / hop limit of TCP packets we send */
	uint8_t n4;    /**< ranges used in ip4[] */
	uint8_t n6;    /**< ranges used in ip6[] */
	struct td_net_range4 ip4[TD_NET_MAX_RANGES];
	struct td_net_range6 ip6[TD_NET_MAX_RANGES];
};

/** Start an interface with MAC address @p mac, untagged, TTL 64, no address. */
void td_net_if_init(struct td_net_if *nif, const uint8_t mac[6]);

/**
 * Add the IPv4 addresses @p first .. @p first + @p count - 1.
 * @return 0, -TD_EINVAL (count 0; a range that wraps or holds an address
 *   that cannot be a host's: 0/8, 127/8, 224/4 and above), -TD_ENOSPC (all
 *   TD_NET_MAX_RANGES ranges used).
 */
int td_net_if_add4(struct td_net_if *nif, const uint8_t first[4], uint32_t count);

/**
 * Add the IPv6 addresses @p first .. @p first + @p count - 1, counting in the
 * last 32 bits only.
 * @return 0, -TD_EINVAL (count 0, a range crossing the 32-bit boundary, a
 *   multicast, unspecified or loopback address), -TD_ENOSPC.
 */
int td_net_if_add6(struct td_net_if *nif, const uint8_t first[16], uint32_t count);

/**
 * Put the interface on VLAN @p vid: received frames must carry that tag,
 * sent frames get it. 0 means untagged. When the port strips tags itself,
 * leave the interface untagged and filter in the engine.
 * @return 0, or -TD_EINVAL for a VLAN ID above 4094.
 */
int td_net_if_set_vlan(struct td_net_if *nif, uint16_t vid);

/** True if @p a is one of the interface's IPv4 addresses. */
bool td_net_ours4(const struct td_net_if *nif, const uint8_t a[4]);

/** True if @p a is one of the interface's IPv6 addresses. */
bool td_net_ours6(const struct td_net_if *nif, const uint8_t a[16]);

/* ------------------------------------------------------------------------ */
/* Parse results and drop reasons                                            */

/** What an accepted frame is (the non-negative results of td_net_parse()). */
enum td_net_kind {
	TD_NET_KIND_TCP, /**< a TCP segment for one of our addresses: `pkt->seg` */
	TD_NET_KIND_ARP, /**< ARP request or reply for us, or an announcement: `pkt->arp` */
	TD_NET_KIND_NS,  /**< Neighbor Solicitation for one of our addresses: `pkt->nd` */
	TD_NET_KIND_NA,  /**< Neighbor Advertisement to us: `pkt->nd` */
	TD_NET_KIND_MAX
};

/** Name of a kind ("TCP"). */
const char *td_net_kind_name(enum td_net_kind k);

/**
 * The negative results of td_net_parse(), in picohttpparser's spirit: each
 * drop reason belongs to exactly one class.
 */
enum td_net_class {
	/** Well-formed as far as it was read, but not for us or not supported. */
	TD_NET_CLASS_IGNORED = -3,
	/**
	 * The bytes end before a header or a declared length does: the buffer
	 * for Ethernet, ARP and IP; the IP payload for TCP and ICMPv6.
	 */
	TD_NET_CLASS_TRUNCATED = -2,
	/** The bytes present break a rule: a bad length field, checksum or value. */
	TD_NET_CLASS_INVALID = -1,
};

/**
 * Every reason the parser drops a frame: X(NAME, CLASS, text), grouped by
 * layer, outer layers first. It generates
 * `enum td_net_drop`, td_net_drop_name(), td_net_drop_text() and
 * td_net_drop_class().
 *
 * Not on the list, on purpose: IPv4 TTL 0 or 1 (RFC 1122 3.2.1.7: a host
 * must not drop a datagram for its TTL), the reserved IPv4 flag and TCP flag
 * combinations (lib/tcp judges those).
 */
#define TD_NET_DROP_MAP(X)                                                                         \
	X(TRUNCATED_ETH, TRUNCATED, "frame ends inside the Ethernet header or VLAN tag")           \
	X(NOT_OUR_MAC, IGNORED,                                                                    \
	  "Ethernet destination not ours, or TCP in a link-layer broadcast/multicast")             \
	X(BAD_ETH_SRC, INVALID, "multicast or broadcast Ethernet source")                          \
	X(WRONG_VLAN, IGNORED, "VLAN ID other than the interface's (tagged or untagged)")          \
	X(UNSUPPORTED_ETHERTYPE, IGNORED,                                                          \
	  "EtherType other than IPv4, IPv6 and ARP (802.3 length, second tag...)")                 \
	X(TRUNCATED_ARP, TRUNCATED, "frame ends inside the 28-byte ARP packet")                    \
	X(BAD_ARP, INVALID,                                                                        \
	  "ARP not Ethernet/IPv4, not a request or reply, or a multicast/broadcast sender")        \
	X(TRUNCATED_IP, TRUNCATED, "frame ends inside the IP header or before the IP length")      \
	X(BAD_IP_VERSION, INVALID, "IP version does not match the EtherType")                      \
	X(BAD_IP_HDR_LEN, INVALID, "IPv4 header length (IHL) below 5 words")                       \
	X(BAD_IP_TOTAL_LEN, INVALID, "IPv4 total length below the header length")                  \
	X(BAD_IP_CHECKSUM, INVALID, "IPv4 header checksum (in software or flagged by the port)")   \
	X(BAD_IP_SRC, INVALID,                                                                     \
	  "IP source multicast, broadcast, loopback, 0/8, or unspecified on a TCP segment")        \
	X(NOT_OUR_IP, IGNORED, "IP destination, ARP target or NS target is not one of ours")       \
	X(IP_FRAGMENT, IGNORED, "IPv4 fragment or IPv6 Fragment header: no reassembly")            \
	X(IP6_EXT_HEADER, IGNORED, "IPv6 extension header: none is supported")                     \
	X(UNSUPPORTED_L4, IGNORED, "IP protocol other than TCP (and ICMPv6 over IPv6)")            \
	X(TRUNCATED_TCP, TRUNCATED, "IP payload shorter than 20 bytes or the TCP data offset")     \
	X(BAD_TCP_DATA_OFFSET, INVALID, "TCP data offset below 5 words")                           \
	X(BAD_TCP_PORT, INVALID, "TCP source or destination port 0")                               \
	X(BAD_TCP_CHECKSUM, INVALID, "TCP checksum (in software or flagged by the port)")          \
	X(UNSUPPORTED_ICMP, IGNORED, "ICMPv6 type other than Neighbor Solicitation/Advertisement") \
	X(TRUNCATED_ICMP, TRUNCATED,                                                               \
	  "IP payload shorter than the ICMPv6 header, the ND message or an ND option's length")    \
	X(BAD_ICMP_CHECKSUM, INVALID, "ICMPv6 checksum")                                           \
	X(BAD_ND_HOP_LIMIT, INVALID, "NS or NA with a hop limit other than 255 (RFC 4861 7.1)")    \
	X(BAD_ND, INVALID,                                                                         \
	  "NS/NA code, multicast target, option length 0, or source/destination (RFC 4861 7.1)")

/** Why a frame was dropped. */
enum td_net_drop {
#define TD_NET_DROP_ENUM(name, cls, text) TD_NET_DROP_##name,
	TD_NET_DROP_MAP(TD_NET_DROP_ENUM)
#undef TD_NET_DROP_ENUM
		TD_NET_DROP_MAX
};

/** Name of a drop reason ("TRUNCATED_ETH"); "?" when out of range. */
const char *td_net_drop_name(enum td_net_drop d);
/** One-line description of a drop reason; "?" when out of range. */
const char *td_net_drop_text(enum td_net_drop d);
/** The class a drop reason belongs to: what td_net_parse() returns for it. */
enum td_net_class td_net_drop_class(enum td_net_drop d);

/**
 * Per-lcore counters of the parser. Aligned to a cache line so that an array
 * of them, one per lcore, shares no line between lcores.
 */
struct td_net_stats {
	alignas(TD_CACHE_LINE) uint64_t rx[TD_NET_KIND_MAX]; /**< frames accepted, per kind */
	uint64_t drops[TD_NET_DROP_MAX];                     /**< frames dropped, per reason */
	uint64_t ip4_options; /**< accepted IPv4 datagrams whose options were skipped */
};
static_assert(alignof(struct td_net_stats) == TD_CACHE_LINE,
	      "per-lcore counters start on their own cache line");
static_assert(sizeof(struct td_net_stats) % TD_CACHE_LINE == 0,
	      "per-lcore counters end on a cache line boundary");

/** Add @p s into @p sum (off the fast path). */
void td_net_stats_add(struct td_net_stats *sum, const struct td_net_stats *s);

/** All drops of @p s, every reason. */
uint64_t td_net_stats_dropped(const struct td_net_stats *s);

/** A parsed ARP packet (RFC 826), Ethernet and IPv4 only. */
struct td_net_arp {
	uint16_t op; /**< TD_NET_ARP_REQUEST or TD_NET_ARP_REPLY */
	uint8_t sha[6];
	uint8_t spa[4];
	uint8_t tha[6];
	uint8_t tpa[4];
};

/** A parsed Neighbor Solicitation or Advertisement (RFC 4861 4.3, 4.4). */
struct td_net_nd {
	uint8_t src[16];    /**< IPv6 source (:: for a duplicate address detection NS) */
	uint8_t dst[16];    /**< IPv6 destination */
	uint8_t target[16]; /**< target address */
	uint8_t lla[6];     /**< source (NS) or target (NA) link-layer address option */
	bool has_lla;       /**< the option was present */
	uint8_t flags;      /**< NA only: TD_NET_NA_* */
};

/** The result of td_net_parse(). Which union member is valid follows `kind`. */
struct td_net_pkt {
	uint8_t kind;          /**< enum td_net_kind, when td_net_parse() returned >= 0 */
	uint8_t family;        /**< 4 or 6 for IP, 0 for ARP */
	uint16_t vlan;         /**< VLAN ID of the frame, 0 if untagged */
	uint16_t l3_off;       /**< offset of the ARP or IP header in the frame */
	uint16_t l4_off;       /**< offset of the TCP or ICMPv6 header (0 for ARP) */
	uint8_t smac[6];       /**< Ethernet source */
	enum td_net_drop drop; /**< the reason, when td_net_parse() returned < 0 */
	union {
		struct td_seg seg;     /**< TD_NET_KIND_TCP */
		struct td_net_arp arp; /**< TD_NET_KIND_ARP */
		struct td_net_nd nd;   /**< TD_NET_KIND_NS, TD_NET_KIND_NA */
	};
};

/** td_net_parse() @p rx_flags: the port verified the IPv4 header checksum. */
#define TD_NET_RX_IP_CKSUM_GOOD 0x01u
/** The port found the IPv4 header checksum bad: dropped as BAD_IP_CHECKSUM. */
#define TD_NET_RX_IP_CKSUM_BAD 0x02u
/** The port verified the TCP checksum (ICMPv6 is always verified in software). */
#define TD_NET_RX_L4_CKSUM_GOOD 0x04u
/** The port found the TCP checksum bad: dropped as BAD_TCP_CHECKSUM. */
#define TD_NET_RX_L4_CKSUM_BAD 0x08u

/**
 * Parse one received Ethernet frame.
 *
 * Accepted: a TCP segment to one of our unicast addresses (the tuple from
 * our point of view: laddr is the destination; options left raw for
 * td_tcp_opts_parse()); an ARP request or reply whose target is ours, or an
 * announcement (sender = target address), which may refresh a neighbour entry;
 * a Neighbor Solicitation for one of our addresses; a Neighbor Advertisement
 * sent to us or to all nodes. IPv4 options are skipped. Checksums are
 * verified in software unless @p rx_flags says the port did it.
 *
 * The frame's bytes are only read, never written, and never read past
 * @p len, whatever they hold (bad input is never fatal).
 *
 * @param st this lcore's counters: the frame is counted once, as accepted
 *   (rx[kind]) or dropped (drops[reason]).
 * @param frame the frame, from the destination MAC address on, without FCS.
 * @param rx_flags TD_NET_RX_* from the port, or 0.
 * @param pkt the result; on a drop only `pkt->drop` is meaningful.
 * @return the enum td_net_kind (>= 0), or a negative enum td_net_class:
 *   TD_NET_CLASS_TRUNCATED, TD_NET_CLASS_INVALID or TD_NET_CLASS_IGNORED,
 *   with the reason in `pkt->drop`.
 */
int td_net_parse(struct td_net_stats *st, const struct td_net_if *nif, const uint8_t *frame,
		 uint32_t len, unsigned rx_flags, struct td_net_pkt *pkt);

/* ------------------------------------------------------------------------ */
/* Building TCP segments from templates                                       */

/**
 * The constant headers of a connection (or of every connection between the
 * same two addresses: ports come from the descriptor): Ethernet, VLAN tag,
 * IPv4 or IPv6 header with lengths and checksum left zero, and partial sums.
 * Filled once by td_net_tmpl_init(), then only read.
 */
struct td_net_tmpl {
	uint8_t hdr[TD_NET_TMPL_HDR_MAX]; /**< L2 + L3 headers */
	uint8_t l2_len;                   /**< 14, or 18 with a VLAN tag */
	uint8_t l3_len;                   /**< 20 or 40 */
	uint8_t hdr_len;                  /**< l2_len + l3_len: where the TCP header starts */
	uint8_t family;                   /**< 4 or 6 */
	uint32_t ph_sum; /**< pseudo-header partial sum: addresses and protocol, no length */
	uint32_t ip_sum; /**< IPv4: partial sum of the header with length and checksum 0 */
};
static_assert(sizeof(((struct td_net_tmpl *)0)->hdr) >=
		      TD_NET_ETH_LEN + TD_NET_VLAN_LEN + TD_NET_IP6_LEN,
	      "a template holds the longest L2 + L3 header");
static_assert(sizeof(struct td_net_tmpl) <= 72, "a template is at most 72 bytes");

/**
 * Fill a template for the tuple @p t (local side is the source) on
 * interface @p nif, towards the neighbour at MAC address @p dmac.
 * The addresses are not checked against the interface's.
 * @return 0, or -TD_EINVAL when the family is neither 4 nor 6.
 */
int td_net_tmpl_init(struct td_net_tmpl *t, const struct td_net_if *nif, const uint8_t dmac[6],
		     const struct td_tuple *tu);

/**
 * Where td_net_build_tcp() puts the payload of a segment with @p optlen bytes
 * of options: write it there first (td_tcp_out_payload(st, o, buf + off)) and
 * pass a NULL payload to build in place without a copy.
 */
static inline uint32_t
td_net_tcp_payload_off(const struct td_net_tmpl *t, uint32_t optlen)
{
	return t->hdr_len + TD_NET_TCP_LEN + ((optlen + 3u) & ~3u);
}

/** td_net_build_tcp() @p tx_flags: leave the IPv4 header checksum 0 (port offload). */
#define TD_NET_TX_NO_IP_CKSUM 0x01u
/**
 * td_net_build_tcp() @p tx_flags: put the pseudo-header sum in the TCP
 * checksum field for the port to finish (see the file's offload section).
 */
#define TD_NET_TX_NO_TCP_CKSUM 0x02u

/**
 * Write the frame of one segment from lib/tcp into @p buf.
 *
 * The L2 and L3 constants come from @p t (the addresses of `o->tuple` are
 * not read); ports, seq, ack, flags, window and options come from @p o.
 * The payload is `o->len` bytes copied from @p payload, or, when @p payload
 * is NULL, already in @p buf at td_net_tcp_payload_off() (it is read there
 * for the checksum).
 *
 * @param tx_flags TD_NET_TX_NO_IP_CKSUM, TD_NET_TX_NO_TCP_CKSUM, or 0.
 * @return the frame length, or -TD_ENOSPC when it exceeds @p cap,
 *   -TD_EINVAL when `o->optlen` exceeds 40 or the IP length would exceed
 *   65535. Nothing is written on error.
 */
int td_net_build_tcp(const struct td_net_tmpl *t, const struct td_tcp_out *o,
		     const uint8_t *payload, unsigned tx_flags, uint8_t *buf, uint32_t cap);

/* ------------------------------------------------------------------------ */
/* ARP and neighbour discovery                                               */

/**
 * Write a broadcast ARP request asking who has @p tpa, from our address
 * @p spa. At most TD_NET_ARP_FRAME_MAX bytes.
 * @return the frame length, or -TD_ENOSPC.
 */
int td_net_build_arp_request(const struct td_net_if *nif, const uint8_t spa[4],
			     const uint8_t tpa[4], uint8_t *buf, uint32_t cap);

/**
 * Write the ARP reply to a parsed request @p req (TD_NET_KIND_ARP, op
 * request), sent to the requester's hardware address (RFC 826). A probe
 * (RFC 5227, sender address 0) gets its reply too, which defends our address.
 * @return the frame length, -TD_ENOSPC, or -TD_EINVAL when @p req is not a
 *   request for one of our addresses.
 */
int td_net_build_arp_reply(const struct td_net_if *nif, const struct td_net_pkt *req, uint8_t *buf,
			   uint32_t cap);

/**
 * Write a Neighbor Solicitation for @p target from our address @p src, with
 * our link-layer address option and hop limit 255 (RFC 4861 7.2.2). With
 * @p dmac NULL it goes to the target's solicited-node multicast address
 * (resolution); otherwise to the target itself at @p dmac (reachability).
 * At most TD_NET_ND_FRAME_MAX bytes.
 * @return the frame length, or -TD_ENOSPC.
 */
int td_net_build_ns(const struct td_net_if *nif, const uint8_t src[16], const uint8_t target[16],
		    const uint8_t *dmac, uint8_t *buf, uint32_t cap);

/**
 * Write the Neighbor Advertisement that answers a parsed solicitation @p ns
 * (TD_NET_KIND_NS), RFC 4861 7.2.4: from the target address, with our
 * link-layer address option and the Override flag; to the soliciting node
 * with the Solicited flag, or, when the solicitation came from the
 * unspecified address (duplicate address detection), to all nodes without it.
 * @return the frame length, -TD_ENOSPC, or -TD_EINVAL when @p ns is not a
 *   solicitation for one of our addresses.
 */
int td_net_build_na(const struct td_net_if *nif, const struct td_net_pkt *ns, uint8_t *buf,
		    uint32_t cap);

#endif /* TD_NET_H */
