//! Test support for bru's crates, never shipped (`publish = false`, only
//! ever a dev-dependency):
//!
//! - [`archive`]: an archive's catalog checksum recomputed after an edit,
//!   as an attacker would;
//! - [`mssql`]: the SQL Server that `BRU_TEST_MSSQL_URL` names (or one
//!   SKIPPED line), T-SQL helpers, rows as text and the schema from `sys.*`;
//! - [`pg`]: a throwaway PostgreSQL server, psql helpers, schema and data
//!   comparisons, and the SQL of the round-trip test databases;
//! - [`sqlite`]: one SQLite cell renderer and the table dumps built on it;
//! - [`tables`]: table definitions the tests build again and again.
//!
//! Its functions panic on a broken setup, which is how a test reports one.

pub mod archive;
pub mod mssql;
pub mod pg;
pub mod sqlite;
pub mod tables;
