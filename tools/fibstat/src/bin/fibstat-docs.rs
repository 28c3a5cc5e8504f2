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

fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

fn run(out: &Path) -> std::io::Result<()> {
    let mut cmd = fibstat::cli::command();
    cmd.build();
    let man = out.join("man/man1");
    write(&man.join("fibstat.1"), &man_page(cmd.clone())?)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("fibstat-{}", sub.get_name());
        let page = man_page(
            sub.clone()
                .name(name.clone())
                .bin_name(name.replace('-', " ")),
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
