//! Source lines from DWARF (`fibstat explain --vmlinux FILE --modules DIR`),
//! checked against a small program this test compiles itself with rustc:
//! an executable (as vmlinux is) and the same code as a relocatable object
//! copied to `DIR/sub/sym-test.ko` (as a module is: every function in its
//! own section at address 0, DWARF resolved through relocations).
//!
//! `outer` calls the always-inlined `inner`, which calls `take_lock`: the
//! frame `outer+OFF/SIZE` (OFF: the return address of that call, found
//! from the object's relocation) must come out as `sym_test::inner` at the
//! line of the call [inline], then `outer` at the line calling `inner`.

use std::path::{Path, PathBuf};
use std::process::Command;

use fibstat::explain::explain_bytes;
use fibstat::explain::symbolize::Symbolizer;
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget};

const SOURCE: &str = r#"#[no_mangle]
#[inline(never)]
pub extern "C" fn take_lock(x: u32) -> u32 {
    core::hint::black_box(x) + 1
}

#[inline(always)]
fn inner(x: u32) -> u32 {
    let y = core::hint::black_box(x) * 3;
    take_lock(y) // LOCK_CALL
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn outer(x: u32) -> u32 {
    let a = inner(x); // INNER_CALL
    core::hint::black_box(a) + 7
}

fn main() {
    println!("{}", outer(core::hint::black_box(2)));
}
"#;

fn line_of(marker: &str) -> u32 {
    let i = SOURCE
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| unreachable!());
    i as u32 + 1
}

struct Built {
    dir: PathBuf,
    exe: PathBuf,
    modules: PathBuf,
    /// `outer+OFF/SIZE` as the kernel would print it.
    outer_off: u64,
    outer_size: u64,
}

fn build(test: &str) -> Built {
    let dir = std::env::temp_dir().join(format!("fibstat-symbolize-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("modules/sub")).unwrap();
    let src = dir.join("sym_test.rs");
    std::fs::write(&src, SOURCE).unwrap();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let status = Command::new(rustc)
        .current_dir(&dir)
        .args([
            "--edition",
            "2021",
            "-g",
            "-C",
            "opt-level=2",
            "-C",
            "codegen-units=1",
            "-C",
            "panic=abort",
            "--emit=obj,link",
            "-o",
            "sym_test",
            "-A",
            "warnings",
        ])
        .arg(&src)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc failed");
    let obj_path = dir.join("sym_test.o");
    let data = std::fs::read(&obj_path).unwrap();
    let obj = object::File::parse(&*data).unwrap();
    let outer = obj
        .symbols()
        .find(|s| s.name() == Ok("outer"))
        .expect("outer in the object");
    let section = obj
        .section_by_index(outer.section_index().unwrap())
        .unwrap();
    // The call to take_lock: its relocation sits on the call's operand; the
    // return address follows the 4-byte operand.
    let (reloc_off, _) = section
        .relocations()
        .find(|(_, r)| match r.target() {
            RelocationTarget::Symbol(i) => obj
                .symbol_by_index(i)
                .is_ok_and(|s| s.name() == Ok("take_lock")),
            _ => false,
        })
        .expect("a call to take_lock in outer");
    let outer_off = reloc_off + 4 - outer.address();
    let outer_size = outer.size();
    std::fs::copy(&obj_path, dir.join("modules/sub/sym-test.ko")).unwrap();
    Built {
        exe: dir.join("sym_test"),
        modules: dir.join("modules"),
        dir,
        outer_off,
        outer_size,
    }
}

fn log(b: &Built) -> String {
    let frame = format!("outer+{:#x}/{:#x}", b.outer_off, b.outer_size);
    format!(
        "\
[    5.000000] ------------[ cut here ]------------
[    5.000001] WARNING: CPU: 0 PID: 1 at sym_test.rs:4 take_lock+0x4/0x10 [sym_test]
[    5.000002] Modules linked in: sym_test
[    5.000003] Call Trace:
[    5.000004]  <TASK>
[    5.000005]  {frame} [sym_test]
[    5.000006]  {frame}
[    5.000007]  no_such_function+0x1/0x2
[    5.000008]  </TASK>
[    5.000009] ---[ end trace 0000000000000000 ]---
"
    )
}

fn cleanup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn module_and_vmlinux_frames_get_inlined_source_lines() {
    let b = build("api");
    let mut out = explain_bytes(log(&b).as_bytes());
    assert_eq!(out.reports.len(), 1);
    let mut s = Symbolizer::new(Some(&b.exe), Some(&b.modules)).unwrap();
    s.apply(&mut out);
    let stack = &out.reports[0].current_stack;
    assert_eq!(stack.len(), 3);
    let (lock_call, inner_call) = (line_of("LOCK_CALL"), line_of("INNER_CALL"));
    for (f, module) in [(&stack[0], Some("sym_test")), (&stack[1], None)] {
        assert_eq!(f.module.as_deref(), module);
        assert_eq!(f.function, "outer");
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("sym_test.rs"), Some(inner_call)),
            "{f:#?}"
        );
        assert_eq!(f.inlined.len(), 1, "{f:#?}");
        assert_eq!(f.inlined[0].function, "sym_test::inner");
        assert_eq!(
            (f.inlined[0].file.as_deref(), f.inlined[0].line),
            (Some("sym_test.rs"), Some(lock_call))
        );
    }
    // A symbol that is nowhere stays as printed.
    assert_eq!(stack[2].file, None);
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    cleanup(&b.dir);
}

