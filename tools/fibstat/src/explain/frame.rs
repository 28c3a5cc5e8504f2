//! Stack frame parser, Rust symbol demangling, and the "first frame outside
//! lock and lockdep machinery" rule that names the callers.
//!
//! Accepted frame shapes (after prefix stripping and trimming):
//! * `fib_stat_rcv_proc+0x5b8/0x790 [fib_stat]`
//! * `? net_event_callback+0x373/0x490` (unreliable)
//! * `[<ffffffff80c3f954>] func+0x84/0xa0`, `[<c035e500>] ? func+0x60/0x88`
//! * `func+0x1b0/0x2510 arch/x86/mm/pat/set_memory.c:1658` (syzkaller)
//! * `spin_lock include/linux/spinlock.h:354 [inline]` (syzkaller)
//! * `tcp_sock_set_nodelay (net/ipv4/tcp.c:3160)` (decode_stacktrace.sh)
//! * `_RNvCs1234_8fib_stat17fib_stat_rcv_proc+0x10/0x20` (Rust v0), `_ZN...E`
//!
//! Anything after the frame (e.g. a `//spin_lock(...)` annotation pasted
//! into a blog) is ignored.
//!
//! A bare address (`0xffffffffa00070c6`, what `%pS` prints for code with no
//! symbol any more, e.g. a module's freed init section) is a frame of its
//! own kind: [`parse_bare_address`].

use super::model::Frame;

/// Parses one frame line. Returns `None` for anything that is not a frame.
pub fn parse_frame(line: &str) -> Option<Frame> {
    let mut s = line.trim();
    let mut frame = Frame::default();
    if let Some(rest) = s.strip_prefix("? ") {
        frame.unreliable = true;
        s = rest.trim_start();
    }
    if let Some(rest) = s.strip_prefix("[<") {
        let end = rest.find(">]")?;
        let addr = &rest[..end];
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        frame.address = Some(addr.to_owned());
        s = rest[end + 2..].trim_start();
        if let Some(rest) = s.strip_prefix("? ") {
            frame.unreliable = true;
            s = rest.trim_start();
        }
    }
    let (token, mut rest) = match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    };
    let symbol = match token.find("+0x") {
        Some(plus) => {
            let (off, size) = token[plus + 3..].split_once('/')?;
            let size = size.strip_prefix("0x")?;
            if off.is_empty()
                || size.is_empty()
                || !off.bytes().all(|b| b.is_ascii_hexdigit())
                || !size.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            frame.offset = Some(format!("0x{off}"));
            frame.size = Some(format!("0x{size}"));
            &token[..plus]
        }
        None => token,
    };
    if !is_symbol(symbol) {
        return None;
    }
    // Trailing decorations: `[module]`, `file:line`, `(file:line ...)`, `[inline]`.
    while !rest.is_empty() {
        let (tok, tail) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim_start()),
            None => (rest, ""),
        };
        if tok == "[inline]" {
            frame.inline = true;
        } else if let Some(m) = tok.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if frame.module.is_some() || m.is_empty() || !is_symbol_chars(m) {
                break;
            }
            frame.module = Some(m.to_owned());
        } else if let Some((file, line)) = parse_file_line(tok) {
            if frame.file.is_none() {
                frame.file = Some(file.to_owned());
                frame.line = Some(line);
            }
        } else {
            break;
        }
        rest = tail;
    }
    if frame.offset.is_none() && frame.file.is_none() && !frame.inline {
        return None;
    }
    frame.symbol = symbol.to_owned();
    frame.function = demangle(symbol);
    Some(frame)
}

/// A stack entry that is only an address, `0xffffffffa00070c6` (or
/// `? 0x...`): the frame of a function with no symbol. Its `function` and
/// `symbol` are the address text, so it names no caller and no title.
pub fn parse_bare_address(line: &str) -> Option<Frame> {
    let mut s = line.trim();
    let mut frame = Frame::default();
    if let Some(rest) = s.strip_prefix("? ") {
        frame.unreliable = true;
        s = rest.trim_start();
    }
    let hex = s.strip_prefix("0x")?;
    if !(8..=16).contains(&hex.len()) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    frame.symbol = s.to_owned();
    frame.function = s.to_owned();
    frame.address = Some(hex.to_owned());
    Some(frame)
}

