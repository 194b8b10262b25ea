//! Microsoft SQL Server as a bru source and target, over TDS with tiberius.
//!
//! Layout (one concern per module):
//! - [`conn`]: `mssql://` / `sqlserver://` URLs, `encrypt=` and
//!   `trustServerCertificate=` parameters, `SQLCMDPASSWORD`, TLS with
//!   rustls, and the one-line errors for unreachable host, failed login,
//!   missing database and refused TLS. Passwords are never shown.
//! - `source`: one SNAPSHOT-isolation transaction, the schema read from the
//!   `sys.*` catalogs into the neutral model, rows streamed through
//!   tiberius's QueryStream into bounded batches.
//! - `types`: SQL Server types to and from [`bru_core::ColumnType`].
//! - `target`: restore into SQL Server in pg_restore's phases (tables, rows
//!   by bulk load or batched inserts, identity kept and reseeded, then keys,
//!   indexes, foreign keys, checks, triggers and modules), resumable through
//!   the restore journal.
//! - [`trust`]: checks every T-SQL text an archive holds before a restore
//!   runs it (an archive is data, never code).
//!
//! The crate hides tokio: the bru traits are synchronous, and each
//! connection drives its own single-threaded runtime, as the PostgreSQL
//! engine does.

pub mod conn;
mod engine;
pub mod props;
mod source;
mod target;
pub mod trust;
pub mod types;

pub use engine::{MssqlEngine, ENGINE};
pub use source::MssqlSource;
pub use target::MssqlTarget;

/// The engine's name, as archives record it ([`bru_core::SourceInfo::engine`],
/// [`bru_core::NativeDdl::engine`], [`bru_core::ObjectDef::engine`]).
pub const ENGINE_NAME: &str = "mssql";
