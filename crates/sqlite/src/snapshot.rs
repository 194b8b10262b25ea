//! SQLite's WAL snapshot handles (`sqlite3_snapshot_get`, `_open`, `_free`)
//! behind one safe type, [`Snapshot`], which owns the handle and frees it
//! when dropped. rusqlite does not wrap these functions, so they are called
//! through [`rusqlite::Connection::handle`] and libsqlite3-sys; they exist only in a
//! SQLite compiled with `SQLITE_ENABLE_SNAPSHOT` (`cfg(sqlite_snapshot)`,
//! see the crate's `build.rs`). Without it [`Snapshot::get`] answers
//! [`Got::Unsupported`] and no `Snapshot` can exist.
//!
//! The source module says when these are called and why that keeps every
//! reader on one snapshot.

/// What [`Snapshot::get`] found.
pub(crate) enum Got {
    /// The snapshot of the connection's read transaction.
    #[cfg_attr(not(sqlite_snapshot), allow(dead_code))] // Made only with it.
    Snapshot(Snapshot),
    /// SQLite answered `SQLITE_ERROR`: the connection is not in WAL mode,
    /// or it is and no transaction was ever written to the current WAL
    /// file (SQLite's fourth condition for `sqlite3_snapshot_get`: "One or
    /// more transactions must have been written to the current wal file
    /// since it was created on disk"), which is all that is left when the
    /// caller has met the other three.
    #[cfg_attr(not(sqlite_snapshot), allow(dead_code))]
    NoWalTransaction,
    /// This build's SQLite has no snapshot API.
    #[cfg_attr(sqlite_snapshot, allow(dead_code))] // Made only without it.
    Unsupported,
}

#[cfg(sqlite_snapshot)]
pub(crate) use api::Snapshot;

#[cfg(sqlite_snapshot)]
mod api {
    use std::ptr::NonNull;

    use libsqlite3_sys as ffi;
    use rusqlite::{Connection, MAIN_DB};

    use super::Got;

    /// A snapshot of the main database of a WAL-mode connection: a heap
    /// copy SQLite made of the WAL index header that the connection's read
    /// transaction uses (its `sqlite3_snapshot`, an opaque 48-byte block).
    /// It identifies a state of the database; whether another connection
    /// can still open that state is checked by SQLite at
    /// [`Snapshot::open`]. Owned: freed exactly once, when dropped.
    pub(crate) struct Snapshot {
        ptr: NonNull<ffi::sqlite3_snapshot>,
    }

    // SAFETY: the block belongs to no connection and no thread. SQLite
    // allocates it with `sqlite3_malloc` in `sqlite3_snapshot_get` and keeps
    // no pointer to it (it copies into it and returns), frees it only in
    // `sqlite3_snapshot_free`, which is `sqlite3_free` and thread-safe in
    // this build (`SQLITE_THREADSAFE=1`, the memory allocator's own mutex),
    // and only reads it otherwise (`sqlite3_snapshot_open` compares and
    // copies the header out of it, see `open` below). So moving the owner
    // to another thread (Send) and letting several threads open it at once
    // (Sync, through a shared reference: all of them only read) races with
    // nothing.
    unsafe impl Send for Snapshot {}
    // SAFETY: see the `Send` impl just above.
    unsafe impl Sync for Snapshot {}

