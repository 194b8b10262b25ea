//! Post-data for one table: its keys, check constraints and indexes (each
//! from the archive's own PostgreSQL definition or built from the neutral
//! model), an index built on its own ahead of the rest so that several
//! sessions can build one table's indexes at once, and its foreign keys.
//! Every step first looks up what already exists, so a resumed restore does
//! not do it twice.

use bru_core::{ErrorKind, IndexPart, TableDef};

use crate::ddl;
use crate::quote::{ident, qualified, target_name};

use super::{same_engine, PgTarget};

impl PgTarget {
    /// Adds the keys, checks and indexes `build_one_index` left
    /// ([`bru_core::Target::finish_table`]).
    pub(super) fn add_keys_and_indexes(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let q = qualified(&name);
        let context = format!("adding keys and indexes to {name}");
        // Checked before the restore started; again where it runs (another
        // engine's expressions too).
        crate::trust::check_table(table, None).map_err(|e| super::untrusted(&context, e))?;
        self.settle_earlier_run(&q, &context)?;
        let existing = self.existing_names(&table.name)?;
        for step in post_data(table) {
            // A plain index and a CHECK constraint may have the same name:
            // each is looked up among its own kind.
            let index = matches!(step.part, Some(IndexPart::Index(_)));
            // Done before an interruption, or by an earlier attempt.
            if !index && existing.constraints.contains(&step.name) {
                continue;
            }
            let sql = match &step.split {
                // The index was built by `build_index`: make it the key.
                Some(split) if existing.indexes.contains(&step.name) => &split.attach,
                Some(_) => &step.sql,
                None if index && existing.indexes.contains(&step.name) => continue,
                None => &step.sql,
            };
            // One statement, through the extended protocol: a definition
            // from the archive cannot carry a second one.
            match self.live()?.execute_one(sql, &context) {
                Ok(()) => {}
                // Each statement runs on its own, so a failed one leaves
                // nothing behind.
                Err(e) if step.foreign_sql && !e.is_transient() => self
                    .shared
                    .skip(format!("table {name}: `{sql}` was not created: {e}")),
                Err(e) => return Err(e),
            }
        }
        if same_engine(table) {
            // What the indexes need once they exist (each statement can be
            // run again: a resumed restore does no harm repeating it).
            for (_, sql) in table
                .properties
                .range(crate::catalog::AFTER_INDEXES.to_owned()..)
                .take_while(|(k, _)| k.starts_with(crate::catalog::AFTER_INDEXES))
            {
                self.live()?.execute_one(sql, &context)?;
            }
        }
        Ok(())
    }

