//! `registre`: the one binary. Commands are in `commands/`; `setup` turns the global options
//! into a running [`registre_app::App`].

mod cli;
mod commands;
mod setup;

use clap::Parser;
use std::process::ExitCode;

/// Requests, ledger walks and the store allocate many small, short-lived values from several
/// threads at once, which mimalloc serves faster than the system allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    setup::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
