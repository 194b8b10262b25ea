//! Identity and sequence counters: after a table's rows are in, its
//! identity columns and owned serial sequences are set to the archive's last
//! values, and in `--data-only` a sequence object's value is restored from
//! its data statement. `setval` is idempotent, so a resumed restore may
//! repeat any of it.

use bru_core::{Error, ObjectDef, ObjectOutcome, TableDef};

use crate::catalog::OWNED_SEQUENCE;
use crate::quote::{qualified, quote_literal, target_name};
use crate::ENGINE_NAME;

use super::{same_engine, PgTarget};

impl PgTarget {
    /// Sets `table`'s identity and owned sequence counters
    /// ([`bru_core::Target::restore_identity`]).
    pub(super) fn set_counters(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let q = qualified(&name);
        for c in &table.columns {
            if let Some(last) = c.identity.as_ref().and_then(|i| i.last_value) {
                let seq = match table.property(&format!("postgres.identity_sequence.{}", c.name)) {
                    Some(s) if same_engine(table) => quote_literal(s),
                    _ => format!(
                        "pg_catalog.pg_get_serial_sequence({}, {})",
                        quote_literal(&q),
                        quote_literal(&c.name)
                    ),
                };
                // setval is idempotent: a resumed restore may repeat it.
                self.live()?.batch(
                    &format!("SELECT pg_catalog.setval({seq}, {last}, true)"),
                    &format!("setting the identity counter of {name}.{}", c.name),
                )?;
            }
        }
        if !same_engine(table) {
            return Ok(());
        }
        // Serial sequences the table owns: a full restore also sets them
        // with the sequence object, --data-only only here.
        for (key, last) in &table.properties {
            let Some(seq) = key.strip_prefix(OWNED_SEQUENCE) else {
                continue;
            };
            let last: i64 = last.parse().map_err(|_| {
                Error::engine(
                    format!("setting sequence {seq} of {name}"),
                    format!("the archive's value {last:?} is not a number"),
                )
            })?;
            self.live()?.batch(
                &format!(
                    "SELECT pg_catalog.setval({}, {last}, true)",
                    quote_literal(seq)
                ),
                &format!("setting sequence {seq} of {name}"),
            )?;
        }
        Ok(())
    }

    /// Restores a sequence object's value with its data statement
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
                "its data was written for {}, not PostgreSQL",
                object.engine
            )));
        };
        let context = format!("setting the value of {} {}", object.kind, object.name);
        crate::trust::check_object(object, None).map_err(|e| super::untrusted(&context, e))?;
        // setval is idempotent: running it again after an interruption is
        // harmless.
        self.live()?.execute_one(
            data,
            &format!("setting the value of {} {}", object.kind, object.name),
        )?;
        Ok(ObjectOutcome::Created)
    }
}
