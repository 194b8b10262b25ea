//! Sets `cfg(sqlite_snapshot)` when the bundled SQLite that libsqlite3-sys
//! compiles has the snapshot API (`sqlite3_snapshot_get`, `_open`, `_free`,
//! see `src/snapshot.rs`).
//!
//! libsqlite3-sys has no cargo feature for `SQLITE_ENABLE_SNAPSHOT`: its
//! build script adds the `-D` flags listed in `LIBSQLITE3_FLAGS` to the
//! bundled build, which the workspace's `.cargo/config.toml` sets. A build
//! that does not see that file (`cargo install` of the package, or
//! `LIBSQLITE3_FLAGS` set to something else in the environment, which
//! `[env]` does not override) compiles SQLite without the API, and then
//! calling it would not link: so this script reads the variable exactly as
//! libsqlite3-sys does, and without the flag the crate is built without
//! the calls and reads a WAL source with one connection, as before.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sqlite_snapshot)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LIBSQLITE3_FLAGS");
    println!("cargo::rerun-if-env-changed=LIBSQLITE3_SYS_USE_PKG_CONFIG");
    // With this variable libsqlite3-sys links the system's SQLite instead
    // of compiling its own, whose options it cannot know.
    let system = env::var_os("LIBSQLITE3_SYS_USE_PKG_CONFIG").is_some_and(|v| v != "0");
    let flags = env::var("LIBSQLITE3_FLAGS").unwrap_or_default();
    if !system && snapshot_enabled(&flags) {
        println!("cargo::rustc-cfg=sqlite_snapshot");
    } else {
        println!(
            "cargo::warning=SQLite is built without SQLITE_ENABLE_SNAPSHOT (LIBSQLITE3_FLAGS = \
             {flags:?}; the workspace's .cargo/config.toml sets it): a SQLite source in WAL \
             mode is read with one connection"
        );
    }
}

/// Whether `flags`, read the way libsqlite3-sys reads `LIBSQLITE3_FLAGS`
/// (`-DNAME[=VALUE]`, `-UNAME` or a bare `SQLITE_NAME[=VALUE]`, the last one
/// for a name winning, as on a C compiler's command line), define
/// `SQLITE_ENABLE_SNAPSHOT`. SQLite tests it with `#ifdef`, so any value
/// counts.
fn snapshot_enabled(flags: &str) -> bool {
    const NAME: &str = "SQLITE_ENABLE_SNAPSHOT";
    let mut enabled = false;
    for flag in flags.split_whitespace() {
        let (define, rest) = if let Some(rest) = flag.strip_prefix("-D") {
            (true, rest)
        } else if let Some(rest) = flag.strip_prefix("-U") {
            (false, rest)
        } else {
            (true, flag)
        };
        let name = rest.split('=').next().unwrap_or(rest);
        if name == NAME {
            enabled = define;
        }
    }
    enabled
}
