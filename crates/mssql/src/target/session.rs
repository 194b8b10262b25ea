//! One target session: a tiberius client on its own single-threaded tokio
//! runtime (the bru traits are synchronous), the few ways the target talks
//! to it (a batch, a parameterized statement, a query), and the mapping of
//! server errors to [`ErrorKind`]s by their error number, never by their
//! text.
//!
//! The client sits in a `RefCell` so that the session can be lent to the
//! restore journal ([`bru_core::SqlSession`] takes `&self`) while the
//! target keeps it. Every call into tiberius runs under
//! `catch_unwind`: a panic in the driver becomes an error naming what bru
//! was doing, never a crash.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use bru_core::{Error, ErrorKind};
use tiberius::{ColumnData, Query, Row};

use crate::target::values::Param;

/// A connection to the target database.
pub(crate) struct Session {
    rt: tokio::runtime::Runtime,
    client: RefCell<Client>,
    /// The URL it was opened with, for [`Session::reopen`] (never shown).
    url: String,
    /// The server is Babelfish for PostgreSQL (`@@VERSION` says so).
    pub(crate) babelfish: bool,
}

impl Session {
    /// Opens a session on `url`.
    pub(crate) fn open(url: &str) -> bru_core::Result<Session> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::engine("starting the SQL Server client", e))?;
        let client = connect(&rt, url)?;
        let mut session = Session {
            rt,
            client: RefCell::new(client),
            url: url.to_owned(),
            babelfish: false,
        };
        let version = session.texts("SELECT @@VERSION", "reading the server's version")?;
        session.babelfish = version.iter().any(|v| v.contains("Babelfish"));
        // Each chunk is its own transaction; a failed statement must not
        // leave half a chunk (XACT_ABORT rolls the whole transaction back).
        session.batch(
            "SET XACT_ABORT ON; SET NOCOUNT ON; SET QUOTED_IDENTIFIER ON; SET ANSI_NULLS ON",
            "configuring the session",
        )?;
        Ok(session)
    }

    /// Another session on the same database.
    pub(crate) fn reopen(&self) -> bru_core::Result<Session> {
        Session::open(&self.url)
    }

    /// The client, for one call.
    fn client(&self, context: &str) -> bru_core::Result<std::cell::RefMut<'_, Client>> {
        self.client.try_borrow_mut().map_err(|_| {
            Error::engine(context, "the SQL Server session is busy with another statement")
        })
    }

    /// Runs a batch of statements without parameters, results discarded.
    pub(crate) fn batch(&self, sql: &str, context: &str) -> bru_core::Result<()> {
        let mut c = self.client(context)?;
        let r = catch_unwind(AssertUnwindSafe(|| {
            self.rt.block_on(async {
                c.simple_query(sql).await?.into_results().await?;
                Ok(())
            })
        }));
        outcome(context, r)
    }

    /// Runs one statement with `params` (`@P1`, `@P2`, …), returning the
    /// rows it affected.
    pub(crate) fn execute(
        &self,
        sql: &str,
        params: Vec<Param>,
        context: &str,
    ) -> bru_core::Result<u64> {
        let mut c = self.client(context)?;
        let r = catch_unwind(AssertUnwindSafe(|| {
            self.rt.block_on(async {
                let mut q = Query::new(sql);
                for p in params {
                    q.bind(p);
                }
                Ok(q.execute(&mut *c).await?.total())
            })
        }));
        outcome(context, r)
    }

    /// The rows of a query with `params`.
    pub(crate) fn rows(
        &self,
        sql: &str,
        params: Vec<Param>,
        context: &str,
    ) -> bru_core::Result<Vec<Row>> {
        let mut c = self.client(context)?;
        let r = catch_unwind(AssertUnwindSafe(|| {
            self.rt.block_on(async {
                let mut q = Query::new(sql);
                for p in params {
                    q.bind(p);
                }
                q.query(&mut *c).await?.into_first_result().await
            })
        }));
        outcome(context, r)
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

/// The client type of a session.
pub(crate) type Client = tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>>;

/// Connects to `url`. (Until the connection module lands: user, password,
/// host, port and database from the URL, `encrypt=off` or TLS trusting the
/// certificate.)
fn connect(rt: &tokio::runtime::Runtime, url: &str) -> bru_core::Result<Client> {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let what = crate::conn::redact(url);
    let bad = |m: &str| Error::connect(ErrorKind::Other, &what, m);
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| bad("not a mssql:// URL"))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (auth, hostpart) = rest.rsplit_once('@').ok_or_else(|| bad("no user in the URL"))?;
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let (hostport, db) = hostpart.split_once('/').unwrap_or((hostpart, ""));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "1433"));
    let mut config = tiberius::Config::new();
    config.host(host);
    config.port(port.parse().map_err(|_| bad("the port is not a number"))?);
    config.authentication(tiberius::AuthMethod::sql_server(user, password));
    if !db.is_empty() {
        config.database(db);
    }
    if query.contains("encrypt=off") {
        config.encryption(tiberius::EncryptionLevel::NotSupported);
    } else {
        config.trust_cert();
    }
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(config.get_addr())
            .await
            .map_err(|e| Error::connect(ErrorKind::Transient, &what, e))?;
        tcp.set_nodelay(true).ok();
        tiberius::Client::connect(config, tcp.compat_write())
            .await
            .map_err(|e| Error::connect(ErrorKind::Other, &what, e))
    })
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

/// The server's error numbers bru tells apart.
pub(crate) mod code {
    /// There is already an object named … in the database.
    pub(crate) const OBJECT_EXISTS: u32 = 2714;
    /// An index with that name already exists on the table.
    pub(crate) const INDEX_EXISTS: u32 = 1913;
    /// The table already has a primary key.
    pub(crate) const PK_EXISTS: u32 = 1779;
    pub(crate) const UNIQUE_KEY: u32 = 2627;
    pub(crate) const UNIQUE_INDEX: u32 = 2601;
    /// Invalid object name.
    pub(crate) const NO_OBJECT: u32 = 208;
    /// Cannot drop the object: it does not exist.
    pub(crate) const CANNOT_DROP: u32 = 3701;
    pub(crate) const DEADLOCK: u32 = 1205;
    pub(crate) const LOCK_TIMEOUT: u32 = 1222;
}

/// A tiberius error as a bru error of `context`, its kind from the
/// server's error number.
pub(crate) fn server_error(context: &str, e: &tiberius::error::Error) -> Error {
    use tiberius::error::Error as T;
    let kind = match e {
        T::Server(t) => match t.code() {
            code::OBJECT_EXISTS | code::INDEX_EXISTS | code::PK_EXISTS => ErrorKind::AlreadyExists,
            code::UNIQUE_KEY | code::UNIQUE_INDEX => ErrorKind::UniqueViolation,
            code::NO_OBJECT | code::CANNOT_DROP => ErrorKind::UndefinedObject,
            code::DEADLOCK | code::LOCK_TIMEOUT => ErrorKind::Transient,
            _ => ErrorKind::Other,
        },
        T::Io { .. } => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    let message = match e {
        T::Server(t) => format!("{} (SQL Server error {})", t.message(), t.code()),
        other => other.to_string(),
    };
    Error::engine_kind(kind, context, message)
}

/// A driver call's result as a bru result: a server error with its kind,
/// a driver panic as an error of `context`.
fn outcome<T>(context: &str, r: std::thread::Result<tiberius::Result<T>>) -> bru_core::Result<T> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(server_error(context, &e)),
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