/// Whether a frame is a [`parse_bare_address`] one.
pub fn is_bare_address(f: &Frame) -> bool {
    f.symbol.starts_with("0x")
}

/// `path/file.c:123`, optionally inside parentheses.
fn parse_file_line(tok: &str) -> Option<(&str, u32)> {
    let tok = tok.trim_start_matches('(').trim_end_matches(')');
    let (file, line) = tok.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    if file.is_empty() || !(file.contains('/') || file.contains('.')) {
        return None;
    }
    Some((file, line))
}

fn is_symbol_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'-'))
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 4096
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$'))
}

/// Demangles Rust symbols (v0 `_R...`, legacy `_ZN...`) without the hash;
/// returns other symbols unchanged.
pub fn demangle(symbol: &str) -> String {
    if symbol.starts_with("_R") || symbol.starts_with("_ZN") || symbol.starts_with("__ZN") {
        if let Ok(d) = rustc_demangle::try_demangle(symbol) {
            return format!("{d:#}");
        }
    }
    symbol.to_owned()
}

/// A function name without compiler clone suffixes (`.isra.0`, `.part.0`,
/// `.constprop.0`, `.cold`, `.llvm.123`). Rust paths are left alone.
pub fn clean_function(name: &str) -> &str {
    if name.contains("::") || name.starts_with('<') {
        return name;
    }
    match name.find('.') {
        Some(0) | None => name,
        Some(i) => &name[..i],
    }
}

/// Lockdep internals and helpers that appear in its own traces.
const MACHINERY_EXACT: &[&str] = &[
    "lock_acquire",
    "lock_release",
    "lock_acquired",
    "lock_contended",
    "lock_is_held_type",
    "lock_sync",
    "reacquire_held_locks",
    "mark_lock",
    "mark_lock_irq",
    "mark_usage",
    "mark_held_locks",
    "mark_irqflags",
    "valid_state",
    "check_usage_forwards",
    "check_usage_backwards",
    "check_irq_usage",
    "check_prev_add",
    "check_prevs_add",
    "check_noncircular",
    "check_deadlock",
    "check_wait_context",
    "check_flags",
    "validate_chain",
    "find_held_lock",
    "match_held_lock",
    "hlock_class",
    "print_usage_bug",
    "print_circular_bug",
    "print_deadlock_bug",
    "print_irq_inversion_bug",
    "print_bad_irq_dependency",
    "print_lock_invalid_wait_context",
    "print_lock_nested_lock_not_held",
    "print_unlock_imbalance_bug",
    "print_lock_contention_bug",
    "print_freed_lock_bug",
    "print_held_locks_bug",
    "debug_check_no_locks_freed",
    "debug_check_no_locks_held",
    "dump_stack",
    "dump_stack_lvl",
    "show_stack",
    "show_trace_log_lvl",
    "show_trace",
    "show_stack_log_lvl",
    "dump_trace",
    "dump_backtrace",
    "arch_stack_walk",
    "trace_hardirqs_on",
    "trace_hardirqs_off",
    "trace_hardirqs_on_caller",
    "trace_hardirqs_on_prepare",
    "trace_hardirqs_off_caller",
    "trace_softirqs_on",
    "trace_softirqs_off",
    "local_bh_enable",
    "local_bh_enable_ip",
    "local_bh_disable",
    "local_bh_disable_ip",
    "seqcount_lockdep_reader_access",
    "might_resched",
    "might_sleep",
    "might_fault",
    "down",
    "down_interruptible",
    "down_killable",
    "down_trylock",
    "down_timeout",
    "sockopt_lock_sock",
];

/// Name prefixes (leading underscores removed) of lock primitives.
const MACHINERY_PREFIX: &[&str] = &[
    "lockdep_",
    "raw_spin_",
    "spin_lock",
    "spin_unlock",
    "spin_trylock",
    "raw_read_",
    "raw_write_",
    "read_lock",
    "read_unlock",
    "read_trylock",
    "write_lock",
    "write_unlock",
    "write_trylock",
    "do_raw_",
    "queued_spin_",
    "queued_read_",
    "queued_write_",
    "native_queued_spin_",
    "pv_queued_spin_",
    "mutex_lock",
    "mutex_unlock",
    "mutex_trylock",
    "ww_mutex_lock",
    "rt_mutex",
    "rt_spin_",
    "rt_read_",
    "rt_write_",
    "rtlock_",
    "rwbase_",
    "down_read",
    "down_write",
    "percpu_down_",
    "rwsem_",
    "up_read",
    "up_write",
    "lock_sock",
    "bh_lock_sock",
    "xa_lock",
    "xas_lock",
    "fs_reclaim_acquire",
];