    impl Snapshot {
        /// The snapshot of `conn`'s read transaction on its main database.
        /// `conn` must be inside `BEGIN` without having read yet (so that
        /// SQLite opens the read transaction here, the only way it
        /// promises that no writer or checkpointer can invalidate the
        /// snapshot until that transaction ends), and must have read
        /// before, outside it (so it knows the file is in WAL mode:
        /// otherwise SQLite opens the transaction without that promise).
        /// Fails with SQLite's error (`SQLITE_BUSY` after the busy timeout,
        /// for instance).
        pub(crate) fn get(conn: &Connection) -> rusqlite::Result<Got> {
            let mut ptr: *mut ffi::sqlite3_snapshot = std::ptr::null_mut();
            // SAFETY: `conn.handle()` is the live `sqlite3*` that `conn`
            // owns: it stays open for as long as the borrow of `conn`, so
            // for the whole call. `Connection` is not `Sync`, so with that
            // borrow no other thread uses the handle during the call
            // (which a connection opened with SQLITE_OPEN_NO_MUTEX, as the
            // source's are, relies on), and no rusqlite call on it is half
            // done on this thread either (none calls back into here). The
            // call does not close the handle or touch its statements, so
            // rusqlite's own state of it stays valid (what `handle`'s
            // contract asks). `MAIN_DB` is a NUL-terminated
            // `&'static CStr`. `&mut ptr` is a valid out-pointer, written
            // by SQLite only; it is read below only when the call returned
            // SQLITE_OK, the one case where SQLite defines it.
            let rc =
                unsafe { ffi::sqlite3_snapshot_get(conn.handle(), MAIN_DB.as_ptr(), &mut ptr) };
            match rc {
                ffi::SQLITE_OK => match NonNull::new(ptr) {
                    Some(ptr) => Ok(Got::Snapshot(Snapshot { ptr })),
                    None => Err(failure(ffi::SQLITE_NOMEM)),
                },
                ffi::SQLITE_ERROR => Ok(Got::NoWalTransaction),
                rc => Err(failure(rc)),
            }
        }

        /// Makes `conn`'s next read transaction on its main database read
        /// this snapshot, and starts it. `conn` must be inside `BEGIN`
        /// without a read transaction, and must have read before, outside
        /// it (like [`Snapshot::get`]). `Ok(false)` when SQLite refuses:
        /// `SQLITE_ERROR_SNAPSHOT` (a checkpoint has overwritten the
        /// snapshot, or the WAL was restarted since, so the state it names
        /// is gone), `SQLITE_ERROR` (`conn` cannot open a snapshot here,
        /// e.g. it does not know its file is in WAL mode) or `SQLITE_BUSY`
        /// (a checkpointer held its lock for longer than the busy timeout);
        /// `conn` then has no read transaction. Other errors are SQLite's.
        pub(crate) fn open(&self, conn: &Connection) -> rusqlite::Result<bool> {
            // SAFETY: the handle as in `get` above: live for the borrow of
            // `conn`, used by this thread only, not closed, its statements
            // untouched. `self.ptr` came from a successful
            // `sqlite3_snapshot_get` and is freed only by `drop`, which
            // cannot run while `&self` is borrowed: so it points to the
            // live 48-byte snapshot. SQLite only reads it, and keeps no
            // pointer to it past the call: `sqlite3_snapshot_open` hands it
            // to the pager, starts the read transaction (which copies the
            // header out of it) and resets the pager's pointer to null
            // before returning, on every path. The `*mut` is only what the
            // C prototype says.
            let rc = unsafe {
                ffi::sqlite3_snapshot_open(conn.handle(), MAIN_DB.as_ptr(), self.ptr.as_ptr())
            };
            match rc {
                ffi::SQLITE_OK => Ok(true),
                ffi::SQLITE_ERROR_SNAPSHOT | ffi::SQLITE_ERROR => Ok(false),
                rc if rc & 0xff == ffi::SQLITE_BUSY => Ok(false),
                rc => Err(failure(rc)),
            }
        }
    }

    impl Drop for Snapshot {
        fn drop(&mut self) {
            // SAFETY: `self.ptr` came from a successful
            // `sqlite3_snapshot_get`, the one allocation
            // `sqlite3_snapshot_free` takes. It is freed exactly once: only
            // here, `Snapshot` is neither `Clone` nor `Copy` and gives the
            // pointer to no one, and `drop` runs once. Nothing uses it
            // after: SQLite keeps no copy of the pointer (see `open`), and
            // every other use is through `&self`, which has ended.
            unsafe { ffi::sqlite3_snapshot_free(self.ptr.as_ptr()) }
        }
    }

