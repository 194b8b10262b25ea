//! `--include` / `--exclude` table selection by glob.

/// Selects tables by name. A table is selected when it matches at least one
/// include pattern (or there are none) and no exclude pattern. Patterns match
/// the qualified name (`schema.table`) or the bare name.
#[derive(Debug, Clone)]
pub struct TableFilter {
    _private: (),
}

impl TableFilter {
    /// Compiles the patterns; fails on an invalid glob, naming it.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, crate::Error> {
        let _ = (include, exclude);
        todo!()
    }

    /// Whether `table` is selected.
    pub fn matches(&self, table: &bru_core::TableName) -> bool {
        let _ = table;
        todo!()
    }
}
