//! Post-data objects other than keys and indexes: views, functions,
//! triggers and the rest from their own DDL, and owners and privileges,
//! whose missing roles come back as skipped rather than as errors.

use bru_core::{Error, ErrorKind, ObjectDef, ObjectKind, ObjectOutcome};
use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use tokio_postgres::error::SqlState;

use crate::ENGINE_NAME;

use super::{PgTarget, Shared};

impl PgTarget {
    /// Creates `object`, or says why it is skipped
    /// ([`bru_core::Target::create_object`]).
    pub(super) fn create_other_object(
        &mut self,
        object: &ObjectDef,
    ) -> bru_core::Result<ObjectOutcome> {
        if object.engine != ENGINE_NAME {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}, not PostgreSQL",
                object.engine
            )));
        }
        // Checked before the restore started; checked again here, where it
        // runs (see `crate::trust`).
        crate::trust::check_object(object, None).map_err(|e| {
            super::untrusted(&format!("creating {} {}", object.kind, object.name), e)
        })?;
        if object.kind == ObjectKind::Schema {
            self.note_if_own_schema(&object.name.name)?;
        }
        if super::large_objects::is_large_object(object) {
            self.create_large_object(object)?;
            return Ok(ObjectOutcome::Created);
        }
        if let Some(schema) = about_schema(object) {
            if self.shared.is_own_schema(&schema) {
                return Ok(ObjectOutcome::Skipped(format!(
                    "schema {} was the target's before the restore, so its {} stays as it was",
                    crate::quote::ident(&schema),
                    match object.kind {
                        ObjectKind::Owner => "owner",
                        ObjectKind::Privileges => "privileges",
                        _ => "comment",
                    }
                )));
            }
        }
        // Default privileges are grants too (and may run again): a role
        // the target lacks leaves them out, listed.
        let default_privileges = matches!(&object.kind,
            ObjectKind::Other(k) if k == crate::catalog::defaults::DEFAULT_PRIVILEGES);
        // Privileges on a system object (schema public, a pg_catalog
        // table) too: the engine passes them only with
        // --system-privileges.
        if matches!(
            object.kind,
            ObjectKind::Owner | ObjectKind::Privileges | ObjectKind::SystemPrivileges
        ) || default_privileges
        {
            return self.set_owner_or_privileges(object);
        }
        // A function's `CREATE OR REPLACE` (as pg_get_functiondef writes
        // it) runs as `CREATE`: it must never replace a function of the
        // target's own with the same signature; `--clean` drops the
        // archive's functions first (module `clean`).
        let ddl = match object.kind {
            ObjectKind::Function | ObjectKind::TableFunction | ObjectKind::WindowFunction => {
                crate::sqltext::without_or_replace(&object.ddl)
            }
            _ => object.ddl.as_str().into(),
        };
        // An object's statements run in one transaction, so "already
        // exists" means all of them were done.
        let context = format!("creating {} {}", object.kind, object.name);
        match self.run_once(&format!("{} {}", object.kind, object.name), &ddl, &context) {
            Ok(_) => Ok(ObjectOutcome::Created),
            Err(Error::Engine {
                message,
                kind: ErrorKind::AlreadyExists,
                ..
            }) => Err(Error::engine_kind(
                ErrorKind::AlreadyExists,
                context,
                format!(
                    "{message} in the target, which the archive may not replace; {}",
                    if dropped_by_clean(&object.kind) {
                        "restore with --clean to drop and recreate it, or drop it first"
                    } else {
                        "drop it first, or restore into an empty database"
                    }
                ),
            )),
            Err(e) => Err(self.missing_roles(object, e)),
        }
    }

    /// `error`, or, when `object` is a policy or user mapping naming roles
    /// the target does not have (a restore creates no roles), an error
    /// that names them and says what to do. The roles are read from the
    /// entry's statement and looked up in the target's `pg_roles`, so the
    /// server's message is never read.
    fn missing_roles(&mut self, object: &ObjectDef, error: Error) -> Error {
        let roles = named_roles(object);
        if roles.is_empty() {
            return error;
        }
        let missing = self.live().and_then(|conn| {
            conn.query(
                "SELECT r FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY u(r, i)
                  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = u.r)
                  ORDER BY u.i",
                &[&roles],
                "looking for the roles of a policy or user mapping in the target",
            )
        });
        let missing: Vec<String> = match missing {
            Ok(rows) => rows.iter().filter_map(|r| r.try_get(0).ok()).collect(),
            Err(_) => return error,
        };
        if missing.is_empty() {
            return error;
        }
        let names: Vec<String> = missing.iter().map(|r| crate::quote::ident(r)).collect();
        Error::engine_kind(
            ErrorKind::UndefinedObject,
            format!("creating {} {}", object.kind, object.name),
            format!(
                "it names role{} {}, which the target does not have (a restore creates no \
                 roles): create {} in the target (`pg_dumpall --roles-only` dumps a cluster's \
                 roles), or restore without the table it belongs to (--exclude)",
                if names.len() > 1 { "s" } else { "" },
                names.join(", "),
                if names.len() > 1 { "them" } else { "it" },
            ),
        )
    }

    /// Runs an owner or privileges object (`ALTER ... OWNER TO`, `REVOKE`
    /// and `GRANT`s), which may run again on a resumed restore. Its
    /// statements run one at a time in one transaction: a role missing in the
    /// target (42704) leaves the object as it was and comes back as
    /// skipped, naming the role, so the summary lists it; any other failure
    /// is an error.
    fn set_owner_or_privileges(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        let context = format!("setting the {} of {}", object.kind, object.name);
        let conn = self.live()?;
        let statements = crate::sqltext::statements(&object.ddl);
        let run = || -> Result<(), tokio_postgres::Error> {
            conn.block_on(async {
                let many = statements.len() > 1;
                if many {
                    conn.client.batch_execute("BEGIN").await?;
                }
                for s in &statements {
                    if let Err(e) = conn.client.execute(*s, &[]).await {
                        if many {
                            let _ = conn.client.batch_execute("ROLLBACK").await;
                        }
                        return Err(e);
                    }
                }
                if many {
                    conn.client.batch_execute("COMMIT").await?;
                }
                Ok(())
            })
        };
        match run() {
            Ok(()) => Ok(ObjectOutcome::Created),
            Err(e) => match e.as_db_error() {
                Some(db)
                    if *db.code() == SqlState::UNDEFINED_OBJECT
                        && db.message().starts_with("role ") =>
                {
                    Ok(ObjectOutcome::Skipped(format!(
                        "{} in the target; create it and restore again, or leave {} out \
                         with --no-owner / --no-privileges",
                        db.message(),
                        if object.kind == ObjectKind::Owner {
                            "owners"
                        } else {
                            "privileges"
                        }
                    )))
                }
                Some(db) if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE => Err(conn.err(
                    &format!(
                        "{context} (restore as a superuser or a member of the roles, \
                         or leave them out with --no-owner / --no-privileges)"
                    ),
                    &e,
                )),
                _ => Err(conn.err(&context, &e)),
            },
        }
    }
}

