//! SQLite as a bru source and target.
//!
//! - [`SqliteSource`] reads a database file read-only inside one read
//!   transaction: the catalog ([`catalog`]) and then each table's rows,
//!   cell by cell by storage class ([`values`]).
//! - [`SqliteTarget`] recreates tables (from their own `CREATE` text when
//!   they came from SQLite, else from the neutral model via [`ddl`]), bulk
//!   loads the rows, then creates indexes, AUTOINCREMENT values, views and
//!   triggers.
//!
//! The crate depends on `bru-core` only: it never sees the archive.

pub mod catalog;
pub mod createsql;
pub mod ddl;
mod depends;
mod engine;
mod error;
pub mod quote;
mod rowid_ranges;
mod snapshot;
mod source;
pub mod sqltext;
mod target;
pub mod trust;
pub mod types;
pub mod values;
pub mod vtab;

pub use engine::{SqliteEngine, ENGINE};
pub use source::SqliteSource;

/// The engine's name, as archives record it ([`bru_core::SourceInfo::engine`],
/// [`bru_core::NativeDdl::engine`], [`bru_core::ObjectDef::engine`]).
pub const ENGINE_NAME: &str = "sqlite";
pub use target::SqliteTarget;