/// Whether a function belongs to lock / lockdep machinery rather than to the
/// code that took the lock.
pub fn is_lock_machinery(function: &str) -> bool {
    // Rust: the kernel crate's lock internals and the C helpers it calls.
    if function.contains("kernel::sync::lock") {
        return true;
    }
    if function.contains("::") || function.starts_with('<') {
        return false;
    }
    let base = clean_function(function);
    let base = base.strip_prefix("rust_helper_").unwrap_or(base);
    let core = base.trim_start_matches('_');
    if MACHINERY_EXACT.contains(&core) {
        return true;
    }
    if MACHINERY_PREFIX.iter().any(|p| core.starts_with(p)) {
        return true;
    }
    // Scope-based guards: class_spinlock_constructor, class_mutex_destructor...
    core.starts_with("class_") && (core.ends_with("_constructor") || core.ends_with("_destructor"))
}

/// The first reliable frame outside lock machinery, as a clean function
/// name. Bare addresses are passed over: the caller is then named from the
/// frames below (a lock taken in a module's freed `module_init` shows
/// `do_one_initcall`).
pub fn first_caller(frames: &[Frame]) -> Option<String> {
    frames
        .iter()
        .find(|f| !f.unreliable && !is_bare_address(f) && !is_lock_machinery(&f.function))
        .map(|f| clean_function(&f.function).to_owned())
}

/// Functions of the module loader that call a module's init function
/// (`do_one_initcall` called from `do_init_module`).
const MODULE_LOADER: &[&str] = &[
    "do_one_initcall",
    "do_init_module",
    "load_module",
    "init_module_from_file",
    "idempotent_init_module",
];