/// The journal key that records that the target had schema `name` before
/// the restore, so that a resumed restore still knows it.
fn own_schema_key(name: &str) -> String {
    format!("{OWN_SCHEMA_KEY}{name}")
}

/// The prefix of [`own_schema_key`].
const OWN_SCHEMA_KEY: &str = "postgres: the target's own schema ";

impl Shared {
    /// Notes the target's own schemas that an interrupted restore recorded
    /// in the journal `keys`.
    pub(super) fn note_own_schemas(&self, keys: &[String]) {
        let mut own = self
            .own_schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        own.extend(
            keys.iter()
                .filter_map(|k| k.strip_prefix(OWN_SCHEMA_KEY))
                .map(str::to_owned),
        );
    }

    fn is_own_schema(&self, name: &str) -> bool {
        self.own_schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }
}

impl PgTarget {
    /// Before the archive's `CREATE SCHEMA IF NOT EXISTS name`: if the
    /// target has the schema already and this restore did not make it (it
    /// is neither resuming one that may have, nor retrying), it is the
    /// target's own, noted here and in the journal.
    fn note_if_own_schema(&mut self, name: &str) -> bru_core::Result<()> {
        if self.shared.is_own_schema(name) || self.shared.resuming.load(Ordering::Relaxed) {
            return Ok(());
        }
        let key = format!("looked for schema {name}");
        let attempted = !self
            .shared
            .attempted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key);
        if attempted {
            return Ok(());
        }
        let exists = !self
            .live()?
            .query(
                "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[&name],
                &format!("looking for schema {name} in the target"),
            )?
            .is_empty();
        if exists {
            self.mark_journal(&own_schema_key(name))?;
            self.shared
                .own_schemas
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_owned());
        }
        Ok(())
    }
}