    /// Builds the index behind `part` ([`bru_core::Target::build_index`]).
    pub(super) fn build_one_index(
        &mut self,
        table: &TableDef,
        part: IndexPart,
    ) -> bru_core::Result<()> {
        // An index in another engine's SQL may fail and be skipped: that is
        // left to finish_table, so it is reported once.
        let Some(step) = post_data(table)
            .into_iter()
            .find(|s| s.part == Some(part) && !s.foreign_sql)
        else {
            return Ok(());
        };
        let name = target_name(&table.name);
        let q = qualified(&name);
        let context = format!("building index {} of {name}", step.name);
        self.settle_earlier_run_in(&q, "SHARE", &context)?;
        let existing = self.existing_names(&table.name)?;
        let index = matches!(part, IndexPart::Index(_));
        if !index && existing.constraints.contains(&step.name)
            || existing.indexes.contains(&step.name)
        {
            return Ok(());
        }
        // Checked before the restore started; again where it runs (another
        // engine's expressions too).
        crate::trust::check_table(table, None).map_err(|e| super::untrusted(&context, e))?;
        let sql = step.split.as_ref().map_or(&step.sql, |s| &s.build);
        match self.live()?.execute_one(sql, &context) {
            Ok(()) => Ok(()),
            // A session of an interrupted run built it meanwhile (see
            // settle_earlier_run); 23505 is its row in pg_class.
            Err(e)
                if (e.is(ErrorKind::AlreadyExists) || e.is(ErrorKind::UniqueViolation))
                    && self
                        .existing_names(&table.name)?
                        .indexes
                        .contains(&step.name) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Adds `table`'s foreign keys ([`bru_core::Target::add_foreign_keys`]).
    pub(super) fn add_table_foreign_keys(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if table.foreign_keys.is_empty() {
            return Ok(());
        }
        let owner = target_name(&table.name);
        if same_engine(table) {
            crate::trust::check_table(table, None)
                .map_err(|e| super::untrusted(&format!("adding foreign keys to {owner}"), e))?;
        }
        self.settle_earlier_run(
            &qualified(&owner),
            &format!("adding foreign keys to {owner}"),
        )?;
        let existing = self.existing_names(&table.name)?;
        for fk in &table.foreign_keys {
            let (n, sql) = match fk.name.as_ref().and_then(|n| {
                table
                    .property(&format!("postgres.constraint.{n}"))
                    .map(|d| (n, d))
            }) {
                Some((n, def)) if same_engine(table) => (
                    n.clone(),
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {def}",
                        qualified(&owner),
                        ident(n)
                    ),
                ),
                _ => ddl::foreign_key(table, fk),
            };
            if existing.constraints.contains(&n) {
                continue;
            }
            self.live()?
                .execute_one(&sql, &format!("adding foreign key {n} to {owner}"))?;
        }
        Ok(())
    }
}

/// The post-data statements of `table` except foreign keys, keys first
/// (foreign keys and some indexes rely on them): from the archive's own
/// PostgreSQL definitions, or built from the neutral model
/// ([`ddl::post_data`]).
///
/// A PostgreSQL key is built in two steps ([`ddl::KeySplit`]) only when its
/// definition is the plain `PRIMARY KEY (…)` or `UNIQUE (…)` of its columns
/// and the table is not partitioned (`USING INDEX` takes no INCLUDE,
/// NULLS NOT DISTINCT, DEFERRABLE or partitioned table here); any other key
/// is added whole by finish_table.
fn post_data(table: &TableDef) -> Vec<ddl::PostData> {
    if !same_engine(table) {
        return ddl::post_data(table);
    }
    let q = qualified(&target_name(&table.name));
    let partitioned = table.property("postgres.partitioned") == Some("true");
    let mut cons: Vec<(u8, &str, &str)> = table
        .properties
        .iter()
        .filter_map(|(k, def)| {
            let n = k.strip_prefix("postgres.constraint.")?;
            let rank = match def.split_whitespace().next()? {
                "PRIMARY" => 0,
                "UNIQUE" => 1,
                "CHECK" => 2,
                _ => return None,
            };
            Some((rank, n, def.as_str()))
        })
        .collect();
    cons.sort();
    let mut out = Vec::new();
    for (_, n, def) in cons {
        let key = match &table.primary_key {
            Some(pk) if pk.name.as_deref() == Some(n) => {
                Some((IndexPart::PrimaryKey, "PRIMARY KEY", &pk.columns))
            }
            _ => table
                .uniques
                .iter()
                .position(|u| u.name.as_deref() == Some(n))
                .map(|i| (IndexPart::Unique(i), "UNIQUE", &table.uniques[i].columns)),
        };
        let (part, split) = match key {
            Some((part, kind, columns)) if !partitioned => {
                let columns = ddl::col_list(columns);
                if def == format!("{kind} ({columns})") {
                    (Some(part), Some(ddl::KeySplit::new(&q, kind, n, &columns)))
                } else {
                    (None, None)
                }
            }
            _ => (None, None),
        };
        // A partitioned table's key is its own, as pg_dump adds it: each
        // partition has its own, attached to it after (an older archive's
        // partitions have none: the key is built on them from this one).
        let own_keys = table.property(crate::catalog::PARTITIONS_OWN_KEYS) == Some("true");
        let only = if own_keys && key.is_some() {
            "ONLY "
        } else {
            ""
        };
        out.push(ddl::PostData {
            name: n.to_owned(),
            sql: format!("ALTER TABLE {only}{q} ADD CONSTRAINT {} {def}", ident(n)),
            foreign_sql: false,
            part,
            split,
        });
    }
    for (position, i) in table.indexes.iter().enumerate() {
        if let Some(d) = &i.native_ddl {
            out.push(ddl::PostData {
                name: ddl::stored_name(&i.name),
                sql: d.clone(),
                foreign_sql: false,
                part: Some(IndexPart::Index(position)),
                split: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::TableName;

    /// A table as the PostgreSQL catalog reader records it (or, with
    /// `engine` "sqlite", as another engine's), with a plain primary key, a
    /// unique key with INCLUDE and one index.
    fn keyed_table(engine: &str) -> TableDef {
        let mut properties = std::collections::BTreeMap::new();
        properties.insert(
            "postgres.constraint.t_pkey".into(),
            "PRIMARY KEY (id)".into(),
        );
        properties.insert(
            "postgres.constraint.t_code_key".into(),
            "UNIQUE (code) INCLUDE (note)".into(),
        );
        TableDef {
            name: TableName::new(Some("public"), "t"),
            columns: Vec::new(),
            primary_key: Some(bru_core::PrimaryKey {
                name: Some("t_pkey".into()),
                columns: vec!["id".into()],
            }),
            uniques: vec![bru_core::UniqueConstraint {
                name: Some("t_code_key".into()),
                columns: vec!["code".into()],
            }],
            indexes: vec![bru_core::IndexDef {
                name: "t_note_idx".into(),
                columns: vec!["note".into()],
                unique: false,
                predicate: None,
                method: None,
                native_ddl: Some("CREATE INDEX t_note_idx ON public.t USING btree (note)".into()),
            }],
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            native: Some(bru_core::NativeDdl {
                engine: engine.into(),
                create: String::new(),
            }),
            properties,
            estimated_rows: None,
            created_after: Vec::new(),
            translated_for: None,
        }
    }

    #[test]
    fn a_plain_key_is_built_as_an_index_then_attached() {
        let steps = post_data(&keyed_table("postgres"));
        let pk = steps.iter().find(|s| s.name == "t_pkey").unwrap();
        assert_eq!(pk.part, Some(IndexPart::PrimaryKey));
        let split = pk.split.as_ref().expect("a plain primary key is split");
        assert_eq!(split.build, "CREATE UNIQUE INDEX t_pkey ON public.t (id)");
        assert_eq!(
            split.attach,
            "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey"
        );
        // USING INDEX cannot take INCLUDE: that key is added whole.
        let unique = steps.iter().find(|s| s.name == "t_code_key").unwrap();
        assert!(unique.split.is_none() && unique.part.is_none());
        let index = steps.iter().find(|s| s.name == "t_note_idx").unwrap();
        assert_eq!(index.part, Some(IndexPart::Index(0)));

        // Nor does a partitioned table.
        let mut partitioned = keyed_table("postgres");
        partitioned
            .properties
            .insert("postgres.partitioned".into(), "true".into());
        assert!(post_data(&partitioned).iter().all(|s| s.split.is_none()));

        // From another engine, keys are built from the neutral model, plain.
        let foreign = post_data(&keyed_table("sqlite"));
        assert!(foreign
            .iter()
            .filter(
                |s| s.part == Some(IndexPart::PrimaryKey) || s.part == Some(IndexPart::Unique(0))
            )
            .all(|s| s.split.is_some()));
    }
}
