//! `isenet`: flags, files and exit codes. Every decision about the ISE lives in `ise-model` and
//! `rules-compiler`; this crate wires them to the command line.

mod args;
mod commands;
mod input;
mod outdir;
mod output;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes are a contract with users' pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Findings = 1,
    BadInput = 2,
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let exit = commands::run(&cli);
    ExitCode::from(exit as u8)
}
