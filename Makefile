# SPDX-License-Identifier: BSD-3-Clause
#
# A thin wrapper around meson and ninja: `make test` is what CI runs
# (.ci/run). On Debian, missing build dependencies are installed first.

BUILD     := build
BUILD_SAN := build-san
SAN_OPTS  := -Db_sanitize=address,undefined -Dbuildtype=debug -Db_lundef=false
# Criterion runs each test in a worker process. A leak found when a worker
# exits does not fail the test in Criterion's count, so abort_on_error turns
# it into a failing exit status of the test program.
# tests/lsan.supp silences leaks inside Criterion's own runner, nothing else.
SAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	     LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Checked with dpkg-query; clang-format and a C compiler (gcc) as commands.
DEB_PKGS  := meson ninja-build pkg-config libdpdk-dev libnuma-dev libcriterion-dev
FORMAT_SRCS = $(shell find lib app bench tests -name '*.[ch]' 2>/dev/null | sort)

# $(call configure,dir,options): set up a build directory unless ninja can
# already regenerate it; a directory left by a failed setup is reconfigured.
configure = if [ ! -f $(1)/build.ninja ]; then \
		if [ -f $(1)/meson-private/coredata.dat ]; then \
			meson setup --reconfigure $(1) $(2); \
		else \
			meson setup $(1) $(2); \
		fi; \
	fi

# $(call synthesis,dir): Criterion's closing line of each suite, from the log.
synthesis = awk '/^test:/ { t = $$2; sub(/^teardown:/, "", t) } /Synthesis:/ { print t ": " $$0 }' \
	$(1)/meson-logs/testlog.txt

.PHONY: all deps build build-san test test-release test-san format format-check bench bench-micro demo clean

all: build

deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
		for p in $(DEB_PKGS); do \
			dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || \
				missing="$$missing $$p"; \
		done; \
	fi; \
	command -v clang-format >/dev/null 2>&1 || missing="$$missing clang-format"; \
	cc=""; command -v cc >/dev/null 2>&1 || { cc="gcc libc6-dev"; missing="$$missing $$cc"; }; \
	[ -z "$$missing" ] && exit 0; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "make deps: missing$$missing, and no apt-get to install them" >&2; exit 1; \
	fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "make deps: missing$$missing; run as root or install sudo" >&2; exit 1; fi; \
	echo "make deps: installing$$missing"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $(DEB_PKGS) clang-format $$cc >/dev/null

build: deps
	@$(call configure,$(BUILD),)
	ninja -C $(BUILD)

build-san: deps
	@$(call configure,$(BUILD_SAN),$(SAN_OPTS))
	ninja -C $(BUILD_SAN)

test-release: build
	meson test -C $(BUILD) --print-errorlogs
	@$(call synthesis,$(BUILD))

test-san: build-san
	$(SAN_ENV) meson test -C $(BUILD_SAN) --print-errorlogs
	@$(call synthesis,$(BUILD_SAN))

test: test-release test-san format-check

format: deps
	clang-format -i $(FORMAT_SRCS)

format-check: deps
	clang-format --dry-run -Werror $(FORMAT_SRCS)

# The lib/tcp in-process closing benchmark (bench/README.md).
bench: build
	@if [ -x $(BUILD)/bench/td_bench_close ]; then \
		$(BUILD)/bench/td_bench_close; \
	else \
		echo "make bench: $(BUILD)/bench/td_bench_close is not built yet (bench/ is empty)" >&2; \
		exit 1; \
	fi

# lib/flow, lib/timer and memory micro-benchmarks, then the whole engine over
# net_ring in one process (bench/README.md); needs DPDK. One JSON line each.
bench-micro: build
	@for b in td_bench_micro td_bench_engine; do \
		if [ ! -x $(BUILD)/bench/$$b ]; then \
			echo "make bench-micro: $(BUILD)/bench/$$b is not built (libdpdk-dev missing?)" >&2; \
			exit 1; \
		fi; \
		$(BUILD)/bench/$$b || exit 1; \
	done

# The README's first command: the DPDK teardown benchmark, a client and a
# server process (one lcore each) over vhost-user <-> virtio_user for 10 s,
# no NIC (tests/engine/links.sh reserves hugepages and cleans up). Without
# root or hugepages it says so and runs the same exchange over net_ring in
# one process with --no-huge. `make demo PEER=...` and the live statistics
# come with app/teardown.
demo: build
	@bash tests/engine/links.sh $(BUILD)/bench/td_bench_engine vhost 10 256; rc=$$?; \
	if [ $$rc -eq 77 ]; then \
		echo "make demo: running over net_ring in one process (--no-huge) instead"; \
		$(BUILD)/bench/td_bench_engine -- --duration 10; \
	else \
		exit $$rc; \
	fi

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
