/* SPDX-License-Identifier: BSD-3-Clause */
/* _GNU_SOURCE for sched_getaffinity() and cpu_set_t. */
#define _GNU_SOURCE

#include <criterion/criterion.h>

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>

#include "eal_fixture.h"

static char runtime_dir[256];
static cpu_set_t cpus; /* the process's CPUs, before the EAL pins the main thread */

void
eal_up(void)
{
	char prefix[64];
	/* --no-shconf and --no-telemetry leave the runtime directory empty,
	 * so that eal_down() can remove it. */
	char *argv[] = {"test_flow",     "--no-huge",   "--no-pci",       "-m", "2048", prefix,
			"--log-level=3", "--no-shconf", "--no-telemetry", NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=tdflow%d", (int)getpid());
	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	cr_assert_geq(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0,
		      "rte_eal_init");
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
}

void
eal_down(void)
{
	rte_eal_cleanup();
	rmdir(runtime_dir);
}

void
test_thread_unpin(void)
{
	sched_setaffinity(0, sizeof(cpus), &cpus);
}

void
test_key(struct td_flow_key *k, uint8_t family, uint32_t i)
{
	if (family == TD_FLOW_V6) {
		uint8_t l[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		uint8_t r[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
		uint32_t be = rte_cpu_to_be_32(i);

		memcpy(r + 12, &be, 4);
		td_flow_key_v6(k, l, r, rte_cpu_to_be_16(80),
			       rte_cpu_to_be_16((uint16_t)(1024 + i % 60000)));
		return;
	}
	td_flow_key_v4(k, rte_cpu_to_be_32(0x0a000001), rte_cpu_to_be_32(0x0b000000 + i),
		       rte_cpu_to_be_16(80), rte_cpu_to_be_16((uint16_t)(1024 + i % 60000)));
}

struct td_flow *
test_table(const char *name, uint32_t v4, uint32_t v6)
{
	char err[160] = "";
	struct td_flow_config cfg = {
		.name = name,
		.entries_v4 = v4,
		.entries_v6 = v6,
		.socket_id = -1,
		.hash_seed = 0x1234,
		.max_readers = 4,
	};
	struct td_flow *f = td_flow_create(&cfg, err, sizeof(err));

	cr_assert_not_null(f, "td_flow_create: %s", err);
	return f;
}
