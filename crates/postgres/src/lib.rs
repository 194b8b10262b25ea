//! PostgreSQL as a bru source and target.
//!
//! [`PgSource`] reads one consistent snapshot (REPEATABLE READ, exported so
//! parallel readers can share it) through binary COPY; [`PgTarget`] restores
//! in pg_restore's phases with binary COPY (FREEZE when the table was just
//! created). Both speak the libpq connection conventions (URL, `PG*`
//! variables, `~/.pgpass`, `sslmode`) and never show the password.
//!
//! The crate hides tokio: the bru traits are synchronous, and each
//! connection drives its own single-threaded runtime.
//!
//! Restore order: objects for which [`bru_core::ObjectDef::is_pre_data`] is true (schemas,
//! extensions, types, sequences, functions) must be created before the
//! tables, in catalog order; every other object after the tables are
//! finished.

mod catalog;
mod changes;
mod conn;
mod copy_binary;
mod ddl;
mod digest;
mod engine;
mod numeric;
mod quote;
mod source;
pub mod sqltext;
mod target;
mod text_input;
mod tls;
pub mod trust;
mod values;

pub use engine::{PgEngine, ENGINE};
pub use source::PgSource;
pub use target::PgTarget;

/// The engine's name, as archives record it ([`bru_core::SourceInfo::engine`],
/// [`bru_core::NativeDdl::engine`], [`bru_core::ObjectDef::engine`]).
pub const ENGINE_NAME: &str = "postgres";
