# fib-stat: top-level entry points. The module's own Kbuild rules are in ./Kbuild.
#
#   make repro        the one-command reproduction: spin splat vs clean bh run
#   make test         every test (host unit tests + guest scenarios)
#   make kernel       the cached lockdep guest kernel
#   make [module]     fib_stat.ko in lock mode LOCK (spin|bh, default bh)
#   make modules      both lock modes
#   make tool         the fibstat CLI, static, for host and guest
#   make setup        install the build dependencies (Debian 12)

LOCK ?= bh
LLVM ?= -19
BUILD := $(CURDIR)/build
MODULE_SRCS := Kbuild Kconfig $(wildcard *.rs)
CARGO_TARGET := x86_64-unknown-linux-gnu
TOOL_BIN := $(BUILD)/bin/fibstat
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: all setup kernel module modules tool test repro clean check-lock

all: module

setup:
	@scripts/setup

# Kernel: scripts/build-kernel decides from its cache key whether anything is to do.
kernel: setup
	@scripts/build-kernel

check-lock:
	@case "$(LOCK)" in spin|bh) ;; *) echo "LOCK must be spin or bh, not '$(LOCK)'" >&2; exit 2;; esac

# KDIR defaults to the cached project kernel; override to build against another tree.
KDIR ?=

module: check-lock kernel
	@scripts/build-module $(LOCK) $(KDIR)

modules: kernel
	@scripts/build-module spin $(KDIR)
	@scripts/build-module bh $(KDIR)

tool: setup
	@scripts/build-tool

test: modules tool
	@scripts/test

repro: modules tool
	@scripts/repro

clean:
	rm -rf $(BUILD)
	cd tools/fibstat && cargo clean
