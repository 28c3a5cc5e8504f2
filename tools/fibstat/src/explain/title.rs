//! Titles: syzkaller's title of a report, from its row of
//! [`super::kinds::ROWS`] (title text, how the guilty frame is chosen, the
//! kind's skip list), and the hand-written titles of the irregular kinds
//! (`WARN()`, corrupted lists, KASAN's access, the stack protector's panic,
//! CFI, Rust panics, `workqueue leaked lock`, catch-all lines).

use super::frame::{clean_function, parse_frame};
use super::guilty::{banner_function, guilty, skipped, Extract};
use super::kinds::{Row, Title};
use super::model::Kind;
use super::oops::{location, Body};
use super::segment::RawReport;

/// `PREFIX in FUNC`, or `PREFIX` without a function.
fn in_frame(prefix: &str, f: Option<String>) -> String {
    match f {
        Some(f) if !f.is_empty() => format!("{prefix} in {f}"),
        _ => prefix.to_owned(),
    }
}

/// syzkaller's WARNING formats, in order.
fn warning_title(kind: Kind, banner: &str, b: &Body) -> String {
    let after_at = |pat: &str| {
        banner
            .split_once(" at ")
            .is_some_and(|(_, r)| r.contains(pat))
    };
    // Without a stack (a truncated paste), the function the banner names.
    let at_fn = banner
        .rsplit_once(' ')
        .and_then(|(_, f)| parse_frame(f))
        .map(|f| clean_function(&f.function).to_owned());
    let w = |prefix: &str, extra: &[&str]| {
        let f = guilty(b, None, extra, Extract::First, true)
            .or_else(|| at_fn.clone().filter(|f| !skipped(f, extra)));
        in_frame(prefix, f)
    };
    if kind == Kind::Odebug {
        return w(
            "WARNING: ODEBUG bug",
            &[
                "debug_",
                "rcu",
                "hrtimer_",
                "timer_",
                "work_",
                "percpu_",
                "vunmap",
                "vfree",
                "__free_",
                "debug_check",
                "kobject_",
            ],
        );
    }
    if after_at("mm/usercopy.c") {
        return w("WARNING: bad usercopy", &["usercopy", "__check"]);
    }
    if after_at("lib/kobject.c") {
        return w("WARNING: kobject bug", &["kobject_"]);
    }
    if after_at("fs/proc/generic.c") {
        return w("WARNING: proc registration bug", &["proc_"]);
    }
    if kind == Kind::Refcount {
        return w("WARNING: refcount bug", &["refcount", "kobject_"]);
    }
    if after_at("kernel/locking/lockdep.c") && banner.contains("lock_") {
        return w("WARNING: locking bug", &["lock_sock", "release_sock"]);
    }
    let mm = banner
        .split_once(" at ")
        .is_some_and(|(_, r)| r.starts_with("mm/") && (r.contains("malloc") || r.contains(" k")));
    if mm && (banner.contains("kmalloc") || banner.contains("krealloc") || banner.contains("alloc"))
    {
        return w(
            "WARNING: kmalloc bug",
            &["kmalloc", "krealloc", "slab", "kmem"],
        );
    }
    if banner.contains("mm/vmalloc.c") && banner.contains("__vmalloc_node") {
        return w("WARNING: zero-size vmalloc", &[]);
    }
    if banner.ends_with(" usb_submit_urb") || banner.contains(" usb_submit_urb+") {
        let f = guilty(
            b,
            None,
            &[
                "usb_submit_urb",
                "usb_start_wait_urb",
                "usb_bulk_msg",
                "usb_interrupt_msg",
                "usb_control_msg",
            ],
            Extract::First,
            true,
        );
        return match f {
            Some(f) => format!("WARNING in {f}/usb_submit_urb"),
            None => "WARNING in usb_submit_urb".to_owned(),
        };
    }
    if location(banner).is_some() {
        return w("WARNING", &[]);
    }
    let text = banner.trim_end();
    text.chars().take(120).collect()
}

