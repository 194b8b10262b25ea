//! Connections: libpq-compatible settings, TLS, and a blocking wrapper.
//!
//! bru's traits are synchronous, while tokio-postgres is async. Each
//! [`Conn`] owns a single-threaded tokio runtime that drives its connection
//! task whenever a call blocks on it, so no thread is spawned per connection
//! and nothing runs in the background between calls.
//!
//! The pieces depend one way: [`settings`] resolves what to connect to
//! (reading the password file through [`pgpass`], which knows nothing of
//! connections), [`errors`] turns driver errors into bru's, and this module
//! opens and drives the connection with both. [`defaults`] holds libpq's
//! socket directories, shared by the settings and the password file;
//! [`spelling`] finds the passwords in a URL or `key=value` string, for
//! the settings and the engine's [`bru_core::Engine::redact`].

use std::future::Future;

use bru_core::{Error, ErrorKind};
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use crate::tls;

mod defaults;
mod errors;
mod pgpass;
mod settings;
mod spelling;

pub(crate) use errors::describe;
use errors::kind_of;
pub(crate) use settings::Settings;
pub(crate) use spelling::{is_conninfo, redact};

/// One open connection and the runtime that drives it.
pub(crate) struct Conn {
    rt: Runtime,
    pub client: Client,
    pub settings: Settings,
}

impl Conn {
    /// Connects with `settings`. Fails with [`Error::Connect`] (one line, no
    /// password) if the server cannot be reached or refuses the login.
    pub fn open(settings: Settings) -> Result<Conn, Error> {
        let connect_err = |kind: ErrorKind, message: String| Error::Connect {
            what: settings.endpoint.clone(),
            message,
            kind,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                connect_err(
                    ErrorKind::Other,
                    format!("cannot start the I/O runtime: {e}"),
                )
            })?;
        let tls =
            tls::connector().map_err(|e| connect_err(ErrorKind::Other, settings.redact(&e)))?;
        let (client, connection) = rt.block_on(settings.config.connect(tls)).map_err(|e| {
            let has_password = settings.config.get_password().is_some();
            let mut message = settings.redact(&describe(&e));
            message.push_str(connect_hint(&e, has_password));
            let kind = if asks_for_password(&e, has_password) {
                ErrorKind::PasswordRequired
            } else {
                kind_of(&e)
            };
            connect_err(kind, message)
        })?;
        // The connection task runs whenever a call below blocks on the
        // runtime; its errors reach the caller through the client.
        rt.spawn(async move {
            let _ = connection.await;
        });
        let conn = Conn {
            rt,
            client,
            settings,
        };
        // Canonical text forms for values bru moves as text (arrays, enums,
        // ranges...), identical on the source and the target whatever the
        // server's defaults are; and fully qualified names in every
        // catalog function's output.
        conn.batch(
            "SET search_path = ''; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; \
             SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET bytea_output = 'hex'; \
             SET lc_monetary = 'C'; SET client_encoding = 'UTF8'; \
             SET standard_conforming_strings = on",
            "configuring the session",
        )?;
        Ok(conn)
    }

    /// Runs `f` to completion on this connection's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Turns a driver error into [`Error::Engine`] with `context` and the
    /// kind its SQLSTATE or I/O error gives ([`kind_of`]).
    pub fn err(&self, context: &str, e: &tokio_postgres::Error) -> Error {
        Error::Engine {
            context: context.to_owned(),
            message: self.settings.redact(&describe(e)),
            kind: kind_of(e),
        }
    }

    /// Runs one or more statements separated by semicolons.
    pub fn batch(&self, sql: &str, context: &str) -> Result<(), Error> {
        self.block_on(self.client.batch_execute(sql))
            .map_err(|e| self.err(context, &e))
    }

    /// Runs one statement through the extended protocol, whose Parse step
    /// refuses a text holding a second statement: for SQL that comes from
    /// an archive (bru's own may go through [`Conn::batch`]).
    pub fn execute_one(&self, sql: &str, context: &str) -> Result<(), Error> {
        self.block_on(self.client.execute(sql, &[]))
            .map(|_| ())
            .map_err(|e| self.err(context, &e))
    }

    /// Runs the statements of `sql`, a text from an archive, one at a time
    /// with [`Conn::execute_one`] (split by [`crate::sqltext`]), in one
    /// transaction when there are several: all of them are done, or none.
    pub fn execute_each(&self, sql: &str, context: &str) -> Result<(), Error> {
        let statements = crate::sqltext::statements(sql);
        if let [one] = statements.as_slice() {
            return self.execute_one(one, context);
        }
        self.batch("BEGIN", context)?;
        for statement in &statements {
            if let Err(e) = self.execute_one(statement, context) {
                let _ = self.batch("ROLLBACK", context);
                return Err(e);
            }
        }
        self.batch("COMMIT", context)
    }

    /// Runs a query with parameters and returns all rows.
    pub fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        context: &str,
    ) -> Result<Vec<Row>, Error> {
        self.block_on(self.client.query(sql, params))
            .map_err(|e| self.err(context, &e))
    }
}

