/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK headers use POSIX types (ssize_t, cpu_set_t). */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "pair.h"

static const uint8_t cli_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t srv_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

void
pair_opts_default(struct pair_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->family = 4;
	o->max_conns = 1024;
	o->tw_max = 4096;
	o->msl_ms = 100;
	o->request = 100;
	o->response = 1000;
	o->clients = 1;
	o->mbufs = 8191;
}

/* ------------------------------------------------------------------------ */
/* Per-connection state                                                      */

static struct pair_conn *
conn_get(struct pair_side *sd)
{
	struct pair_conn *cs;

	if (sd->free == UINT32_MAX)
		return NULL;
	cs = &sd->conns[sd->free];
	sd->free = cs->next;
	sd->used++;
	memset(cs, 0, sizeof(*cs));
	return cs;
}

static void
conn_put(struct pair_side *sd, struct pair_conn *cs)
{
	td_tcp_release(td_engine_stack(sd->w), cs->c);
	cs->c = NULL;
	cs->next = sd->free;
	sd->free = (uint32_t)(cs - sd->conns);
	sd->used--;
}

static void
consume(struct pair_side *sd, struct pair_conn *cs)
{
	int n;

	while ((n = td_tcp_recv(td_engine_stack(sd->w), cs->c, NULL, 1u << 30)) > 0)
		cs->got += (uint32_t)n;
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */

static void
client_read(struct pair_side *sd, struct pair_conn *cs)
{
	struct td_tcp_stack *st = td_engine_stack(sd->w);

	consume(sd, cs);
	if (cs->got > sd->p->o.response)
		sd->bad++;
	if (cs->got < sd->p->o.response || cs->closing)
		return;
	/* The whole response is in: close first and give the handle up. */
	if (td_tcp_shutdown(st, cs->c) != 0)
		sd->bad++;
	conn_put(sd, cs);
}

static void
client_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	struct pair_side *sd = td_engine_worker_uctx(ctx);
	struct pair_conn *cs = td_tcp_uctx(c);
	uint32_t req = sd->p->o.request;

	(void)err;
	switch (ev) {
	case TD_TCP_EV_CONNECTED:
		if (req > 0 && td_tcp_send(td_engine_stack(sd->w), c, NULL, req) != (int)req)
			sd->bad++;
		return;
	case TD_TCP_EV_READABLE:
	case TD_TCP_EV_PEER_CLOSED:
		client_read(sd, cs);
		return;
	case TD_TCP_EV_CLOSED:
		sd->bad++; /* the client releases before its close ends */
		conn_put(sd, cs);
		return;
	case TD_TCP_EV_RESET:
	case TD_TCP_EV_TIMED_OUT:
		sd->failed++;
		conn_put(sd, cs);
		return;
	case TD_TCP_EV_ACCEPTED:
	case TD_TCP_EV_WRITABLE:
	case TD_TCP_EV_CLOSE_DONE:
	case TD_TCP_EV_RETX_WARNING:
		return;
	}
}

static void
server_read(struct pair_side *sd, struct pair_conn *cs)
{
	uint32_t resp = sd->p->o.response;

	consume(sd, cs);
	if (cs->responded || cs->got < sd->p->o.request)
		return;
	if (cs->got > sd->p->o.request)
		sd->bad++;
	if (resp > 0 && td_tcp_send(td_engine_stack(sd->w), cs->c, NULL, resp) != (int)resp)
		sd->bad++;
	cs->responded = true;
}

static void
server_event(void *ctx, struct td_tcp_conn *c, enum td_tcp_event ev, int err)
{
	struct pair_side *sd = td_engine_worker_uctx(ctx);
	struct td_tcp_stack *st = td_engine_stack(sd->w);
	struct pair_conn *cs = td_tcp_uctx(c);

	(void)err;
	switch (ev) {
	case TD_TCP_EV_ACCEPTED:
		cs = conn_get(sd);
		if (cs == NULL) {
			sd->failed++;
			td_tcp_abort(st, c);
			td_tcp_release(st, c);
			return;
		}
		cs->c = c;
		td_tcp_set_uctx(c, cs);
		return;
	case TD_TCP_EV_CONNECTED:
	case TD_TCP_EV_READABLE:
		server_read(sd, cs);
		return;
	case TD_TCP_EV_PEER_CLOSED:
		server_read(sd, cs);
		if (!cs->responded)
			sd->bad++;
		if (td_tcp_shutdown(st, c) != 0)
			sd->bad++;
		cs->closing = true;
		return;
	case TD_TCP_EV_CLOSED:
		if (cs->closing)
			sd->done++;
		else
			sd->bad++;
		conn_put(sd, cs);
		return;
	case TD_TCP_EV_RESET:
	case TD_TCP_EV_TIMED_OUT:
		sd->failed++;
		conn_put(sd, cs);
		return;
	case TD_TCP_EV_WRITABLE:
	case TD_TCP_EV_CLOSE_DONE:
	case TD_TCP_EV_RETX_WARNING:
		return;
	}
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

static void
addr_of(uint8_t family, uint32_t host, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == 4) {
		/* 198.18.0.0/15, the benchmarking range (RFC 2544). */
		out[0] = 198;
		out[1] = 18;
		out[2] = (uint8_t)(host >> 8);
		out[3] = (uint8_t)host;
		return;
	}
	/* 2001:2::/48, the IPv6 benchmarking range (RFC 5180). */
	out[0] = 0x20;
	out[1] = 0x01;
	out[3] = 0x02;
	out[12] = (uint8_t)(host >> 24);
	out[13] = (uint8_t)(host >> 16);
	out[14] = (uint8_t)(host >> 8);
	out[15] = (uint8_t)host;
}

