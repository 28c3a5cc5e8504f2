# fib-stat: top-level entry points (make help lists them). The module's own
# Kbuild rules are in ./Kbuild.

LOCK ?= bh
# Kernel flavor: default, debug or rt. Empty: default for kernel/module/repro; for test and
# kunit all three (rt: the tests that declare it, README "Tests"); for soak and lava-jobs
# default and debug.
FLAVOR ?=
KFLAVOR := $(or $(FLAVOR),default)
TEST_FLAVORS := $(or $(FLAVOR),default debug rt)
LLVM ?= -19
BUILD := $(CURDIR)/build
MODULE_SRCS := Kbuild Kconfig $(wildcard *.rs) $(shell find rust -name '*.rs')
CARGO_TARGET := x86_64-unknown-linux-gnu
TOOL_BIN := $(BUILD)/bin/fibstat
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: all help setup kernel module modules kunit tool test repro rust-analyzer clean check-lock check-flavor matrix

all: module

help:
	@echo 'fib-stat make targets:'
	@echo '  repro          the one-command reproduction: spin splat vs clean bh run, with a verdict'
	@echo '                 (build/repro/report.txt, report.json and every guest log)'
	@echo '  matrix         the lock matrix of FLAVOR: lock mode x contexts x order in fresh guests (build/matrix/report.txt)'
	@echo '  test           every test: host unit tests, then the guest tests (KTAP) on the default and'
	@echo '                 debug kernels, and on rt those that declare it (KUnit, the rt matrix subset);'
	@echo '                 FLAVOR=default, debug or rt runs one flavor'
	@echo '  kernel         the cached lockdep guest kernel of FLAVOR (build/kernel, build/kernel-debug)'
	@echo '  module         fib_stat.ko in lock mode LOCK for FLAVOR (build/module/LOCK/fib_stat.ko);'
	@echo '                 KDIR=DIR builds against another built kernel tree (checked first)'
	@echo '  modules        the spin, bh and percpu builds (make repro runs them)'
	@echo '  module M=DIR   your own module (C or Rust) in DIR, built against the FLAVOR kernel with'
	@echo '                 its toolchain (LLVM=-19; gcc cannot build for this kCFI kernel): DIR/NAME.ko'
	@echo '  kunit          the module'"'"'s KUnit suite in a guest of each flavor, parsed by the kernel'"'"'s kunit.py'
	@echo '  tool           the fibstat CLI (build/bin/fibstat): needs cargo only, no root, no setup;'
	@echo '                 man pages and bash completions of fibstat and vm-run in build/share'
	@echo '  rust-analyzer  rust-project.json for the module with the cfg of LOCK (git-ignored)'
	@echo '  image          build/image/fib-stat.vmdk and .ova: a VMware guest that reproduces and proves the fix'
	@echo '  image-test     boot that image in QEMU as VMware would and check its verdicts'
	@echo '  bench          the performance measures, one line each (scripts/bench; never a test)'
	@echo '  soak           the long stress and fuzz runs on the bh build (both flavors, or FLAVOR)'
	@echo '  lava-jobs      LAVA jobs (qemu device type), one per flavor, lock mode and repro scenario,'
	@echo '                 with their artefacts: build/lava/jobs/ (both flavors, or FLAVOR)'
	@echo '  lava           the repro scenarios through the LAVA dispatcher (lava-run), per-case results'
	@echo '                 and the verdict in build/lava/run (FLAVOR, default: default)'
	@echo '  setup-lava     install lava-dispatcher (apt; not part of setup: 131 packages, 186 MB)'
	@echo '  setup          install the build dependencies (Debian 12: apt, rustup, bindgen)'
	@echo '  clean          remove build/ and the tool'"'"'s cargo target'
	@echo '  help           this list'
	@echo 'variables:'
	@echo '  LOCK=spin|bh|irq|irqsave|percpu  lock mode (default bh)'
	@echo '  FLAVOR=default|debug|rt  kernel flavor (default: default; make test and kunit: all three)'
	@echo '  KDIR=DIR               make module/modules: build against DIR instead of the project kernel'
	@echo '  M=DIR                  make module/modules: build the out-of-tree module in DIR instead'
	@echo '  TEST_FILTER=PART       make test: only the tests whose name contains PART'
	@echo 'guests: scripts/vm-run --help; tests: tests/run --help; repro: scripts/repro --help'

setup:
	@scripts/setup

# Kernel: scripts/build-kernel decides from its cache key whether anything is to do.
kernel: setup check-flavor
	@scripts/build-kernel --flavor $(KFLAVOR)

check-lock:
	@case "$(LOCK)" in spin|bh|irq|irqsave|percpu) ;; *) echo "LOCK must be spin, bh, irq, irqsave or percpu, not '$(LOCK)'" >&2; exit 2;; esac

check-flavor:
	@for f in $(TEST_FLAVORS); do case "$$f" in default|debug|rt) ;; *) echo "FLAVOR must be default, debug or rt, not '$$f'" >&2; exit 2;; esac; done

# KDIR defaults to the cached project kernel; override to build against another tree.
KDIR ?=

