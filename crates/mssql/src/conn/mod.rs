//! Connections: `mssql://` URLs ([`settings`]), TLS with rustls, the
//! one-line errors of a failed connection ([`errors`]), and a blocking
//! wrapper around tiberius.
//!
//! bru's traits are synchronous and tiberius is async. Each [`Conn`] owns a
//! single-threaded tokio runtime and blocks on it for each call, as the
//! PostgreSQL engine does: no thread per connection, nothing running in
//! the background between calls. tiberius runs on any `AsyncRead +
//! AsyncWrite`; a tokio `TcpStream` through tokio-util's compat layer is
//! that stream.

use std::future::Future;

use bru_core::{Error, ErrorKind};
use tiberius::{Client, Row, ToSql};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

pub mod errors;
pub mod settings;

pub use settings::{redact, Settings};

/// The tiberius client type of a [`Conn`].
pub type TdsClient = Client<Compat<TcpStream>>;

/// One open connection and the runtime that drives it.
pub struct Conn {
    pub(crate) rt: Runtime,
    pub client: TdsClient,
    pub settings: Settings,
}

impl Conn {
    /// Connects to `url` (see [`settings`]).
    pub fn open(url: &str) -> Result<Conn, Error> {
        Conn::connect(Settings::from_url(url)?)
    }

    /// Connects with `settings`. Fails with [`Error::Connect`] (one line,
    /// no password) when the server cannot be reached or refuses the login.
    pub fn connect(settings: Settings) -> Result<Conn, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::connect(
                    ErrorKind::Other,
                    settings.endpoint.clone(),
                    format!("cannot start the I/O runtime: {e}"),
                )
            })?;
        let client = rt.block_on(login(&settings, settings.config(), true))?;
        Ok(Conn {
            rt,
            client,
            settings,
        })
    }

    /// Opens another connection with the same settings.
    pub fn reopen(&self) -> Result<Conn, Error> {
        Conn::connect(self.settings.clone())
    }

    /// Runs `f` to completion on this connection's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Runs a batch of statements that return no rows (or whose rows are
    /// not wanted). `context` says what bru was doing, for the error.
    pub fn batch(&mut self, context: &str, sql: &str) -> Result<(), Error> {
        let Conn {
            rt,
            client,
            settings,
        } = self;
        rt.block_on(async {
            client.simple_query(sql).await?.into_results().await?;
            Ok::<_, tiberius::error::Error>(())
        })
        .map_err(|e| engine_error(settings, context, &e))
    }

    /// Runs one parameterized statement, returning the rows affected.
    pub fn execute(
        &mut self,
        context: &str,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<u64, Error> {
        let Conn {
            rt,
            client,
            settings,
        } = self;
        rt.block_on(async { client.execute(sql, params).await })
            .map(|r| r.total())
            .map_err(|e| engine_error(settings, context, &e))
    }

    /// The rows of the first result set of a parameterized query.
    pub fn query(
        &mut self,
        context: &str,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<Vec<Row>, Error> {
        let Conn {
            rt,
            client,
            settings,
        } = self;
        rt.block_on(async { client.query(sql, params).await?.into_first_result().await })
            .map_err(|e| engine_error(settings, context, &e))
    }
}

impl Conn {
    /// Bulk-loads `rows` into `table` (quoted) with `INSERT BULK`, in the
    /// session's open transaction if there is one; returns the rows the
    /// server took. On an error the connection may be in the middle of the
    /// load and must not be used again.
    pub fn bulk_insert(
        &mut self,
        context: &str,
        table: &str,
        rows: Vec<tiberius::TokenRow<'static>>,
    ) -> Result<u64, Error> {
        let Conn {
            rt,
            client,
            settings,
        } = self;
        rt.block_on(async {
            let mut load = client.bulk_insert(table).await?;
            for row in rows {
                load.send(row).await?;
            }
            Ok::<_, tiberius::error::Error>(load.finalize().await?.total())
        })
        .map_err(|e| engine_error(settings, context, &e))
    }
}

/// A driver error while `context`, as bru's.
pub fn engine_error(settings: &Settings, context: &str, e: &tiberius::error::Error) -> Error {
    Error::engine_kind(
        errors::kind_of(e),
        context,
        settings.scrub(&errors::describe(e)),
    )
}

/// Connects and logs in, following one routing redirect (Azure SQL's
/// gateway sends the client on to the database's own node).
async fn login(
    settings: &Settings,
    mut config: tiberius::Config,
    may_route: bool,
) -> Result<TdsClient, Error> {
    let tcp = TcpStream::connect(config.get_addr())
        .await
        .map_err(|e| errors::unreachable(settings, &e))?;
    let _ = tcp.set_nodelay(true);
    match Client::connect(config.clone(), tcp.compat_write()).await {
        Ok(client) => Ok(client),
        Err(tiberius::error::Error::Routing { host, port }) if may_route => {
            config.host(&host);
            config.port(port);
            Box::pin(login(settings, config, false)).await
        }
        Err(e) => Err(errors::login(settings, &e)),
    }
}

/// `name` as a bracketed T-SQL identifier (`]` doubled).
pub fn quote_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `schema.name` as bracketed identifiers; a name without a schema is
/// qualified by `dbo`.
pub fn quote_table(name: &bru_core::TableName) -> String {
    format!(
        "{}.{}",
        quote_ident(name.schema.as_deref().unwrap_or("dbo")),
        quote_ident(&name.name)
    )
}

/// `s` as a T-SQL Unicode string literal (`N'…'`, `'` doubled).
pub fn quote_str(s: &str) -> String {
    format!("N'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a]b"), "[a]]b]");
        assert_eq!(
            quote_table(&bru_core::TableName::new(Some("s p"), "t")),
            "[s p].[t]"
        );
        assert_eq!(quote_table(&bru_core::TableName::bare("t")), "[dbo].[t]");
        assert_eq!(quote_str("it's"), "N'it''s'");
    }
}