static int
side_init(struct pair *p, int i, char *err, size_t errlen)
{
	struct pair_side *sd = &p->side[i];
	struct td_engine_config cfg;
	struct td_net_if nif;
	unsigned txo = 0, rxo = 0;
	char mpname[RTE_MEMPOOL_NAMESIZE];
	int rc;

	snprintf(mpname, sizeof(mpname), "%.12s_mp%d", p->name, i);
	/* A per-lcore cache only for pools large enough to keep one. */
	p->mp[i] = rte_pktmbuf_pool_create(mpname, p->o.mbufs, p->o.mbufs >= 1024 ? 256 : 0, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (p->mp[i] == NULL) {
		snprintf(err, errlen, "mempool %s: %s", mpname, rte_strerror(rte_errno));
		return -TD_ENOMEM;
	}
	rc = td_engine_port_setup(p->ports[i], p->mp[i], 0, &txo, &rxo);
	if (rc != 0) {
		snprintf(err, errlen, "port %u setup: %d", p->ports[i], rc);
		return -TD_EINVAL;
	}
	td_net_if_init(&nif, i == 0 ? cli_mac : srv_mac);
	if (i == 0)
		rc = p->o.family == 4 ? td_net_if_add4(&nif, p->cli_addr, p->o.clients)
				      : td_net_if_add6(&nif, p->cli_addr, p->o.clients);
	else
		rc = p->o.family == 4 ? td_net_if_add4(&nif, p->srv_addr, 1)
				      : td_net_if_add6(&nif, p->srv_addr, 1);
	if (rc != 0) {
		snprintf(err, errlen, "interface address: %s", td_strerror(rc));
		return rc;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.port_id = p->ports[i];
	cfg.queue_id = 0;
	cfg.mp = p->mp[i];
	cfg.nif = &nif;
	td_tcp_config_defaults(&cfg.tcp);
	cfg.tcp.max_conns = p->o.max_conns;
	cfg.tcp.tw_max = p->o.tw_max;
	cfg.tcp.msl_ms = p->o.msl_ms;
	cfg.tcp.buffers = 0;
	cfg.event = i == 0 ? client_event : server_event;
	cfg.uctx = sd;
	cfg.tx_offload = txo;
	cfg.rx_offload = rxo;
	cfg.socket_id = SOCKET_ID_ANY;
	sd->w = td_engine_worker_create(&cfg, err, errlen);
	if (sd->w == NULL)
		return -TD_EINVAL;
	sd->p = p;
	sd->client = i == 0;
	sd->nconns = p->o.max_conns;
	sd->conns = calloc(sd->nconns, sizeof(*sd->conns));
	if (sd->conns == NULL)
		return -TD_ENOMEM;
	for (uint32_t k = 0; k < sd->nconns; k++)
		sd->conns[k].next = k + 1 < sd->nconns ? k + 1 : UINT32_MAX;
	sd->free = 0;
	return 0;
}

int
pair_create(struct pair *p, const char *name, const struct pair_opts *o, char *err, size_t errlen)
{
	struct td_tcp_open_opts lo = {.stream = TD_TCP_STREAM_GENERATED};
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->o = *o;
	p->next_port = 1024;
	addr_of(o->family, 0x0101, p->cli_addr); /* 198.18.1.1 */
	addr_of(o->family, 0x0002, p->srv_addr); /* 198.18.0.2 */
	rc = td_engine_ring_pair(name, 4096, p->ports);
	if (rc != 0) {
		snprintf(err, errlen, "ring pair: %s", td_strerror(rc));
		return rc;
	}
	p->ports_up = true;
	for (int i = 0; i < 2; i++) {
		rc = side_init(p, i, err, errlen);
		if (rc != 0)
			return rc;
	}
	rc = td_tcp_listen(td_engine_stack(p->side[1].w), o->family, p->srv_addr, PAIR_SERVER_PORT,
			   &lo);
	if (rc != 0)
		snprintf(err, errlen, "listen: %s", td_strerror(rc));
	return rc;
}

int
pair_destroy(struct pair *p, struct td_engine_accounting a[2])
{
	struct td_engine_accounting tmp[2];
	int rc = 0;

	if (a == NULL)
		a = tmp;
	memset(a, 0, 2 * sizeof(*a));
	if (p->ports_up)
		for (int i = 0; i < 2; i++)
			td_engine_port_stop(p->ports[i]);
	for (int i = 0; i < 2; i++) {
		struct pair_side *sd = &p->side[i];

		if (sd->w == NULL)
			continue;
		if (td_engine_account(sd->w, &a[i]) != 0)
			rc = -TD_EBUSY;
		td_engine_worker_destroy(sd->w);
		sd->w = NULL;
		free(sd->conns);
		sd->conns = NULL;
	}
	if (p->ports_up)
		td_engine_ring_pair_free(p->name, p->ports);
	p->ports_up = false;
	for (int i = 0; i < 2; i++) {
		rte_mempool_free(p->mp[i]);
		p->mp[i] = NULL;
	}
	return rc;
}

void
pair_tuple(const struct pair *p, uint32_t k, uint16_t lport, struct td_tuple *cli,
	   struct td_tuple *srv)
{
	memset(cli, 0, sizeof(*cli));
	cli->family = p->o.family;
	addr_of(p->o.family, 0x0101 + k, cli->laddr);
	memcpy(cli->raddr, p->srv_addr, 16);
	cli->lport = lport;
	cli->rport = PAIR_SERVER_PORT;
	if (srv == NULL)
		return;
	memset(srv, 0, sizeof(*srv));
	srv->family = cli->family;
	memcpy(srv->laddr, cli->raddr, 16);
	memcpy(srv->raddr, cli->laddr, 16);
	srv->lport = cli->rport;
	srv->rport = cli->lport;
}

int
pair_connect(struct pair *p, uint32_t k, uint16_t lport)
{
	struct pair_side *sd = &p->side[0];
	const struct td_tcp_open_opts oo = {.stream = TD_TCP_STREAM_GENERATED};
	struct td_tuple t;
	struct pair_conn *cs = conn_get(sd);
	int rc;

	if (cs == NULL)
		return -TD_ENOSPC;
	pair_tuple(p, k, lport, &t, NULL);
	rc = td_tcp_connect(td_engine_stack(sd->w), &t, &oo, &cs->c);
	if (rc != 0) {
		cs->next = sd->free;
		sd->free = (uint32_t)(cs - sd->conns);
		sd->used--;
		return rc;
	}
	td_tcp_set_uctx(cs->c, cs);
	p->opened++;
	td_engine_flush(sd->w);
	return 0;
}

uint32_t
pair_top_up(struct pair *p, uint32_t concurrency)
{
	uint32_t opened = 0;
	unsigned busy = 0;

	while (p->side[0].used < concurrency && busy < 64) {
		uint16_t port = p->next_port;
		uint32_t k = p->next_client;
		int rc;

		if (port == 65535) {
			p->next_port = 1024;
			p->next_client = k + 1 == p->o.clients ? 0 : k + 1;
		} else {
			p->next_port = (uint16_t)(port + 1);
		}
		rc = pair_connect(p, k, port);
		if (rc == 0)
			opened++;
		else if (rc == -TD_EADDRINUSE)
			busy++;
		else
			break;
	}
	return opened;
}

unsigned
pair_poll(struct pair *p)
{
	return (unsigned)td_engine_poll(p->side[0].w) + td_engine_poll(p->side[1].w);
}

bool
pair_settle(struct pair *p, bool tw_too, uint64_t max_us)
{
	uint64_t end = td_engine_now_us(p->side[0].w) + max_us;

	while (td_engine_now_us(p->side[0].w) < end) {
		struct td_tcp_pool_info a, b;
		unsigned moved = pair_poll(p);

		td_tcp_pool_info(td_engine_stack(p->side[0].w), &a);
		td_tcp_pool_info(td_engine_stack(p->side[1].w), &b);
		if (moved == 0 && a.conns_used == 0 && b.conns_used == 0 &&
		    (!tw_too || (a.tw_used == 0 && b.tw_used == 0)))
			return true;
	}
	return false;
}
