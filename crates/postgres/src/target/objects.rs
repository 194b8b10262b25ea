//! Post-data objects other than keys and indexes: views, functions,
//! triggers and the rest from their own DDL, and owners and privileges,
//! whose missing roles come back as skipped rather than as errors.

use bru_core::{ObjectDef, ObjectKind, ObjectOutcome};
use tokio_postgres::error::SqlState;

use crate::ENGINE_NAME;

use super::PgTarget;

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
        // Default privileges are grants too (and may run again): a role
        // the target lacks leaves them out, listed.
        let default_privileges = matches!(&object.kind,
            ObjectKind::Other(k) if k == crate::catalog::defaults::DEFAULT_PRIVILEGES);
        if matches!(object.kind, ObjectKind::Owner | ObjectKind::Privileges) || default_privileges {
            return self.set_owner_or_privileges(object);
        }
        // An object's statements run in one transaction, so "already
        // exists" means all of them were done.
        self.run_once(
            &format!("{} {}", object.kind, object.name),
            &object.ddl,
            &format!("creating {} {}", object.kind, object.name),
        )?;
        Ok(ObjectOutcome::Created)
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
