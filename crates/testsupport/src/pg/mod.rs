//! A throwaway PostgreSQL server for tests and benchmarks, shared by
//! bru-postgres's tests and the `bru` binary's integration tests instead of
//! each starting servers its own way. Its methods panic with the failing
//! tool's output, which is how a test reports a broken setup.
//!
//! - [`server`]: starting, stopping and restarting a [`TestServer`];
//! - [`queries`]: psql, `pg_dump --schema-only`, tables, rows, sequences;
//! - [`compare`]: comparing two databases of one server;
//! - [`sql`]: the SQL of the round-trip test databases.

pub mod compare;
pub mod queries;
pub mod server;
pub mod sql;

pub use server::{TestServer, SUPERUSER};
pub use sql::{SCHEMA_SQL, TORTURE_SQL};
