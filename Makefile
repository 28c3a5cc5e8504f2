# fib-stat: top-level entry points. The module's own Kbuild rules are in ./Kbuild.
#
#   make repro        the one-command reproduction: spin splat vs clean bh run
#   make test         every test (host unit tests + guest scenarios) on both kernel
#                     flavors; FLAVOR=default or FLAVOR=debug runs one flavor's tests
#   make kernel       the cached lockdep guest kernel (FLAVOR=debug: the debug flavor,
#                     KASAN, kmemleak, UBSAN, DEBUG_OBJECTS, DEBUG_NET)
#   make [module]     fib_stat.ko in lock mode LOCK (spin|bh, default bh) for FLAVOR
#   make modules      both lock modes
#   make tool         the fibstat CLI, static, for host and guest
#   make setup        install the build dependencies (Debian 12)
#   make bench        the performance measures, one line each (scripts/bench)
#   make soak         the long stress and fuzz runs on the bh build (scripts/soak;
#                     both flavors; FLAVOR=default or FLAVOR=debug for one)

LOCK ?= bh
# Kernel flavor: default or debug. Empty: default for kernel/module/repro, both for test.
FLAVOR ?=
KFLAVOR := $(or $(FLAVOR),default)
TEST_FLAVORS := $(or $(FLAVOR),default debug)
LLVM ?= -19
BUILD := $(CURDIR)/build
MODULE_SRCS := Kbuild Kconfig $(wildcard *.rs)
CARGO_TARGET := x86_64-unknown-linux-gnu
TOOL_BIN := $(BUILD)/bin/fibstat
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: all setup kernel module modules tool test repro clean check-lock check-flavor

all: module

setup:
	@scripts/setup

# Kernel: scripts/build-kernel decides from its cache key whether anything is to do.
kernel: setup check-flavor
	@scripts/build-kernel --flavor $(KFLAVOR)

check-lock:
	@case "$(LOCK)" in spin|bh) ;; *) echo "LOCK must be spin or bh, not '$(LOCK)'" >&2; exit 2;; esac

check-flavor:
	@for f in $(TEST_FLAVORS); do case "$$f" in default|debug) ;; *) echo "FLAVOR must be default or debug, not '$$f'" >&2; exit 2;; esac; done

# KDIR defaults to the cached project kernel; override to build against another tree.
KDIR ?=

module: check-lock kernel
	@scripts/build-module --flavor $(KFLAVOR) $(LOCK) $(KDIR)

modules: kernel
	@scripts/build-module --flavor $(KFLAVOR) spin $(KDIR)
	@scripts/build-module --flavor $(KFLAVOR) bh $(KDIR)

tool: setup
	@scripts/build-tool

# Every flavor tested needs its kernel and both module builds.
test: setup check-flavor tool
	@for f in $(TEST_FLAVORS); do \
		scripts/build-kernel --flavor $$f && \
		scripts/build-module --flavor $$f spin && \
		scripts/build-module --flavor $$f bh || exit 1; \
	done
	@scripts/test --flavors "$(TEST_FLAVORS)"

repro: check-flavor tool
	@$(MAKE) --no-print-directory modules FLAVOR=default
	@scripts/repro

# Benchmarks, never timed tests: scripts/bench builds what it needs and prints
# one line per measure (make test only runs its smoke mode).
.PHONY: bench soak
bench: setup tool
	@scripts/bench

SOAK_FLAVORS := $(or $(FLAVOR),default debug)
soak: setup tool
	@for f in $(SOAK_FLAVORS); do case "$$f" in default|debug) ;; *) echo "FLAVOR must be default or debug, not '$$f'" >&2; exit 2;; esac; \
		scripts/build-kernel --flavor $$f && scripts/build-module --flavor $$f bh || exit 1; done
	@scripts/soak --flavors "$(SOAK_FLAVORS)"

clean:
	rm -rf $(BUILD)
	cd tools/fibstat && cargo clean
