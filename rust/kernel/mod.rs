// SPDX-License-Identifier: GPL-2.0

//! The abstractions fib_stat needs that the 6.12 kernel crate lacks, laid out as they would sit
//! under `rust/kernel/`: each file opens as an upstream one does (what it wraps, its rules, the C
//! header), holds the `unsafe` code with its `// SAFETY:` arguments, and offers a safe API that
//! no safe caller can misuse into undefined behaviour. The module's own files (`fib_stat.rs`,
//! `parse.rs`, `protocol.rs`) use them and contain no `unsafe` block.
//!
//! No file here imports the module's own code; `net::namespace` is below `net::netlink` and
//! `net::pernet`, which are below nothing else of theirs (no import cycles).

pub(crate) mod irq;
#[cfg(CONFIG_FIB_STAT_HARDIRQ_TICK)]
pub(crate) mod irq_work;
#[cfg(CONFIG_FIB_STAT_KUNIT_TEST)]
pub(crate) mod kunit;
pub(crate) mod module_param;
pub(crate) mod net;
#[cfg(any(CONFIG_FIB_STAT_LOCK_PERCPU, CONFIG_FIB_STAT_KUNIT_TEST))]
pub(crate) mod percpu;
// percpu builds take no `ContextLock`.
#[cfg_attr(
    CONFIG_FIB_STAT_LOCK_PERCPU,
    allow(dead_code, unused_imports, unused_macros)
)]
pub(crate) mod sync;
pub(crate) mod time;
