//! Change capture: a source that can name the rows changed since a
//! position it keeps (PostgreSQL: a logical replication slot), so that a
//! delta re-reads only those rows instead of every table.
//!
//! The source does not replay changes: it names the **keys** that were
//! inserted, updated or deleted, and the delta reads those keys again in
//! its own snapshot (a key no longer there was deleted). Reading a key
//! twice is harmless, so a change named by two deltas, or one that is
//! already in the full backup, ends the same; a change named by none would
//! be lost, so [`Source::read_changes`](crate::Source::read_changes) names
//! every change visible in the snapshot, and the slot moves past them only
//! once the delta archive that holds them is complete.

use crate::TableName;

/// What changed since a slot's position, as named by
/// [`Source::read_changes`](crate::Source::read_changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedChanges {
    /// Where the slot stood when read (the changes are from here on).
    pub from: String,
    /// Where the slot may move once the delta holding these changes is
    /// complete: past every change the snapshot sees, and no further;
    /// `None` when there is nothing to move past.
    pub upto: Option<String>,
    /// Each table with a change (in no particular order).
    pub tables: Vec<(TableName, TableChanges)>,
}

/// How one table changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableChanges {
    /// Rows of these keys were inserted, updated or deleted: the values of
    /// the table's primary key columns in their order, each in the source's
    /// text form (for integer and text columns: the decimal number, the
    /// text itself). No key twice.
    Keys(Vec<Vec<String>>),
    /// Changed in a way that names no keys (a TRUNCATE, a table without a
    /// primary key, a key column that is not an integer or text): read it
    /// whole.
    Whole,
}

impl CapturedChanges {
    /// The changes of `table`, if it has any.
    pub fn of(&self, table: &TableName) -> Option<&TableChanges> {
        self.tables.iter().find(|(t, _)| t == table).map(|(_, c)| c)
    }
}