/// The schema an owner, privileges or comment entry is about, if it is
/// one: `ALTER SCHEMA s …`, `REVOKE|GRANT … ON SCHEMA s …`, `COMMENT ON
/// SCHEMA s …` (the trust check made sure it is the entry's own name).
fn about_schema(object: &ObjectDef) -> Option<String> {
    if !matches!(
        object.kind,
        ObjectKind::Owner | ObjectKind::Privileges | ObjectKind::Comment
    ) {
        return None;
    }
    let sql = object.ddl.as_str();
    let statements = crate::sqltext::split(sql);
    let tokens = statements.first()?;
    let at = if tokens.first()?.is_word(sql, "ALTER") {
        1
    } else {
        tokens.iter().position(|t| t.is_word(sql, "ON"))? + 1
    };
    if !tokens.get(at)?.is_word(sql, "SCHEMA") {
        return None;
    }
    tokens.get(at + 1)?.name(sql)
}

/// The roles a policy (`CREATE POLICY … TO r, …`) or user mapping (`CREATE
/// USER MAPPING FOR r …`) names, as the server resolves them; `PUBLIC` and
/// the `CURRENT_USER`-like words are no roles to look for.
fn named_roles(object: &ObjectDef) -> Vec<String> {
    let ObjectKind::Other(kind) = &object.kind else {
        return Vec::new();
    };
    let sql = object.ddl.as_str();
    let statements = crate::sqltext::split(sql);
    let Some(tokens) = statements.first() else {
        return Vec::new();
    };
    let after = if kind == crate::catalog::policies::POLICY {
        "TO"
    } else if kind == crate::catalog::foreign::USER_MAPPING {
        "FOR"
    } else {
        return Vec::new();
    };
    // The clause's word outside parentheses (a USING expression has its
    // own).
    let mut depth = 0usize;
    let mut at = None;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct(sql, '(') {
            depth += 1;
        } else if t.is_punct(sql, ')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_word(sql, after) {
            at = Some(i + 1);
            break;
        }
    }
    let Some(mut i) = at else {
        return Vec::new();
    };
    let mut roles = Vec::new();
    while let Some(t) = tokens.get(i) {
        let special = [
            "PUBLIC",
            "CURRENT_USER",
            "CURRENT_ROLE",
            "SESSION_USER",
            "USER",
        ]
        .iter()
        .any(|w| t.is_word(sql, w));
        match t.name(sql) {
            Some(_) if special => {}
            Some(name) => roles.push(name),
            None => break,
        }
        if after == "FOR" || !tokens.get(i + 1).is_some_and(|t| t.is_punct(sql, ',')) {
            break;
        }
        i += 2;
    }
    roles
}

/// Whether `--clean` drops an existing object of `kind` by the archive's
/// name (see module `clean`), so that the restore can create it again.
fn dropped_by_clean(kind: &ObjectKind) -> bool {
    super::clean::drops_kind(kind)
}
