//! fibstat: the companion CLI of the fib_stat kernel module (see `cli`).

fn main() {
    std::process::exit(fibstat::cli::main());
}
