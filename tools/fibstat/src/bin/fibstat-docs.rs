//! fibstat-docs: writes the man pages and shell completions of `fibstat`,
//! generated from its clap definition (`fibstat::cli`).
//!
//!   fibstat-docs --out DIR
//!
//! DIR/man/man1/fibstat.1 and fibstat-SUBCOMMAND.1,
//! DIR/bash-completion/completions/fibstat, DIR/zsh/site-functions/_fibstat,
//! DIR/fish/vendor_completions.d/fibstat.fish (the layout of /usr/share).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clap_complete::Shell;

#[derive(Parser)]
#[command(name = "fibstat-docs")]
struct Args {
    /// Directory to write into (e.g. build/share).
    #[arg(long)]
    out: PathBuf,
}

fn write(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, data)
}

/// What a man page has beyond clap's definition: the NAME line, and the
/// EXIT STATUS, EXAMPLES and SEE ALSO sections.
struct Page {
    /// `fibstat-explain - decode kernel reports ...` after the name.
    summary: &'static str,
    exit_status: &'static [(&'static str, &'static str)],
    /// (command line, what it does).
    examples: &'static [(&'static str, &'static str)],
    see_also: &'static str,
}

const NETLINK_EXIT: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "The module could not be reached or refused the request (not loaded, another \
         netlink protocol, no CAP_NET_ADMIN for record and reset).",
    ),
    ("2", "Usage error."),
];

fn page(name: &str) -> Page {
    let see_also = "ip(8), ip-netns(8), dmesg(1), journalctl(1)";
    match name {
        "fibstat" => Page {
            summary: "talk to the fib_stat kernel module, and explain kernel reports",
            exit_status: &[
                ("0", "Success."),
                (
                    "1",
                    "Failure; for explain --fail-on-report, a kernel report was found.",
                ),
                ("2", "Usage error, or an input that could not be read."),
            ],
            examples: &[
                (
                    "fibstat -j show",
                    "Statistics of the current network namespace, as JSON.",
                ),
                (
                    "fibstat -n ns1 record 192.0.2.1",
                    "Record a gateway in network namespace ns1.",
                ),
                (
                    "dmesg | fibstat explain",
                    "Explain the kernel reports in the kernel log.",
                ),
            ],
            see_also: "fibstat-show(1), fibstat-record(1), fibstat-reset(1), \
                       fibstat-explain(1), ip(8), dmesg(1)",
        },
        "fibstat-show" => Page {
            summary: "show the statistics and lock mode of a network namespace",
            exit_status: NETLINK_EXIT,
            examples: &[
                ("fibstat show", "The current network namespace."),
                (
                    "fibstat -p -n ns1 show",
                    "Network namespace ns1, as pretty-printed JSON.",
                ),
            ],
            see_also,
        },
        "fibstat-record" => Page {
            summary: "record a gateway in the fib_stat statistics",
            exit_status: NETLINK_EXIT,
            examples: &[("fibstat record 192.0.2.1", "Record gateway 192.0.2.1.")],
            see_also,
        },
        "fibstat-reset" => Page {
            summary: "zero the fib_stat statistics of a network namespace",
            exit_status: NETLINK_EXIT,
            examples: &[("fibstat -n ns1 reset", "Zero the statistics of ns1.")],
            see_also,
        },
        "fibstat-explain" => Page {
            summary: "decode kernel reports (lockdep, WARNING, BUG, KASAN, UBSAN, oopses, \
                      stalls, leaks) in kernel logs",
            exit_status: &[
                (
                    "0",
                    "The input was read (with --fail-on-report: and holds no kernel report).",
                ),
                ("1", "With --fail-on-report: the log holds a kernel report."),
                (
                    "2",
                    "Usage error, an input that could not be read, output that could not be \
                     written, or debug info (--vmlinux, --modules) that could not be loaded.",
                ),
            ],
            examples: &[
                (
                    "dmesg | fibstat explain",
                    "Explain the reports of the running kernel's log.",
                ),
                (
                    "fibstat explain -s console.log",
                    "One line per distinct report: count, lines, syzkaller-style title.",
                ),
                (
                    "fibstat explain --vmlinux vmlinux --modules build/ console.log",
                    "Add source lines and inlined functions to the frames.",
                ),
                (
                    "fibstat explain --annotate --vmlinux vmlinux console.log",
                    "The log itself, source lines and inlined frames added, to paste into a mail.",
                ),
                (
                    "fibstat explain --fail-on-report guest.log",
                    "Exit with status 1 if the log holds a report (for CI).",
                ),
                (
                    "fibstat -p explain dmesg.txt",
                    "The decoded reports as pretty-printed JSON.",
                ),
            ],
            see_also: "fibstat(1), dmesg(1), journalctl(1), addr2line(1)",
        },
        _ => Page {
            summary: "",
            exit_status: &[],
            examples: &[],
            see_also: "fibstat(1)",
        },
    }
}

/// Text escaped for roff: backslashes, leading dots and quotes, and `-` as
/// `\-` (an ASCII hyphen-minus, not a typographic hyphen).
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The man page of `cmd` named `name`: clap's sections (synopsis,
/// description, options, subcommands, version) framed by NAME, EXIT
/// STATUS, EXAMPLES and SEE ALSO (the `after_help` text, which clap_mangen
/// would print under EXTRA, is left out: EXIT STATUS says it).
fn man_page(cmd: clap::Command, name: &str) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let p = page(name);
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    buf.extend_from_slice(format!(".SH NAME\n{} \\- {}\n", roff(name), roff(p.summary)).as_bytes());
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf)?;
    }
    let mut s = String::new();
    if !p.exit_status.is_empty() {
        s.push_str(".SH \"EXIT STATUS\"\n");
        for (code, what) in p.exit_status {
            s.push_str(&format!(".TP\n.B {code}\n{}\n", roff(what)));
        }
    }
    if !p.examples.is_empty() {
        s.push_str(".SH EXAMPLES\n");
        for (line, what) in p.examples {
            s.push_str(&format!(".TP\n.B {}\n{}\n", roff(line), roff(what)));
        }
    }
    s.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", roff(p.see_also)));
    buf.extend_from_slice(s.as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut buf)?;
    }
    Ok(buf)
}

fn run(out: &Path) -> std::io::Result<()> {
    let mut cmd = fibstat::cli::command();
    cmd.build();
    let man = out.join("man/man1");
    write(&man.join("fibstat.1"), &man_page(cmd.clone(), "fibstat")?)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("fibstat-{}", sub.get_name());
        let page = man_page(
            sub.clone()
                .name(name.clone())
                .bin_name(name.replace('-', " ")),
            &name,
        )?;
        write(&man.join(format!("{name}.1")), &page)?;
    }
    for (shell, path) in [
        (Shell::Bash, "bash-completion/completions/fibstat"),
        (Shell::Zsh, "zsh/site-functions/_fibstat"),
        (Shell::Fish, "fish/vendor_completions.d/fibstat.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "fibstat", &mut buf);
        write(&out.join(path), &buf)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args.out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fibstat-docs: cannot write to {}: {e}", args.out.display());
            ExitCode::from(2)
        }
    }
}
