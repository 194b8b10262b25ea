//! The neutral core of bru.
//!
//! Every engine (SQLite, PostgreSQL, SQL Server) translates its own catalog and
//! values into the types defined here, and the archive format stores only these
//! types. Keeping the model engine-neutral is what lets a PostgreSQL archive be
//! restored into SQLite and back: an engine never sees another engine's types.
//!
//! This crate does no I/O.

pub mod calendar;
pub mod changes;
pub mod checksum;
pub mod delta;
pub mod error;
pub mod journal;
pub mod registry;
pub mod schema;
pub mod traits;
pub mod types;
pub mod value;

pub use checksum::{row_hash, TableChecksum};
pub use error::{Error, ErrorKind, Result};
pub use journal::{Journal, JournalSql, SqlSession};
pub use registry::Engine;
pub use schema::{
    Catalog, CheckConstraint, Column, Declared, FkAction, ForeignKey, Generated, Identity,
    IdentityKind, IndexDef, NativeDdl, ObjectDef, ObjectKind, PrimaryKey, Section, SourceInfo,
    TableDef, TableName, UniqueConstraint,
};
pub use traits::{
    BatchLimits, Dropped, IndexPart, KeyBuckets, KeyRange, ObjectOutcome, RestoreJournal,
    ServerDigest, Source, TableLoader, TablePart, Target,
};
pub use types::ColumnType;
pub use value::{spare_values, Interval, RowBatch, Value};
