/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port setup and the in-process net_ring wire (td_engine.h). Control path:
 * these functions may log nothing and allocate through DPDK.
 */

/* DPDK headers use POSIX types (ssize_t, cpu_set_t). */
#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "td_engine.h"

#define DEFAULT_DESC 1024

int
td_engine_port_setup(uint16_t port_id, struct rte_mempool *mp, uint16_t nb_desc,
		     unsigned *tx_offload, unsigned *rx_offload)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	uint16_t nb_rxd = nb_desc ? nb_desc : DEFAULT_DESC;
	uint16_t nb_txd = nb_rxd;
	unsigned txo = 0, rxo = 0;
	int socket;
	int rc;

	rc = rte_eth_dev_info_get(port_id, &di);
	if (rc != 0)
		return rc;
	memset(&conf, 0, sizeof(conf));
	/* Checksum offloads: used when the port offers them, software otherwise. */
	if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		txo |= TD_NET_TX_NO_IP_CKSUM;
	}
	if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		txo |= TD_NET_TX_NO_TCP_CKSUM;
	}
	if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		rxo |= TD_ENGINE_RX_IP_CKSUM;
	}
	if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		rxo |= TD_ENGINE_RX_TCP_CKSUM;
	}
	rc = rte_eth_dev_configure(port_id, 1, 1, &conf);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	socket = rte_eth_dev_socket_id(port_id);
	rc = rte_eth_rx_queue_setup(port_id, 0, nb_rxd, (unsigned)socket, NULL, mp);
	if (rc != 0)
		return rc;
	rc = rte_eth_tx_queue_setup(port_id, 0, nb_txd, (unsigned)socket, NULL);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return rc;
	/* The interface's MAC is the engine's, not necessarily the port's:
	 * accept every frame and let td_net_parse() filter. Ports that cannot
	 * (or need not) do it say so; that is not an error. */
	(void)rte_eth_promiscuous_enable(port_id);
	if (tx_offload != NULL)
		*tx_offload = txo;
	if (rx_offload != NULL)
		*rx_offload = rxo;
	return 0;
}

void
td_engine_port_stop(uint16_t port_id)
{
	(void)rte_eth_dev_stop(port_id);
}

static void
ring_name(char *buf, size_t len, const char *name, const char *suffix)
{
	snprintf(buf, len, "%s_%s", name, suffix);
}

int
td_engine_ring_pair(const char *name, unsigned ring_size, uint16_t ports[2])
{
	char n_ab[RTE_RING_NAMESIZE], n_ba[RTE_RING_NAMESIZE];
	char n_a[RTE_ETH_NAME_MAX_LEN], n_b[RTE_ETH_NAME_MAX_LEN];
	struct rte_ring *ab, *ba;
	int pa, pb;

	if ((ring_size & (ring_size - 1)) != 0 || ring_size < 2)
		return -TD_EINVAL;
	ring_name(n_ab, sizeof(n_ab), name, "ab");
	ring_name(n_ba, sizeof(n_ba), name, "ba");
	/* rte_eth_from_rings() goes through rte_vdev_init(), which finds the
	 * driver by the name's prefix. */
	snprintf(n_a, sizeof(n_a), "net_ring_%s_a", name);
	snprintf(n_b, sizeof(n_b), "net_ring_%s_b", name);
	/* One producer and one consumer per direction: each port has one
	 * queue, polled by one lcore. rte_ring keeps one slot empty. */
	ab = rte_ring_create(n_ab, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ba = rte_ring_create(n_ba, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ab == NULL || ba == NULL)
		goto fail;
	pa = rte_eth_from_rings(n_a, &ba, 1, &ab, 1, SOCKET_ID_ANY);
	if (pa < 0)
		goto fail;
	pb = rte_eth_from_rings(n_b, &ab, 1, &ba, 1, SOCKET_ID_ANY);
	if (pb < 0) {
		(void)rte_eth_dev_close((uint16_t)pa);
		goto fail;
	}
	ports[0] = (uint16_t)pa;
	ports[1] = (uint16_t)pb;
	return 0;
fail:
	rte_ring_free(ab);
	rte_ring_free(ba);
	return -TD_ENOMEM;
}

static void
ring_drain_free(const char *name, const char *suffix)
{
	char n[RTE_RING_NAMESIZE];
	struct rte_ring *r;
	void *obj;

	ring_name(n, sizeof(n), name, suffix);
	r = rte_ring_lookup(n);
	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &obj) == 0)
		rte_pktmbuf_free(obj);
	rte_ring_free(r);
}

void
td_engine_ring_pair_free(const char *name, const uint16_t ports[2])
{
	for (int i = 0; i < 2; i++) {
		(void)rte_eth_dev_stop(ports[i]);
		(void)rte_eth_dev_close(ports[i]);
	}
	ring_drain_free(name, "ab");
	ring_drain_free(name, "ba");
}
