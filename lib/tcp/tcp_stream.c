/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

/* The two payload modes behind one interface. Buffered connections keep
 * their bytes in two rings from the stack's buffer pool, indexed by stream
 * offset modulo the ring size, so retransmission and reassembly need no
 * copies beyond the one in and the one out. Generated connections store
 * nothing: the byte at offset k is a function of the sender's ISN and k, so
 * the sender regenerates it for every (re)transmission and the receiver
 * checks it where it lands. Offsets are 32 bits, like sequence numbers: the
 * pattern repeats every 4 GiB, which still catches any misplaced byte. */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void
td_tcp_gen_fill(uint64_t seed, uint32_t off, uint8_t *dst, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint32_t k = off + i;
		uint64_t w = mix64(seed ^ (uint64_t)(k >> 3) * 0x9e3779b97f4a7c15ull);
		for (uint32_t b = k & 7; b < 8 && i < len; b++, i++)
			dst[i] = (uint8_t)(w >> (8 * b));
	}
}

uint64_t
tcp_stream_seed(uint32_t isn, const struct td_tuple *t, bool from_local)
{
	(void)t;
	(void)from_local;
	/* Both ends know the sender's ISN once synchronized, so it alone is the
	 * seed: no configuration has to agree between client and server. */
	return mix64(0x7464746470617974ull ^ isn);
}

uint32_t
tcp_snd_queued(const struct td_tcp_conn *c)
{
	uint32_t base = tcp_snd_base(c);
	uint32_t una = td_seq_gt(c->snd_una, base) ? c->snd_una : base;

	if (td_seq_geq(una, c->snd_end))
		return 0;
	return c->snd_end - una;
}

static void
ring_copy_out(const uint8_t *ring, uint32_t size, uint32_t pos, uint8_t *dst, uint32_t len)
{
	uint32_t first = TD_MIN(len, size - pos);

	memcpy(dst, ring + pos, first);
	memcpy(dst + first, ring, len - first);
}

static void
ring_copy_in(uint8_t *ring, uint32_t size, uint32_t pos, const uint8_t *src, uint32_t len)
{
	uint32_t first = TD_MIN(len, size - pos);

	memcpy(ring + pos, src, first);
	memcpy(ring, src + first, len - first);
}

void
tcp_stream_tx(const struct td_tcp_stack *st, const struct td_tcp_conn *c, uint32_t off,
	      uint8_t *dst, uint32_t len)
{
	switch ((enum td_tcp_stream)c->stream) {
	case TD_TCP_STREAM_BUFFER:
		ring_copy_out(tcp_buf(st, c->sbuf), st->cfg.sndbuf, off % st->cfg.sndbuf, dst, len);
		return;
	case TD_TCP_STREAM_GENERATED:
		td_tcp_gen_fill(tcp_stream_seed(c->iss, NULL, true), off, dst, len);
		return;
	}
}

uint32_t
tcp_stream_write(struct td_tcp_stack *st, struct td_tcp_conn *c, const uint8_t *data, uint32_t len)
{
	switch ((enum td_tcp_stream)c->stream) {
	case TD_TCP_STREAM_BUFFER: {
		uint32_t room = st->cfg.sndbuf - tcp_snd_queued(c);
		uint32_t n = TD_MIN(len, room);
		uint32_t off = c->snd_end - tcp_snd_base(c);
		ring_copy_in(tcp_buf(st, c->sbuf), st->cfg.sndbuf, off % st->cfg.sndbuf, data, n);
		c->snd_end += n;
		return n;
	}
	case TD_TCP_STREAM_GENERATED: {
		/* Nothing is stored, but keep the outstanding span far from 2^31
		 * so that sequence comparisons stay meaningful. */
		uint32_t room = 0x40000000u - tcp_snd_queued(c);
		uint32_t n = TD_MIN(len, room);
		c->snd_end += n;
		return n;
	}
	}
	return 0;
}

uint32_t
tcp_stream_rx(struct td_tcp_stack *st, struct td_tcp_conn *c, uint32_t seq, const uint8_t *data,
	      uint32_t len)
{
	uint32_t off = seq - tcp_rcv_base(c);

	switch ((enum td_tcp_stream)c->stream) {
	case TD_TCP_STREAM_BUFFER:
		ring_copy_in(tcp_buf(st, c->rbuf), st->cfg.rcvbuf, off % st->cfg.rcvbuf, data, len);
		return len;
	case TD_TCP_STREAM_GENERATED: {
		uint64_t seed = tcp_stream_seed(c->irs, NULL, false);
		uint8_t ref[256];
		uint32_t bad = 0;
		for (uint32_t i = 0; i < len; i += sizeof(ref)) {
			uint32_t n = TD_MIN((uint32_t)sizeof(ref), len - i);
			td_tcp_gen_fill(seed, off + i, ref, n);
			if (data == NULL || memcmp(ref, data + i, n) != 0)
				for (uint32_t j = 0; j < n; j++)
					bad += data == NULL || ref[j] != data[i + j];
		}
		c->data_errors += bad;
		st->stats.data_errors += bad;
		st->stats.data_verified += len;
		return len;
	}
	}
	return 0;
}

uint32_t
tcp_stream_read(struct td_tcp_stack *st, struct td_tcp_conn *c, uint8_t *dst, uint32_t len)
{
	uint32_t n = TD_MIN(len, c->rcv_unread);

	if (n == 0)
		return 0;
	if ((enum td_tcp_stream)c->stream == TD_TCP_STREAM_BUFFER && dst != NULL) {
		uint32_t off = tcp_rcv_read_seq(c) - tcp_rcv_base(c);
		ring_copy_out(tcp_buf(st, c->rbuf), st->cfg.rcvbuf, off % st->cfg.rcvbuf, dst, n);
	}
	c->rcv_unread -= n;
	return n;
}
