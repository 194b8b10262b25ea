//! Opening a target session: the settings every session of a restore
//! runs with, and why (speed, function bodies that name tables not yet
//! created, parallel index builds that would compete with the plan's own),
//! and the one check a reconnecting session makes (a server restart with
//! unlogged tables stops the restore).

use std::sync::atomic::Ordering;
use std::sync::PoisonError;

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
    same_server_run(&conn, shared)?;
    Ok(conn)
}

/// Refuses to go on after the server restarted during this restore when
/// the database holds unlogged tables. A restart after a crash (or an
/// immediate stop) empties them, rows this restore committed included, and
/// a session reconnecting cannot tell a crash from a clean restart; so
/// every session stops before writing anything more, and `--resume` then
/// finds exactly the unlogged tables the server emptied
/// ([`bru_core::RestoreJournal::emptied`]) and loads them again. Without
/// unlogged tables a restart loses nothing committed, and the restore
/// rides it out. The server's start time tells a restart: the first
/// session records it.
fn same_server_run(conn: &Conn, shared: &Shared) -> bru_core::Result<()> {
    let context = "reconnecting after a server restart";
    let started: String = conn
        .query(
            "SELECT pg_catalog.pg_postmaster_start_time()::text",
            &[],
            context,
        )?
        .first()
        .and_then(|r| r.try_get(0).ok())
        .unwrap_or_default();
    let first = {
        let mut known = shared
            .server_started
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &*known {
            Some(known) if *known != started => false,
            Some(_) => return Ok(()),
            None => {
                *known = Some(started);
                true
            }
        }
    };
    if first {
        return Ok(());
    }
    let unlogged: Vec<String> = conn
        .query(
            "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relpersistence = 'u' AND c.relkind = 'r'
                AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
              ORDER BY 1",
            &[],
            context,
        )?
        .iter()
        .filter_map(|r| r.try_get(0).ok())
        .collect();
    if unlogged.is_empty() {
        return Ok(());
    }
    Err(bru_core::Error::engine(
        context,
        format!(
            "a restart may have emptied the unlogged tables {}; run the same restore \
             with --resume, which loads them again",
            unlogged.join(", ")
        ),
    ))
}

/// Turns off the server's parallel workers for index builds (see
/// [`open_session`]).
pub(super) fn no_parallel_index_builds(conn: &Conn) -> bru_core::Result<()> {
    conn.batch(
        "SET max_parallel_maintenance_workers = 0",
        "configuring the session",
    )
}
