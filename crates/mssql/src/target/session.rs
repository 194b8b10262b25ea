//! One target session: a tiberius client on its own single-threaded tokio
//! runtime (the bru traits are synchronous), the few ways the target talks
//! to it (a batch, a parameterized statement, a query). Server errors get
//! their [`bru_core::ErrorKind`] from their error number in
//! [`crate::conn::errors`], never from their text.
//!
//! The client sits in a `RefCell` so that the session can be lent to the
//! restore journal ([`bru_core::SqlSession`] takes `&self`) while the
//! target keeps it. Every call into tiberius runs under
//! `catch_unwind`: a panic in the driver becomes an error naming what bru
//! was doing, never a crash.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

use bru_core::Error;
use tiberius::{ColumnData, Row, ToSql, TokenRow};

use crate::conn::Conn;

use crate::target::values::Param;

/// A connection to the target database.
pub(crate) struct Session {
    conn: RefCell<Conn>,
    /// The server is Babelfish for PostgreSQL (`@@VERSION` says so).
    pub(crate) babelfish: bool,
    /// A bulk load failed part way: the connection may be in the middle
    /// of it, so nothing more is sent on it (the server rolls the open
    /// transaction back when it closes).
    broken: Cell<bool>,
}

impl Session {
    /// Opens a session on `url`.
    pub(crate) fn open(url: &str) -> bru_core::Result<Session> {
        Session::configure(Conn::open(url)?)
    }

    fn configure(conn: Conn) -> bru_core::Result<Session> {
        let mut session = Session {
            conn: RefCell::new(conn),
            babelfish: false,
            broken: Cell::new(false),
        };
        let version = session.texts("SELECT @@VERSION", "reading the server's version")?;
        session.babelfish = version.iter().any(|v| v.contains("Babelfish"));
        // A failed statement rolls its whole transaction back (a chunk is
        // all there or not at all).
        session.batch(
            "SET XACT_ABORT ON; SET NOCOUNT ON; SET QUOTED_IDENTIFIER ON; SET ANSI_NULLS ON",
            "configuring the session",
        )?;
        Ok(session)
    }

    /// Another session on the same database.
    pub(crate) fn reopen(&self) -> bru_core::Result<Session> {
        let conn = self.conn("opening another session")?.reopen()?;
        Session::configure(conn)
    }

    /// The client, for one call.
    fn conn(&self, context: &str) -> bru_core::Result<std::cell::RefMut<'_, Conn>> {
        if self.broken.get() {
            return Err(Error::engine(
                context,
                "the SQL Server session was left unusable by a failed bulk load; \
                 run the restore again with --resume",
            ));
        }
        self.conn.try_borrow_mut().map_err(|_| {
            Error::engine(
                context,
                "the SQL Server session is busy with another statement",
            )
        })
    }

    /// Runs a batch of statements without parameters, results discarded.
    pub(crate) fn batch(&self, sql: &str, context: &str) -> bru_core::Result<()> {
        let mut c = self.conn(context)?;
        outcome(
            context,
            catch_unwind(AssertUnwindSafe(|| c.batch(context, sql))),
        )
    }

    /// Runs one statement with `params` (`@P1`, `@P2`, …), returning the
    /// rows it affected.
    pub(crate) fn execute(
        &self,
        sql: &str,
        params: Vec<Param>,
        context: &str,
    ) -> bru_core::Result<u64> {
        let mut c = self.conn(context)?;
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
        outcome(
            context,
            catch_unwind(AssertUnwindSafe(|| c.execute(context, sql, &refs))),
        )
    }

    /// Bulk-loads `rows` into `table` (quoted), returning the rows the
    /// server took. A failure leaves the session refusing every further
    /// statement (see [`Session::broken`](Session)).
    pub(crate) fn bulk(
        &self,
        table: &str,
        rows: Vec<TokenRow<'static>>,
        context: &str,
    ) -> bru_core::Result<u64> {
        let mut c = self.conn(context)?;
        let r = outcome(
            context,
            catch_unwind(AssertUnwindSafe(|| c.bulk_insert(context, table, rows))),
        );
        if r.is_err() {
            self.broken.set(true);
        }
        r
    }

    /// The rows of a query with `params`.
    pub(crate) fn rows(
        &self,
        sql: &str,
        params: Vec<Param>,
        context: &str,
    ) -> bru_core::Result<Vec<Row>> {
        let mut c = self.conn(context)?;
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
        outcome(
            context,
            catch_unwind(AssertUnwindSafe(|| c.query(context, sql, &refs))),
        )
    }

    /// The first column of every row of `sql`, as text.
    pub(crate) fn texts(&self, sql: &str, context: &str) -> bru_core::Result<Vec<String>> {
        Ok(self
            .rows(sql, Vec::new(), context)?
            .into_iter()
            .filter_map(|r| r.into_iter().next().and_then(cell_text))
            .collect())
    }
}

/// A string parameter.
pub(crate) fn text_param(s: &str) -> Param {
    Param(ColumnData::String(Some(s.to_owned().into())))
}

/// A cell as text (strings, integers, bits), `None` for NULL or another
/// type.
pub(crate) fn cell_text(c: ColumnData<'static>) -> Option<String> {
    match c {
        ColumnData::String(s) => s.map(|s| s.into_owned()),
        ColumnData::U8(v) => v.map(|v| v.to_string()),
        ColumnData::I16(v) => v.map(|v| v.to_string()),
        ColumnData::I32(v) => v.map(|v| v.to_string()),
        ColumnData::I64(v) => v.map(|v| v.to_string()),
        ColumnData::Bit(v) => v.map(|v| (if v { "1" } else { "0" }).to_owned()),
        ColumnData::Numeric(v) => v.map(|v| v.to_string()),
        _ => None,
    }
}

/// A cell as an integer.
pub(crate) fn cell_int(c: ColumnData<'static>) -> Option<i64> {
    match c {
        ColumnData::U8(v) => v.map(i64::from),
        ColumnData::I16(v) => v.map(i64::from),
        ColumnData::I32(v) => v.map(i64::from),
        ColumnData::I64(v) => v,
        ColumnData::Bit(v) => v.map(i64::from),
        ColumnData::Numeric(v) => v.and_then(|n| n.to_string().split('.').next()?.parse().ok()),
        ColumnData::String(s) => s.and_then(|s| s.trim().parse().ok()),
        _ => None,
    }
}

/// A driver call's result as a bru result: a server error with its kind,
/// a driver panic as an error of `context`.
fn outcome<T>(context: &str, r: std::thread::Result<bru_core::Result<T>>) -> bru_core::Result<T> {
    match r {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(Error::engine(
                context,
                format!(
                    "the SQL Server driver failed ({what}); run the restore again with --resume"
                ),
            ))
        }
    }
}