/// The banner line as a title (syzkaller's title for a line it has no
/// format for).
fn line(banner: &str) -> String {
    banner.chars().take(120).collect()
}

/// syzkaller's title of a report of kind `kind` (after refinement) whose
/// banner is `row` (`None`: an irregular banner, or the content refined
/// the kind).
pub fn title(kind: Kind, row: Option<&Row>, banner: &str, raw: &RawReport, b: &Body) -> String {
    let Some(row) = row else {
        return custom(kind, banner, raw, b);
    };
    let frame = || super::guilty::row_frame(row, banner, &raw.lines, b);
    match row.title {
        Title::Text(text) => in_frame(text, frame()),
        Title::Banner(prefix) => in_frame(&prefix(banner), frame()),
        Title::Line => line(banner),
        Title::Custom => custom(kind, banner, raw, b),
    }
}

/// The hand-written titles.
fn custom(kind: Kind, banner: &str, raw: &RawReport, b: &Body) -> String {
    match kind {
        Kind::Warning | Kind::Odebug | Kind::Refcount => warning_title(kind, banner, b),
        Kind::ListCorruption => in_frame(
            if banner.starts_with("WARNING") {
                "WARNING: corrupted list"
            } else {
                "BUG: corrupted list"
            },
            guilty(b, None, &[], Extract::First, banner.starts_with("WARNING")),
        ),
        Kind::Kasan => kasan_title(banner, raw, b),
        Kind::KernelPanic if banner.contains("stack-protector:") => in_frame(
            "kernel panic: stack is corrupted",
            banner_function(&banner.replace("corrupted in: ", "corrupted in "))
                .or_else(|| guilty(b, None, &["stack_chk"], Extract::First, false)),
        ),
        Kind::WorkqueueLockup if banner.contains("leaked lock or atomic") => {
            let f = raw
                .lines
                .iter()
                .find_map(|l| l.trim().strip_prefix("last function: "))
                .map(|f| {
                    f.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or(f)
                        .to_owned()
                });
            in_frame("BUG: workqueue leaked lock or atomic", f)
        }
        Kind::CfiFailure => {
            let f = banner
                .strip_prefix("CFI failure at ")
                .and_then(parse_frame)
                .map(|f| clean_function(&f.function).to_owned());
            in_frame("CFI failure", f)
        }
        Kind::RustPanic => {
            let msg = raw
                .lines
                .get(1)
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "rust_kernel: panicked".to_owned());
            in_frame(
                &msg,
                guilty(
                    b,
                    None,
                    &[
                        "rust_begin_unwind",
                        "rust_panic",
                        "panic_fmt",
                        "core::panicking",
                    ],
                    Extract::First,
                    false,
                ),
            )
        }
        _ => line(banner),
    }
}

/// KASAN: the access (`Read`/`Write`, from the line after the banner) and
/// the banner's function, or `invalid-free`.
fn kasan_title(banner: &str, raw: &RawReport, b: &Body) -> String {
    let bf = banner_function(banner);
    let body = banner.trim_start_matches("BUG: KASAN: ");
    let bug = body.split_whitespace().next().unwrap_or("");
    let access = raw.lines.iter().find_map(|l| {
        let t = l.trim();
        if t.starts_with("Read ") {
            Some("Read")
        } else if t.starts_with("Write ") {
            Some("Write")
        } else {
            None
        }
    });
    let free = matches!(bug, "double-free" | "invalid-free")
        || body.starts_with("double-free or invalid-free");
    if free {
        in_frame(
            "KASAN: invalid-free",
            guilty(
                b,
                bf.as_deref(),
                &["slab_", "kfree", "vunmap", "vfree"],
                Extract::First,
                false,
            ),
        )
    } else if let Some(access) = access {
        in_frame(
            &format!("KASAN: {bug} {access}"),
            guilty(
                b,
                bf.as_deref(),
                &["kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"],
                Extract::First,
                false,
            ),
        )
    } else {
        format!("KASAN: {body}")
    }
}