#[test]
fn cli_prints_inline_frames_like_syzkaller() {
    let b = build("cli");
    let log_path = b.dir.join("dmesg.txt");
    std::fs::write(&log_path, log(&b)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .arg("explain")
        .arg("--vmlinux")
        .arg(&b.exe)
        .arg("--modules")
        .arg(&b.modules)
        .arg(&log_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let want_inline = format!(
        "sym_test::inner sym_test.rs:{} [inline]",
        line_of("LOCK_CALL")
    );
    let want_frame = format!(
        "outer+{:#x}/{:#x} [sym_test] sym_test.rs:{}",
        b.outer_off,
        b.outer_size,
        line_of("INNER_CALL")
    );
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let i = lines
        .iter()
        .position(|l| *l == want_inline)
        .unwrap_or_else(|| panic!("no `{want_inline}` in:\n{text}"));
    assert_eq!(lines[i + 1], want_frame, "{text}");

    // A module that is not in the directory is a warning, not an error.
    let other = b.dir.join("other.txt");
    std::fs::write(
        &other,
        "WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2 [absent]\nCall Trace:\n f+0x1/0x2 [absent]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(["explain", "--modules"])
        .arg(&b.modules)
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("module absent: no absent.ko under"), "{err}");

    // No debug info at all is an error that says so.
    let out = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(["explain", "--vmlinux"])
        .arg(&log_path)
        .arg(&log_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ELF file"));
    cleanup(&b.dir);
}

/// `--annotate`: the log itself, each frame the debug info resolves with
/// ` file:line` appended and its inlined function inserted before it as a
/// line of its own (`[inline]`, same prefix), everything else byte for byte.
#[test]
fn annotate_prints_the_log_with_source_lines() {
    let b = build("annotate");
    let text = log(&b);
    // A line that is not UTF-8 and a CRLF line pass through unchanged.
    let mut input = text.clone().into_bytes();
    input.extend_from_slice(b"[    5.000010] odd \xff byte\n[    5.000011] crlf line\r\n");
    let log_path = b.dir.join("dmesg.txt");
    std::fs::write(&log_path, &input).unwrap();
    let run = |alias: &str| {
        Command::new(env!("CARGO_BIN_EXE_fibstat"))
            .args(["explain", alias, "--vmlinux"])
            .arg(&b.exe)
            .arg("--modules")
            .arg(&b.modules)
            .arg(&log_path)
            .output()
            .unwrap()
    };
    let out = run("--annotate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = format!("outer+{:#x}/{:#x}", b.outer_off, b.outer_size);
    let (lock_call, inner_call) = (line_of("LOCK_CALL"), line_of("INNER_CALL"));
    let mut want = text.replace(
        &format!("[    5.000005]  {frame} [sym_test]\n"),
        &format!(
            "[    5.000005]  sym_test::inner sym_test.rs:{lock_call} [inline]\n\
             [    5.000005]  {frame} [sym_test] sym_test.rs:{inner_call}\n"
        ),
    );
    want = want.replace(
        &format!("[    5.000006]  {frame}\n"),
        &format!(
            "[    5.000006]  sym_test::inner sym_test.rs:{lock_call} [inline]\n\
             [    5.000006]  {frame} sym_test.rs:{inner_call}\n"
        ),
    );
    assert_ne!(want, text);
    let mut want = want.into_bytes();
    want.extend_from_slice(b"[    5.000010] odd \xff byte\n[    5.000011] crlf line\r\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(out.stdout, want);
    // `--symbolize` is the same option (syz-symbolize's word).
    assert_eq!(run("--symbolize").stdout, want);
    // Without debug info there is nothing to add: an error, not a copy.
    let out = Command::new(env!("CARGO_BIN_EXE_fibstat"))
        .args(["explain", "--annotate"])
        .arg(&log_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--annotate needs --vmlinux"));
    cleanup(&b.dir);
}
