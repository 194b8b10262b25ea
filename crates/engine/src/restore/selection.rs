//! The tables a restore selected, each with the totals the archive recorded.
//!
//! Built by [`super::RestoreJob::open`] and then only read: the planner sizes
//! steps by the totals, the executor loads and checks each table against
//! them, and the journal names its keys after the tables. It sits below all
//! three so that none of them has to reach into the `RestoreJob` facade.

use bru_format::{TableEntry, TableTotals};

use super::plan::PlanTable;

/// One selected table with the totals the archive recorded for it.
#[derive(Debug, Clone)]
pub(crate) struct JobTable {
    pub entry: TableEntry,
    pub totals: TableTotals,
    pub name: String,
}

impl JobTable {
    /// The table as the planner sees it: its definition and sizes.
    pub fn plan_table(&self) -> PlanTable {
        PlanTable {
            def: self.entry.def.clone(),
            chunks: self.totals.chunks,
            rows: self.totals.rows,
            raw_bytes: self.totals.raw_bytes,
        }
    }
}
