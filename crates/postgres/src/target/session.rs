//! Opening a target session: the settings every session of a restore
//! runs with, and why (speed, function bodies that name tables not yet
//! created, parallel index builds that would compete with the plan's own).

use std::sync::atomic::Ordering;

use crate::conn::{Conn, Settings};

use super::Shared;

/// Opens a target session: function bodies may name tables that do not
/// exist yet, and notices are not wanted.
///
/// Two settings are for speed. `synchronous_commit = off`: a restore
/// commits once per chunk, and waiting for each WAL flush is pointless
/// because the journal entry commits with the chunk's rows, so a server
/// crash loses both together and `--resume` reloads them. And index builds
/// get at least 256 MB of `maintenance_work_mem` (never less than the
/// server's own setting), so a big table's keys sort in memory.
///
/// With more than one session (`shared.several_sessions`), index builds get
/// no parallel workers (`max_parallel_maintenance_workers = 0`): the plan
/// already builds a table's indexes side by side, one per session, and
/// the server's workers would only compete with them and with the loads.
/// Measured on 2 cores (migration benchmark restore, 4 runs each): 3.10 s
/// with the server's default of 2 workers, 2.80 s without.
pub(super) fn open_session(settings: Settings, shared: &Shared) -> bru_core::Result<Conn> {
    let conn = Conn::open(settings)?;
    conn.batch(
        "SET check_function_bodies = false; SET client_min_messages = warning; \
         SET synchronous_commit = off; \
         SELECT pg_catalog.set_config('maintenance_work_mem', '262144', false) \
           FROM pg_catalog.pg_settings \
          WHERE name = 'maintenance_work_mem' AND setting::bigint < 262144",
        "configuring the session",
    )?;
    if shared.several_sessions.load(Ordering::Relaxed) {
        no_parallel_index_builds(&conn)?;
    }
    Ok(conn)
}

/// Turns off the server's parallel workers for index builds (see
/// [`open_session`]).
pub(super) fn no_parallel_index_builds(conn: &Conn) -> bru_core::Result<()> {
    conn.batch(
        "SET max_parallel_maintenance_workers = 0",
        "configuring the session",
    )
}
