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
//! Restore order: objects for which [`is_pre_data`] is true (schemas,
//! extensions, types, sequences, functions) must be created before the
//! tables, in catalog order; every other object after the tables are
//! finished.

mod catalog;
mod conn;
mod copy_binary;
mod ddl;
mod numeric;
mod pgpass;
mod quote;
mod source;
mod target;
mod text_input;
mod tls;
mod values;

pub use catalog::NOT_CARRIED;
pub use source::PgSource;
pub use target::PgTarget;

use bru_core::{ObjectDef, ObjectKind};

/// True for objects a restore must create before the tables: schemas,
/// extensions, types, sequences and functions that do not use a table's
/// row type (those are [`ObjectKind::Other`]`("function")` and come after).
pub fn is_pre_data(object: &ObjectDef) -> bool {
    match &object.kind {
        ObjectKind::Type | ObjectKind::Sequence | ObjectKind::Function => true,
        ObjectKind::Other(k) => k == "schema" || k == "extension",
        _ => false,
    }
}

/// True for a URL this crate handles (`postgres://` or `postgresql://`).
pub fn handles_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}
