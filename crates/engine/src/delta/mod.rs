//! Two-step migration: delta archives on top of a full one (FORMAT.md,
//! "Table states and delta archives"; README, "Two-step migration").
//!
//! Every backup records each table's state ([`bru_core::delta`]). A delta
//! backup ([`backup_delta`]) compares the source with the chain's latest
//! archive and writes only the rows of what changed; applying it
//! ([`DeltaApply`]) checks that the target holds the state the delta was
//! taken against, then deletes and replaces exactly those rows. This is
//! the generic method: it needs only SELECT on the source, so it works
//! for every source engine, and costs a read of each table per delta (two
//! for a table that changed).

mod apply;
mod backup;

pub use apply::{is_delta, ChainCheck, DeltaApply, Scanned};
pub use backup::{backup_delta, backup_delta_sealed};
