/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_TESTS_FLOW_EAL_FIXTURE_H
#define TD_TESTS_FLOW_EAL_FIXTURE_H

/* The EAL for one test. Criterion runs each test in its own worker process,
 * and the EAL can start once per process, so every test that needs rte_hash
 * starts it in its .init and stops it in its .fini, with a file prefix of its
 * own (tdflow<pid>) so that tests never share runtime files. */

#include <stdint.h>

#include "td_flow.h"

void eal_up(void);
void eal_down(void);

/* The EAL pins the main thread to the main lcore's CPU, and a thread
 * started from it inherits that. A reader thread calls this first, to run on
 * any of the process's CPUs: on the same CPU as the owner, each grace period
 * would last a scheduler time slice. */
void test_thread_unpin(void);

/* Keys for tests: index i gives a distinct key, with family 4 or 6. */
void test_key(struct td_flow_key *k, uint8_t family, uint32_t i);

/* A table of the given sizes, asserted to be made. */
struct td_flow *test_table(const char *name, uint32_t v4, uint32_t v6);

#endif
