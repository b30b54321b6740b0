/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built only when DPDK is found: the offload contract of td_net.h checked
 * against DPDK's own inline functions, which is what a port's driver relies
 * on. With TD_NET_TX_NO_TCP_CKSUM the TCP checksum field must hold what
 * rte_ipv4_phdr_cksum() / rte_ipv6_phdr_cksum() return (ol_flags without
 * TSO); the full software checksums must be rte_ipv4_cksum() and
 * rte_ipv4_udptcp_cksum() / rte_ipv6_udptcp_cksum(). Only headers are used:
 * nothing from DPDK is linked and no EAL is started.
 */
#define _GNU_SOURCE /* DPDK's headers use strnlen() and friends */
#include <criterion/criterion.h>

#include <string.h>

#include <rte_ip.h>

#include "harness.h"

TestSuite(dpdk, .init = setup, .fini = teardown);

static uint16_t
field(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2); /* as DPDK stores it: network order in memory */
	return v;
}

Test(dpdk, offload_fields_match_rte_ip)
{
	static uint8_t buf[2000];
	uint64_t seed = 2211;

	for (uint8_t family = 4; family <= 6; family += 2) {
		struct td_tuple t = {.lport = 443, .rport = 51000, .family = family};
		memcpy(t.laddr, family == 4 ? US4 : US6, family == 4 ? 4 : 16);
		memcpy(t.raddr, family == 4 ? PEER4 : PEER6, family == 4 ? 4 : 16);
		struct td_net_tmpl tm;
		cr_assert_eq(td_net_tmpl_init(&tm, &nif_us, PEER_MAC, &t), 0);

		for (uint32_t len = 0; len < 1460; len += 73) {
			uint8_t pl[1460];
			for (uint32_t i = 0; i < len; i++)
				pl[i] = (uint8_t)xorshift(&seed);
			struct td_tcp_out o = {.tuple = &t,
					       .seq = (uint32_t)xorshift(&seed),
					       .ack = (uint32_t)xorshift(&seed),
					       .flags = TD_TH_ACK,
					       .wnd = (uint16_t)len,
					       .len = len};
			struct td_tcp_opts opts = {.has = TD_OPT_TS, .ts_val = len, .ts_ecr = ~len};
			o.optlen = (uint8_t)td_tcp_opts_write(&opts, false, o.opts);

			/* Offload: what the driver is given. */
			int n = td_net_build_tcp(&tm, &o, pl,
						 TD_NET_TX_NO_IP_CKSUM | TD_NET_TX_NO_TCP_CKSUM,
						 buf, sizeof(buf));
			cr_assert_gt(n, 0);
			uint8_t *ip = buf + tm.l2_len, *th = buf + tm.hdr_len;
			if (family == 4) {
				const struct rte_ipv4_hdr *h = (const void *)ip;
				cr_assert_eq(field(ip + 10), 0);
				cr_assert_eq(field(th + 16), rte_ipv4_phdr_cksum(h, 0));
			} else {
				const struct rte_ipv6_hdr *h = (const void *)ip;
				cr_assert_eq(field(th + 16), rte_ipv6_phdr_cksum(h, 0));
			}

			/* Software: what DPDK would compute in full. */
			n = td_net_build_tcp(&tm, &o, pl, 0, buf, sizeof(buf));
			cr_assert_gt(n, 0);
			uint16_t tcp = field(th + 16);
			memset(th + 16, 0, 2);
			if (family == 4) {
				const struct rte_ipv4_hdr *h = (const void *)ip;
				uint16_t ipc = field(ip + 10);
				memset(ip + 10, 0, 2);
				cr_assert_eq(ipc, rte_ipv4_cksum(h));
				memcpy(ip + 10, &ipc, 2);
				cr_assert_eq(tcp, rte_ipv4_udptcp_cksum(h, th));
			} else {
				cr_assert_eq(tcp, rte_ipv6_udptcp_cksum((const void *)ip, th));
			}
		}
	}
}
