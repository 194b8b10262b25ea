//! `--include` / `--exclude` table selection by glob.
//!
//! Patterns are shell globs (globset): `*` matches any run of characters,
//! including the `.` between schema and table, so `*` selects everything and
//! `audit_*` selects `audit_log` as well as `public.audit_log`.

use bru_core::{Catalog, TableName};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::Error;

/// Selects tables by name. A table is selected when it matches at least one
/// include pattern (or there are none) and no exclude pattern. Patterns match
/// the qualified name (`schema.table`) or the bare name.
#[derive(Debug, Clone)]
pub struct TableFilter {
    /// `None` when no include pattern was given: everything is included.
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Default for TableFilter {
    /// A filter that selects every table.
    fn default() -> Self {
        TableFilter {
            include: None,
            exclude: GlobSet::empty(),
        }
    }
}

impl TableFilter {
    /// Compiles the patterns; fails with [`Error::InvalidPattern`] on an
    /// invalid glob, naming it.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, Error> {
        let include = if include.is_empty() {
            None
        } else {
            Some(compile(include)?)
        };
        Ok(TableFilter {
            include,
            exclude: compile(exclude)?,
        })
    }

    /// Whether `table` is selected.
    pub fn matches(&self, table: &TableName) -> bool {
        let qualified = table.to_string();
        let hit = |set: &GlobSet| set.is_match(&qualified) || set.is_match(&table.name);
        self.include.as_ref().is_none_or(hit) && !hit(&self.exclude)
    }

    /// The part of `catalog` this filter selects: the selected tables, and the
    /// objects that either belong to a selected table or to no table at all
    /// (views are kept; a trigger of an excluded table is dropped with it).
    pub fn apply(&self, catalog: &Catalog) -> Catalog {
        Catalog {
            tables: catalog
                .tables
                .iter()
                .filter(|t| self.matches(&t.name))
                .cloned()
                .collect(),
            objects: catalog
                .objects
                .iter()
                .filter(|o| o.table.as_ref().is_none_or(|t| self.matches(t)))
                .cloned()
                .collect(),
        }
    }
}

fn compile(patterns: &[String]) -> Result<GlobSet, Error> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| Error::InvalidPattern {
            pattern: pattern.clone(),
            message: e.kind().to_string(),
        })?;
        builder.add(glob);
    }
    // Each glob compiled on its own above, so building the set can only fail
    // on limits of the regex engine; report it against all the patterns.
    builder.build().map_err(|e| Error::InvalidPattern {
        pattern: patterns.join(" "),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> TableFilter {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        TableFilter::new(&own(include), &own(exclude)).expect("valid patterns")
    }

    #[test]
    fn no_patterns_select_everything() {
        let f = filter(&[], &[]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(f.matches(&TableName::new(Some("hr"), "agents")));
    }

    #[test]
    fn include_matches_bare_or_qualified_name() {
        let f = filter(&["agents", "hr.sites"], &[]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(f.matches(&TableName::new(Some("public"), "agents")));
        assert!(f.matches(&TableName::new(Some("hr"), "sites")));
        assert!(!f.matches(&TableName::new(Some("ops"), "sites")));
        assert!(!f.matches(&TableName::bare("sites")));
    }

    #[test]
    fn exclude_wins_over_include() {
        let f = filter(&["*"], &["audit_*"]);
        assert!(f.matches(&TableName::bare("agents")));
        assert!(!f.matches(&TableName::bare("audit_log")));
        assert!(!f.matches(&TableName::new(Some("public"), "audit_log")));
    }

    #[test]
    fn star_crosses_the_schema_dot() {
        let f = filter(&["public.*"], &[]);
        assert!(f.matches(&TableName::new(Some("public"), "a")));
        assert!(!f.matches(&TableName::bare("a")));
    }

    #[test]
    fn invalid_glob_is_named() {
        let err = TableFilter::new(&["ok".into(), "bad[".into()], &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"bad[\""), "{msg}");
    }
}
