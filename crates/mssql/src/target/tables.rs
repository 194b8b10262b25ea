//! Pre-data: which tables exist, creating a table bare (with its schema
//! when the target lacks it), and what a target table's columns are
//! ([`MssqlTarget::target_columns`], for loading and for `--data-only`'s
//! check).

use std::collections::HashSet;

use bru_core::{Error, TableDef, TableName};
use tiberius::ColumnData;

use super::ddl;
use super::journal::JOURNAL_TABLE;
use super::quote::{ident, nstr, qualified, schema_of};
use super::session::{cell_int, cell_text, text_param};
use super::values::{CodePage, SqlType};
use super::{declared_for, untrusted, MssqlTarget};

/// One column of a table in the target.
#[derive(Debug, Clone)]
pub(super) struct TargetColumn {
    pub(super) name: String,
    pub(super) ty: SqlType,
    pub(super) is_identity: bool,
    pub(super) is_computed: bool,
}

impl MssqlTarget {
    /// Which of `tables` exist in the target, as tables or views.
    pub(super) fn tables_among(
        &mut self,
        tables: &[TableName],
    ) -> bru_core::Result<Vec<TableName>> {
        let rows = self.session.rows(
            "SELECT s.name, o.name FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id \
             WHERE o.type IN ('U', 'V')",
            Vec::new(),
            "listing the target's tables",
        )?;
        let mut existing = HashSet::new();
        for r in rows {
            let mut cells = r.into_iter();
            let (Some(s), Some(n)) = (
                cells.next().and_then(cell_text),
                cells.next().and_then(cell_text),
            ) else {
                continue;
            };
            if n != JOURNAL_TABLE {
                existing.insert((s.to_lowercase(), n.to_lowercase()));
            }
        }
        // Names compare as the database's default collation does: without
        // regard to case, in the usual case-insensitive collations.
        Ok(tables
            .iter()
            .filter(|t| existing.contains(&(schema_of(t).to_lowercase(), t.name.to_lowercase())))
            .cloned()
            .collect())
    }

