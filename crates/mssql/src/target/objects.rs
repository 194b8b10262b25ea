//! Post-data objects: SQL Server's own modules (views, procedures,
//! functions, triggers), sequences and types, each from the definition
//! the source read from `sys.sql_modules` (or wrote, for a sequence), run
//! as its own batch: a CREATE VIEW, PROCEDURE, FUNCTION or TRIGGER must be
//! the only statement of its batch. The session runs with
//! `QUOTED_IDENTIFIER` and `ANSI_NULLS` on, which a module keeps as its
//! own settings. Objects of another engine are skipped with the reason,
//! never dropped silently.

use std::borrow::Cow;

use bru_core::{Catalog, Declared, ErrorKind, ObjectDef, ObjectKind, ObjectOutcome};

use super::{untrusted, MssqlTarget};
use crate::ENGINE_NAME;

/// What the archive declares around `object`, for checking its T-SQL
/// again where it runs: the object, its table and what it reads.
fn declared_for(object: &ObjectDef) -> Declared {
    let mut d = Declared::of(&Catalog {
        tables: Vec::new(),
        objects: vec![object.clone()],
    });
    d.relations.extend(object.table.iter().cloned());
    d.relations
        .extend(object.depends_on.iter().flatten().cloned());
    d
}

/// A module's `CREATE OR ALTER` (as `sys.sql_modules` keeps it when it
/// was written so) run as `CREATE`: it must never replace an object of the
/// target's own; `--clean` drops the archive's objects first.
fn without_or_alter(ddl: &str) -> Cow<'_, str> {
    let Ok(tokens) = crate::trust::lex::tokenize(ddl) else {
        return ddl.into();
    };
    match tokens.as_slice() {
        [create, or, alter, ..]
            if create.is_word(ddl, "CREATE")
                && or.is_word(ddl, "OR")
                && alter.is_word(ddl, "ALTER") =>
        {
            format!("{}{}", &ddl[..create.end], &ddl[alter.end..]).into()
        }
        _ => ddl.into(),
    }
}

impl MssqlTarget {
    /// Creates `object`, or says why it is skipped
    /// ([`bru_core::Target::create_object`]).
    pub(super) fn create_module(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        if object.engine != ENGINE_NAME {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}, not SQL Server",
                object.engine
            )));
        }
        let context = format!("creating {} {}", object.kind, object.name);
        crate::trust::check_object(object, &declared_for(object))
            .map_err(|e| untrusted(&context, e))?;
        let key = format!("{} {}", object.kind, object.name);
        let may_exist = self.shared.may_exist(&key);
        if object.kind == ObjectKind::Schema {
            // A schema the target has already (dbo, or one a table's
            // creation made) is kept as it is.
            let schema = &object.name.name;
            let exists = !self
                .session
                .rows(
                    "SELECT 1 WHERE SCHEMA_ID(@P1) IS NOT NULL",
                    vec![super::session::text_param(schema)],
                    &context,
                )?
                .is_empty();
            if exists {
                return Ok(ObjectOutcome::Created);
            }
        }
        match self.session.batch(&without_or_alter(&object.ddl), &context) {
            Ok(()) => {}
            Err(e) if may_exist && e.is(ErrorKind::AlreadyExists) => {}
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                return Err(bru_core::Error::engine_kind(
                    ErrorKind::AlreadyExists,
                    &context,
                    format!(
                        "{e}; the target has an object of that name, which the archive may not \
                         replace: restore with --clean, or drop it first"
                    ),
                ))
            }
            Err(e) => return Err(e),
        }
        // A sequence's current value is its data, restored with it.
        if object.kind == ObjectKind::Sequence {
            if let Some(data) = &object.data {
                self.session
                    .batch(data, &format!("setting the value of {}", object.name))?;
            }
        }
        Ok(ObjectOutcome::Created)
    }

    /// `--data-only`: a sequence's value from its data statement
    /// ([`bru_core::Target::restore_object_data`]).
    pub(super) fn set_object_data(
        &mut self,
        object: &ObjectDef,
    ) -> bru_core::Result<ObjectOutcome> {
        let Some(data) = object
            .data
            .as_deref()
            .filter(|_| object.engine == ENGINE_NAME)
        else {
            return Ok(ObjectOutcome::Skipped(format!(
                "its data was written for {}, not SQL Server",
                object.engine
            )));
        };
        let context = format!("setting the value of {} {}", object.kind, object.name);
        crate::trust::check_object(object, &declared_for(object))
            .map_err(|e| untrusted(&context, e))?;
        // ALTER SEQUENCE … RESTART WITH is idempotent.
        self.session.batch(data, &context)?;
        Ok(ObjectOutcome::Created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_or_alter_runs_as_create() {
        assert_eq!(
            without_or_alter("create /* c */ or\n alter VIEW dbo.v AS SELECT 1"),
            "create VIEW dbo.v AS SELECT 1"
        );
        assert_eq!(
            without_or_alter("CREATE VIEW v AS SELECT 'OR ALTER'"),
            "CREATE VIEW v AS SELECT 'OR ALTER'"
        );
    }
}
