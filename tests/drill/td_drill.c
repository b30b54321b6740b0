/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * td-drill: the packetdrill-dialect conformance runner of teardown
 * (/work/shared/PACKETDRILL.md, tests/drill/README.md).
 *
 *   td-drill [--verbose] [--ip_version=ipv4|ipv6 | --ip 4|6]
 *            [--tolerance_usecs=N] [--tolerance_percent=P]
 *            [--tcp_ts_tick_usecs=N] FILE.pkt...
 *
 * Exit status: 0 every script passed, 1 at least one failed, 2 a usage error
 * or a script that does not parse or leaves the dialect (2 wins over 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: td-drill [--verbose] [--ip_version=ipv4|ipv6 | --ip 4|6]\n"
		   "                [--tolerance_usecs=N] [--tolerance_percent=P]\n"
		   "                [--tcp_ts_tick_usecs=N] FILE.pkt...\n");
}

int
main(int argc, char **argv)
{
	struct d_opts o;
	char err[256], name[64];
	int nfiles = 0, status = D_PASS;
	const char **files = calloc((size_t)argc, sizeof(*files));

	if (files == NULL)
		return D_BAD;
	d_opts_defaults(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			free(files);
			return 0;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			files[nfiles++] = a;
			continue;
		}
		const char *eq = strchr(a, '=');
		const char *value = NULL;
		size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nl >= sizeof(name))
			nl = sizeof(name) - 1;
		memcpy(name, a + 2, nl);
		name[nl] = '\0';
		if (eq != NULL) {
			value = eq + 1;
		} else if (strcmp(name, "ip") == 0 || strcmp(name, "ip_version") == 0 ||
			   strcmp(name, "tolerance_usecs") == 0 ||
			   strcmp(name, "tolerance_percent") == 0 ||
			   strcmp(name, "tcp_ts_tick_usecs") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "td-drill: %s needs a value\n", a);
				usage(stderr);
				free(files);
				return D_BAD;
			}
			value = argv[++i];
		}
		if (d_opt_set(&o, name, value, err, sizeof(err)) != 0) {
			fprintf(stderr, "td-drill: %s\n", err);
			usage(stderr);
			free(files);
			return D_BAD;
		}
	}
	if (nfiles == 0) {
		usage(stderr);
		free(files);
		return D_BAD;
	}
	for (int i = 0; i < nfiles; i++) {
		struct d_script s;
		int v = d_parse_file(files[i], &s);
		if (v == D_PASS)
			v = d_run_script(&s, &o);
		d_script_free(&s);
		if (o.verbose)
			printf("%s: %s\n", files[i],
			       v == D_PASS   ? "pass"
			       : v == D_FAIL ? "FAIL"
					     : "ERROR");
		if (v > status)
			status = v;
	}
	free(files);
	return status;
}