# M=DIR (on the command line, as kbuild takes it): your own module in DIR instead,
# C or Rust, against the FLAVOR kernel (or KDIR) with that kernel's toolchain
# (LLVM=-19; LLVM=, CC= given here are checked against it); the .ko lands in DIR.
EXT_M := $(if $(filter command line,$(origin M)),$(M))
ifneq ($(EXT_M),)
module modules: check-flavor setup
	@scripts/build-external-module --flavor $(KFLAVOR) \
		$(if $(filter command line environment,$(origin LLVM)),--llvm='$(LLVM)') \
		$(if $(filter command line,$(origin CC)),--cc='$(CC)') '$(EXT_M)' $(KDIR)
else
# With KDIR, the project kernel is not needed (build-module checks KDIR instead).
module: check-lock $(if $(KDIR),,kernel)
	@scripts/build-module --flavor $(KFLAVOR) $(LOCK) $(KDIR)

modules: $(if $(KDIR),,kernel)
	@scripts/build-module --flavor $(KFLAVOR) spin $(KDIR)
	@scripts/build-module --flavor $(KFLAVOR) bh $(KDIR)
	@scripts/build-module --flavor $(KFLAVOR) percpu $(KDIR)
endif

# Only cargo: no root, no QEMU, no kernel source (cargo install --path tools/fibstat works too).
# build-tool writes fibstat's man pages and completions into build/share; vm-run's
# (hand-written: docs/vm-run.1, docs/vm-run.bash) go next to them.
tool:
	@scripts/build-tool
	@install -D -m 644 docs/vm-run.1 $(BUILD)/share/man/man1/vm-run.1
	@install -D -m 644 docs/vm-run.bash $(BUILD)/share/bash-completion/completions/vm-run

rust-analyzer: check-lock $(if $(KDIR),,kernel)
	@scripts/rust-analyzer --lock $(LOCK) $(KDIR)

# Every flavor tested needs its kernel and the module builds the tests load.
test: setup check-flavor tool
	@for f in $(TEST_FLAVORS); do \
		scripts/build-kernel --flavor $$f && \
		scripts/build-module --flavor $$f spin && \
		scripts/build-module --flavor $$f bh && \
		scripts/build-module --flavor $$f percpu && \
		scripts/build-module --flavor $$f kunit || exit 1; \
	done
	@scripts/test --flavors "$(TEST_FLAVORS)"

# The module's KUnit suite in a guest of each flavor, parsed by the kernel's kunit.py.
kunit: setup check-flavor
	@for f in $(TEST_FLAVORS); do \
		scripts/build-kernel --flavor $$f && \
		scripts/build-module --flavor $$f kunit || exit 1; \
	done
	@scripts/kunit $(foreach f,$(TEST_FLAVORS),--flavor $(f))

# The lock matrix (README, "The lock matrix"): every cell in a fresh guest of FLAVOR,
# build/matrix/report.txt and report.json.
matrix: setup tool
	@scripts/matrix --flavor $(KFLAVOR)

repro: setup check-flavor tool
	@$(MAKE) --no-print-directory modules FLAVOR=default
	@scripts/repro

# The importable VM: default-flavor kernel, both module builds, fibstat, repro-verdict.
.PHONY: image image-test
image: tool
	@$(MAKE) --no-print-directory modules FLAVOR=default
	@scripts/mkimage

image-test: image
	@tests/run tests/image.test.sh

# Benchmarks, never timed tests: scripts/bench builds what it needs and prints
# one line per measure (make test only runs its smoke mode).
.PHONY: bench soak
bench: setup tool
	@scripts/bench

SOAK_FLAVORS := $(or $(FLAVOR),default debug)
soak: setup tool
	@for f in $(SOAK_FLAVORS); do case "$$f" in default|debug) ;; *) echo "FLAVOR must be default or debug, not '$$f'" >&2; exit 2;; esac; \
		scripts/build-kernel --flavor $$f && scripts/build-module --flavor $$f bh && scripts/build-module --flavor $$f percpu || exit 1; done
	@scripts/soak --flavors "$(SOAK_FLAVORS)"

# LAVA (lava/, scripts/lava): the repro scenarios as LAVA jobs, run here by lava-run.
.PHONY: lava-jobs lava setup-lava
setup-lava:
	@scripts/setup-lava

LAVA_FLAVORS := $(or $(FLAVOR),default debug)
lava-jobs: setup check-flavor tool
	@for f in $(LAVA_FLAVORS); do \
		scripts/build-kernel --flavor $$f && \
		scripts/build-module --flavor $$f spin && \
		scripts/build-module --flavor $$f bh && \
		scripts/build-module --flavor $$f percpu || exit 1; \
	done
	@scripts/lava jobs --flavors "$(LAVA_FLAVORS)"

lava: setup-lava
	@$(MAKE) --no-print-directory lava-jobs FLAVOR=$(KFLAVOR)
	@scripts/lava run --flavor $(KFLAVOR)

clean:
	rm -rf $(BUILD)
	cd tools/fibstat && cargo clean
