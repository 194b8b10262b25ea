//! `bru completions SHELL` and `bru man [COMMAND]`: shell completion
//! scripts (clap_complete) and roff man pages (clap_mangen), generated from
//! the same argument definitions as the parser, so they cannot drift from
//! what bru takes.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::args::Cli;

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "bru", &mut std::io::stdout());
}

/// Prints the man page bru(1), or bru-COMMAND(1) for `command`, on stdout.
/// Fails naming a command bru does not have.
pub fn man(command: Option<&str>) -> Result<()> {
    let cli = Cli::command();
    let page = match command {
        None => cli,
        Some(name) => {
            let names: Vec<String> = cli
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            let sub = cli.find_subcommand(name).cloned().with_context(|| {
                format!(
                    "bru has no command {name:?}; the man pages are bru and bru-COMMAND for {}",
                    names.join(", ")
                )
            })?;
            // The page's name, bru-COMMAND; clap takes a 'static name, and
            // this process prints one page and ends.
            let full: &'static str = Box::leak(format!("bru-{}", sub.get_name()).into_boxed_str());
            sub.name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    std::io::stdout().write_all(&out)?;
    Ok(())
}