/// What to do after a failed connection: the next step for a refused
/// login, a password the server asked for and was not given, or a server
/// that could not be reached.
fn connect_hint(e: &tokio_postgres::Error, has_password: bool) -> &'static str {
    const LOGIN: &str = "; check the user and the password (in the URL, PGPASSWORD or ~/.pgpass)";
    if let Some(db) = e.as_db_error() {
        return match db.code().code() {
            "28P01" | "28000" => LOGIN,
            "3D000" => "; check the database name",
            _ => "",
        };
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if inner.downcast_ref::<std::io::Error>().is_some() {
            return "; check that the server is running and accepts connections at that host and port";
        }
        source = inner.source();
    }
    if asks_for_password(e, has_password) {
        return "; give the password in the URL, PGPASSWORD or ~/.pgpass (or --password-file, \
                or run bru on a terminal to be asked for it)";
    }
    ""
}

/// Whether the connection failed because the server asked for a password
/// and none was given: the driver's one configuration error at connect
/// time, which it has no typed kind for (so it is known here, once, where
/// the driver's error becomes bru's [`ErrorKind::PasswordRequired`]).
fn asks_for_password(e: &tokio_postgres::Error, has_password: bool) -> bool {
    !has_password && e.as_db_error().is_none() && e.to_string() == "invalid configuration"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The second line of the trust model: even a text that no check
    /// looked at cannot run a second statement through `execute_one`.
    #[test]
    fn one_statement_through_the_extended_protocol_refuses_a_second() {
        let Some((server, db)) = bru_testsupport::pg::TestServer::start_with_db(
            "one_statement",
            "CREATE TABLE public.victim (a int); INSERT INTO public.victim VALUES (1), (2);",
        ) else {
            return;
        };
        let conn = Conn::open(Settings::resolve(&server.url(&db)).unwrap()).unwrap();
        for sql in [
            "CREATE VIEW public.v AS SELECT 1; DELETE FROM public.victim",
            "SELECT 1; DROP TABLE public.victim",
        ] {
            let err = conn.execute_one(sql, "attack").unwrap_err();
            assert!(err.to_string().contains("multiple commands"), "{err}");
        }
        assert_eq!(
            server.psql(&db, "SELECT count(*) FROM public.victim"),
            "2\n"
        );
        assert_eq!(
            server.psql(
                &db,
                "SELECT count(*) FROM pg_catalog.pg_views WHERE viewname = 'v'"
            ),
            "0\n"
        );
        // What execute_each is given is checked first: it runs each statement.
        conn.execute_each(
            "CREATE VIEW public.w AS SELECT ';' AS x; CREATE VIEW public.w2 AS SELECT 2",
            "own",
        )
        .unwrap();
    }

    #[test]
    fn a_refused_connection_is_transient() {
        // Nothing listens on port 1 of the loopback: the kernel refuses the
        // connection at once, as while a server restarts.
        let settings = Settings::resolve("postgresql://ann@127.0.0.1:1/db?sslmode=disable")
            .expect("valid URL");
        let err = Conn::open(settings)
            .err()
            .expect("nothing listens on port 1");
        assert!(matches!(err, Error::Connect { .. }), "{err}");
        assert!(err.is_transient(), "{err}");
    }
}