    /// A SQLite result code as rusqlite's error.
    fn failure(rc: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None)
    }
}

/// Without the snapshot API: the same interface, and no snapshot can
/// exist.
#[cfg(not(sqlite_snapshot))]
pub(crate) struct Snapshot {
    never: std::convert::Infallible,
}

#[cfg(not(sqlite_snapshot))]
impl Snapshot {
    pub(crate) fn get(_conn: &rusqlite::Connection) -> rusqlite::Result<Got> {
        Ok(Got::Unsupported)
    }

    pub(crate) fn open(&self, _conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
        match self.never {}
    }
}

#[cfg(all(test, sqlite_snapshot))]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn wal_db(dir: &std::path::Path) -> (std::path::PathBuf, Connection) {
        let path = dir.join("snap.sqlite");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE t (x INTEGER);
                 INSERT INTO t VALUES (1), (2), (3);",
            )
            .unwrap();
        (path, writer)
    }

    /// Opened and read once outside a transaction, then inside `BEGIN`.
    fn reader(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0))
            .unwrap();
        conn.execute_batch("BEGIN").unwrap();
        conn
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn another_connection_opens_the_snapshot_and_sees_its_state() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_db(dir.path());
        let first = reader(&path);
        let Got::Snapshot(snapshot) = Snapshot::get(&first).unwrap() else {
            panic!("a snapshot of a WAL with transactions");
        };
        writer.execute_batch("DELETE FROM t WHERE x = 1").unwrap();
        let second = reader(&path);
        assert!(snapshot.open(&second).unwrap());
        assert_eq!(count(&second), 3);
        assert_eq!(count(&first), 3);
        // Opened from another thread too, while the first one reads.
        std::thread::scope(|s| {
            s.spawn(|| {
                let third = reader(&path);
                assert!(snapshot.open(&third).unwrap());
                assert_eq!(count(&third), 3);
            });
        });
        assert_eq!(count(&Connection::open(&path).unwrap()), 2);
    }

    #[test]
    fn a_snapshot_a_checkpoint_overwrote_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_db(dir.path());
        let first = reader(&path);
        let Got::Snapshot(snapshot) = Snapshot::get(&first).unwrap() else {
            panic!("a snapshot of a WAL with transactions");
        };
        // Once no transaction holds it, a write and a full checkpoint move
        // the database past the snapshot.
        first.execute_batch("COMMIT").unwrap();
        writer
            .execute_batch("DELETE FROM t; PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        writer.execute_batch("INSERT INTO t VALUES (9)").unwrap();
        let second = reader(&path);
        assert!(!snapshot.open(&second).unwrap());
        // The connection has no read transaction on any other state: its
        // next read starts one on the newest.
        assert!(matches!(
            second.transaction_state(Some(rusqlite::MAIN_DB)).unwrap(),
            rusqlite::TransactionState::None
        ));
        assert_eq!(count(&second), 1);
    }

    #[test]
    fn no_snapshot_of_a_wal_without_transactions_or_of_a_rollback_journal() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = wal_db(dir.path());
        // The last connection to close checkpoints and deletes the WAL.
        drop(writer);
        assert!(!path.with_extension("sqlite-wal").exists());
        let conn = reader(&path);
        assert!(matches!(
            Snapshot::get(&conn).unwrap(),
            Got::NoWalTransaction
        ));
        // SQLite opened the read transaction all the same.
        assert!(matches!(
            conn.transaction_state(Some(rusqlite::MAIN_DB)).unwrap(),
            rusqlite::TransactionState::Read
        ));
        drop(conn);
        let rollback = dir.path().join("rollback.sqlite");
        Connection::open(&rollback)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        assert!(matches!(
            Snapshot::get(&reader(&rollback)).unwrap(),
            Got::NoWalTransaction
        ));
    }
}
