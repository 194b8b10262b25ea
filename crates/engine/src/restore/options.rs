//! What a restore is asked to do: its [`RestoreMode`] and [`RestoreOptions`].
//!
//! Plain settings with no behaviour of their own, so they sit at the bottom
//! of the restore modules: the facade (`mod.rs`), the planner (which steps a
//! mode has) and the journal (which records the mode, so that a resume in
//! another mode is refused) all read them, and none of them is needed here.

use bru_core::{ObjectDef, ObjectKind};
use serde::Serialize;

use crate::summary::object_name;
use crate::{CastRules, TableFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreMode {
    /// Schema and data.
    Full,
    /// Tables, indexes, constraints and objects, no rows.
    SchemaOnly,
    /// Rows only, into tables that already exist. Indexes, constraints and
    /// objects are expected to be there already and are not created.
    DataOnly,
}

impl RestoreMode {
    /// `full`, `schema-only` or `data-only`.
    pub fn name(self) -> &'static str {
        match self {
            RestoreMode::Full => "full",
            RestoreMode::SchemaOnly => "schema-only",
            RestoreMode::DataOnly => "data-only",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub filter: TableFilter,
    pub mode: RestoreMode,
    /// Drop tables that already exist in the target instead of refusing
    /// (and the journal of an unfinished restore).
    pub clean: bool,
    /// Sessions and decoding threads; 0 means one per core.
    pub jobs: usize,
    /// Continue an interrupted restore from its journal in the target.
    pub resume: bool,
    /// Leave out the objects of kind [`ObjectKind::Owner`], which give other
    /// objects their owner, as `pg_restore --no-owner` does: everything is
    /// owned by the restoring user.
    pub no_owner: bool,
    /// Leave out the objects of kind [`ObjectKind::Privileges`], which grant and
    /// revoke privileges, and default privileges (PostgreSQL's `ALTER
    /// DEFAULT PRIVILEGES`), as `pg_restore --no-privileges` does.
    pub no_privileges: bool,
    /// Apply the objects of kind [`ObjectKind::SystemPrivileges`]: grants
    /// and revokes on objects of the database system the target has of its
    /// own (PostgreSQL's schema `public`, `pg_catalog`'s tables and
    /// functions), which the
    /// archive does not create. Without it they are listed as skipped,
    /// naming this option (`--system-privileges`).
    pub system_privileges: bool,
    /// Restore table `schema.name` as `schema_name` (with its indexes and
    /// the foreign keys that point to it), for a target with one namespace
    /// (SQLite) that cannot hold two tables of one name in two schemas.
    /// Objects whose SQL names a renamed table are skipped and listed.
    pub schema_prefix: bool,
    /// `--cast` rules: the explicit conversions of values a target cannot
    /// hold as they are (module `casts`).
    pub casts: CastRules,
    /// The engine of the target (`postgres`, `sqlite`…), when known before
    /// it is opened, as the CLI knows it from the URL. A restore from
    /// another engine's archive then translates the archive's views,
    /// CHECKs, defaults and index expressions into the target's SQL when
    /// it plans (module `translate`), so `--dry-run` shows each
    /// translation and each skip; [`crate::RestoreJob::run`] refuses a
    /// target of another engine. `None`: nothing is translated (another
    /// engine's SQL is listed as skipped by the target).
    pub target_engine: Option<String>,
}

impl Default for RestoreOptions {
    /// Everything, full mode, one job per core, no clean, no resume, owners
    /// and privileges included, the system's own objects' privileges not.
    fn default() -> Self {
        RestoreOptions {
            filter: TableFilter::default(),
            mode: RestoreMode::Full,
            clean: false,
            jobs: 0,
            resume: false,
            no_owner: false,
            no_privileges: false,
            system_privileges: false,
            schema_prefix: false,
            casts: CastRules::default(),
            target_engine: None,
        }
    }
}

/// The kind of a PostgreSQL default privileges entry (`{"other": "default
/// privileges"}`), which `--no-privileges` leaves out with the grants.
const DEFAULT_PRIVILEGES: &str = "default privileges";

impl RestoreOptions {
    /// Whether an object of the archive is restored: owners and privileges
    /// (default privileges included) unless `no_owner` / `no_privileges`
    /// leave them out; privileges on system objects only with
    /// `system_privileges` (see [`RestoreOptions::left_out`]).
    pub(crate) fn keeps(&self, object: &ObjectDef) -> bool {
        match &object.kind {
            ObjectKind::Owner => !self.no_owner,
            ObjectKind::Privileges => !self.no_privileges,
            // One the source could not carry is kept, to be listed as
            // skipped with its reason.
            ObjectKind::SystemPrivileges => {
                (self.system_privileges || object.not_carried.is_some()) && !self.no_privileges
            }
            ObjectKind::Other(k) if k == DEFAULT_PRIVILEGES => !self.no_privileges,
            _ => true,
        }
    }

    /// Why an object these options do not keep is left out, when the
    /// summary must say so: privileges on a system object, without
    /// `system_privileges`. (What `--no-owner` / `--no-privileges` leave
    /// out was asked for by name and is not listed, and a data-only restore
    /// creates no objects at all.)
    pub(crate) fn left_out(&self, object: &ObjectDef) -> Option<String> {
        (object.kind == ObjectKind::SystemPrivileges
            && object.not_carried.is_none()
            && !self.system_privileges
            && !self.no_privileges
            && self.mode != RestoreMode::DataOnly)
            .then(|| format!("{}: {SYSTEM_PRIVILEGES_SKIPPED}", object_name(object)))
    }
}

/// Why privileges on a system object are not applied by default, as the
/// summary says it.
const SYSTEM_PRIVILEGES_SKIPPED: &str =
    "changes an object of the target's own system, which the archive does not create; \
     restore with --system-privileges to apply it";