    /// Creates `table` without keys or indexes, and its schema if the
    /// target lacks it ([`bru_core::Target::create_table`]).
    pub(super) fn create_bare_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let context = format!("creating table {}", table.name);
        crate::trust::check_table(table, &declared_for(table))
            .map_err(|e| untrusted(&context, e))?;
        let built = if self.session.babelfish && ddl::is_translated(table) {
            // Babelfish for PostgreSQL refuses a computed column of text
            // ("generation expression is not immutable": its nvarchar
            // concatenation is not), which SQL Server takes: there such a
            // column is a plain one with the source's values.
            let mut plain = table.clone();
            let mut notes = Vec::new();
            for c in plain.columns.iter_mut() {
                if matches!(c.ty, bru_core::ColumnType::Text { .. }) {
                    if let Some(g) = c.generated.take() {
                        notes.push(format!(
                            "table {}, column {}: the generated expression `{}` was not \
                             carried: Babelfish for PostgreSQL takes no computed column of \
                             text; the column holds the source's values",
                            table.name, c.name, g.expr
                        ));
                    }
                }
            }
            let mut built = ddl::create_table(&plain)?;
            built.skipped.extend(notes);
            built
        } else {
            ddl::create_table(table)?
        };
        let schema = schema_of(&table.name);
        let create_schema = format!(
            "IF SCHEMA_ID({}) IS NULL EXEC(N'CREATE SCHEMA {}')",
            nstr(schema),
            ident(schema).replace('\'', "''")
        );
        let schema_context = format!("creating schema {schema}");
        if let Err(e) = self.session.batch(&create_schema, &schema_context) {
            // Another session of this restore may have created it just
            // now (the check and the create are not one step).
            let exists = !self
                .session
                .rows(
                    "SELECT 1 WHERE SCHEMA_ID(@P1) IS NOT NULL",
                    vec![text_param(schema)],
                    &schema_context,
                )?
                .is_empty();
            if !exists {
                return Err(e);
            }
        }
        let created = self.run_once(&format!("table {}", table.name), &built.sql, &context)?;
        if created {
            for line in built.skipped {
                self.shared.skip(line);
            }
        }
        Ok(())
    }

    /// The columns of `table` in the target, in order; an error naming it
    /// when it does not exist.
    pub(super) fn target_columns(
        &mut self,
        table: &TableName,
    ) -> bru_core::Result<Vec<TargetColumn>> {
        let context = format!("reading the columns of {table} in the target");
        let rows = self.session.rows(
            "SELECT c.name, CASE WHEN t.is_user_defined = 1 AND t.is_assembly_type = 0 \
                    THEN TYPE_NAME(c.system_type_id) ELSE t.name END, \
                    CAST(c.max_length AS int), CAST(c.precision AS int), CAST(c.scale AS int), \
                    CAST(c.is_identity AS int), CAST(c.is_computed AS int), c.collation_name \
               FROM sys.columns c JOIN sys.types t ON t.user_type_id = c.user_type_id \
              WHERE c.object_id = OBJECT_ID(@P1) ORDER BY c.column_id",
            vec![text_param(&qualified(table))],
            &context,
        )?;
        if rows.is_empty() {
            return Err(Error::engine(
                context,
                format!("table {table} does not exist in the target; restore without --data-only to create it"),
            ));
        }
        let mut columns = Vec::with_capacity(rows.len());
        for r in rows {
            let cells: Vec<ColumnData<'static>> = r.into_iter().collect();
            let mut cells = cells.into_iter();
            let mut next_text = || cells.next().and_then(cell_text);
            let name = next_text().unwrap_or_default();
            let type_name = next_text().unwrap_or_default().to_lowercase();
            let num = |s: Option<String>| s.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
            let max_length = num(next_text()) as i16;
            let precision = num(next_text()) as u8;
            let scale = num(next_text()) as u8;
            let is_identity = num(next_text()) == 1;
            let is_computed = num(next_text()) == 1;
            let collation = next_text();
            columns.push(TargetColumn {
                name,
                ty: SqlType {
                    name: type_name,
                    max_length,
                    precision,
                    scale,
                    code_page: CodePage::Ascii,
                },
                is_identity,
                is_computed,
            });
            let last = columns.last_mut().expect("just pushed");
            last.ty.code_page = self.code_page(collation.as_deref())?;
        }
        Ok(columns)
    }

    /// How a `char`/`varchar` column of `collation` stores characters.
    fn code_page(&mut self, collation: Option<&str>) -> bru_core::Result<CodePage> {
        let Some(collation) = collation else {
            return Ok(CodePage::Ascii);
        };
        if self.session.babelfish {
            return Ok(CodePage::from_code_page(None, true));
        }
        let rows = self.session.rows(
            "SELECT CAST(COLLATIONPROPERTY(@P1, 'CodePage') AS int)",
            vec![text_param(collation)],
            "reading a collation's code page",
        )?;
        let cp = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(cell_int)
            .map(|c| c as i32);
        Ok(CodePage::from_code_page(cp, false))
    }

    /// `--data-only`: every archive column exists in the target table, is
    /// not computed there, and is of a type values can be written into.
    pub(super) fn check_columns(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let columns = self.target_columns(&table.name)?;
        for c in &table.columns {
            let t = columns
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&c.name))
                .ok_or_else(|| {
                    Error::engine(
                        format!("checking table {}", table.name),
                        format!("column {} does not exist in the target table", c.name),
                    )
                })?;
            if t.is_computed && c.generated.is_none() {
                return Err(Error::engine(
                    format!("checking table {}", table.name),
                    format!(
                        "column {} is computed in the target, but holds data in the archive",
                        c.name
                    ),
                ));
            }
        }
        Ok(())
    }
}