/// Labels the bare-address frames of a stack ([`Frame::note`]): a bare
/// address called by the module loader (`do_one_initcall`,
/// `do_init_module`, ... the next reliable frames) is a module's init code,
/// whose symbols are gone since its `__init` text was freed after the load;
/// `module` names that module when the report tells which one it is.
/// Any other bare address is freed or unknown code.
pub fn label_bare_frames(frames: &mut [Frame], module: Option<&str>) {
    for i in 0..frames.len() {
        if !is_bare_address(&frames[i]) {
            continue;
        }
        let below = frames[i + 1..]
            .iter()
            .find(|f| !f.unreliable && !is_bare_address(f));
        let init = below.is_some_and(|f| MODULE_LOADER.contains(&clean_function(&f.function)));
        frames[i].note = Some(match (init, module) {
            (true, Some(m)) => format!("init text of module {m} (freed after load)"),
            (true, None) => "init text of the module being loaded (freed after load)".to_owned(),
            (false, _) => "freed or unknown code".to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_frame() {
        let f = parse_frame("fib_stat_rcv_proc+0x5b8/0x790 [fib_stat]").unwrap();
        assert_eq!(f.function, "fib_stat_rcv_proc");
        assert_eq!(f.offset.as_deref(), Some("0x5b8"));
        assert_eq!(f.size.as_deref(), Some("0x790"));
        assert_eq!(f.module.as_deref(), Some("fib_stat"));
        assert!(!f.unreliable);
    }

    #[test]
    fn unreliable_and_address_frames() {
        let f = parse_frame(" ? net_event_callback+0x373/0x490").unwrap();
        assert!(f.unreliable);
        assert_eq!(f.function, "net_event_callback");
        let f =
            parse_frame(" [<ffffffff80c3f954>] seqcount_lockdep_reader_access+0x84/0xa0").unwrap();
        assert_eq!(f.address.as_deref(), Some("ffffffff80c3f954"));
        assert_eq!(f.function, "seqcount_lockdep_reader_access");
        let f = parse_frame("[<c0138a90>] ? __lock_acquire+0x660/0xc10").unwrap();
        assert!(f.unreliable);
    }

    #[test]
    fn syzkaller_frames() {
        let f = parse_frame("spin_lock include/linux/spinlock.h:354 [inline]").unwrap();
        assert!(f.inline);
        assert_eq!(f.file.as_deref(), Some("include/linux/spinlock.h"));
        assert_eq!(f.line, Some(354));
        assert_eq!(f.offset, None);
        let f = parse_frame(
            "__change_page_attr_set_clr+0x1b0/0x2510 arch/x86/mm/pat/set_memory.c:1658",
        )
        .unwrap();
        assert_eq!(f.line, Some(1658));
        assert!(!f.inline);
        let f =
            parse_frame("tcp_sock_set_nodelay (kbuild/net/ipv4/tcp.c:3160 kbuild/x.c:1)").unwrap();
        assert_eq!(f.file.as_deref(), Some("kbuild/net/ipv4/tcp.c"));
    }

    #[test]
    fn annotations_are_ignored() {
        let f =
            parse_frame("_raw_spin_lock+0x2f/0x50 //spin_lock(&net->ipv4.fib_statistics->lock)")
                .unwrap();
        assert_eq!(f.function, "_raw_spin_lock");
    }

    #[test]
    fn bare_addresses() {
        let f = parse_bare_address("    0xffffffffa00070c6").unwrap();
        assert_eq!(f.function, "0xffffffffa00070c6");
        assert_eq!(f.address.as_deref(), Some("ffffffffa00070c6"));
        assert!(is_bare_address(&f) && !f.unreliable);
        assert!(
            parse_bare_address(" ? 0xffffffffc0a1b2c3")
                .unwrap()
                .unreliable
        );
        for s in [
            "0x1234",
            "0xffffffffa00070c6 x",
            "0xfffffffg",
            "RIP: 0033:0x7f53",
            "ffffffffa00070c6",
        ] {
            assert!(parse_bare_address(s).is_none(), "{s:?}");
        }
        assert!(parse_frame("0xffffffffa00070c6").is_none());
    }

    #[test]
    fn non_frames() {
        for s in [
            "CPU0",
            "lock(&net->ipv4.fib_statistics->lock);",
            "<Interrupt>",
            "irq event stamp: 747160",
            "CPU: 1 PID: 0 Comm: swapper/1",
            "Call Trace:",
            "stack backtrace:",
            "",
            "? ",
            "-> #1 (&pctrl->lock){-.-.}:",
            "RIP: 0033:0x7f530297ff19",
            "0x1234+0x1/0x2",
        ] {
            assert!(parse_frame(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn rust_frames() {
        let f = parse_frame(
            "_RNvNtCs3yuwAp0waWO_8fib_stat8netevent18net_event_callback+0x1c/0x90 [fib_stat]",
        )
        .unwrap();
        assert_eq!(f.function, "fib_stat::netevent::net_event_callback");
        assert!(f.symbol.starts_with("_RNv"));
        let f =
            parse_frame("_ZN6kernel4sync4lock4Lock4lock17h0123456789abcdefE+0x10/0x40").unwrap();
        assert_eq!(f.function, "kernel::sync::lock::Lock::lock");
        assert!(is_lock_machinery(&f.function));
    }

    #[test]
    fn machinery() {
        for s in [
            "lock_acquire",
            "lock_acquire.part.0",
            "__lock_acquire",
            "_raw_spin_lock",
            "_raw_spin_lock_irqsave",
            "_raw_spin_unlock_irq",
            "mark_lock.cold",
            "print_usage_bug.part.0",
            "dump_stack_lvl",
            "__dump_stack",
            "rust_helper_spin_lock",
            "rust_helper_spin_lock_bh",
            "class_spinlock_constructor",
            "__mutex_lock_common",
            "spin_lock",
            "lock_sock_nested",
        ] {
            assert!(is_lock_machinery(s), "{s}");
        }
        for s in [
            "fib_stat_rcv_proc",
            "net_event_callback",
            "mt76_dma_cleanup",
            "fib_stat::netevent::net_event_callback",
            "mark_page_accessed",
            "__change_page_attr_set_clr",
        ] {
            assert!(!is_lock_machinery(s), "{s}");
        }
    }

    #[test]
    fn clean_names() {
        assert_eq!(
            clean_function("v3d_job_start_stats.isra.0"),
            "v3d_job_start_stats"
        );
        assert_eq!(clean_function("fib_stat::x::y"), "fib_stat::x::y");
    }
}
