//! One step of a restore plan: what it does ([`Action`]), what it waits for,
//! its size, and its [`Rank`] among ready steps.
//!
//! The step types are the plan's vocabulary, shared by the planner that makes
//! them (module `plan`, which re-exports them as `bru_engine::plan::…`), the
//! executor that runs them and the journal that names them, so they sit
//! below all three. A step serialises (for `--dry-run --json`) as its id,
//! action, label, dependencies and sizes; its rank is left out, since the
//! printed order already shows it.

use std::cmp::Reverse;

use bru_core::IndexPart;
use serde::Serialize;

/// What a step does. Tables and objects are positions in the job's table and
/// object lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Create a non-table object (pre-data or post-data).
    CreateObject { object: usize },
    /// Create a table without its secondary indexes.
    CreateTable { table: usize },
    /// Load chunks `first..end` (archive sequence numbers) of a table.
    LoadChunks { table: usize, first: u64, end: u64 },
    /// Compare the table's rows read back, over all its ranges, with the
    /// archive's totals, and set its identity counters.
    CompleteData { table: usize },
    /// One index of a table (a key's or a secondary one), built ahead of
    /// [`Action::FinishTable`] and alongside the table's other indexes.
    BuildIndex { table: usize, part: IndexPart },
    /// Primary key, unique and check constraints, indexes (those the
    /// table's [`Action::BuildIndex`] steps did not build).
    FinishTable { table: usize },
    /// The table's foreign keys.
    AddForeignKeys { table: usize },
    /// `--data-only`: the data an existing object holds (a sequence's
    /// value, [`bru_core::ObjectDef::data`]).
    RestoreObjectData { object: usize },
}

/// One step of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: usize,
    pub action: Action,
    /// What the step does, for people (`load table agents, chunks 0-3`).
    pub label: String,
    /// Steps that must be done before this one starts.
    pub deps: Vec<usize>,
    /// Rows and uncompressed bytes the step loads (load steps), or its
    /// table's totals (other table steps); 0 for objects.
    pub rows: u64,
    pub bytes: u64,
    /// Order among ready steps: lower first (see the [plan's module
    /// docs](super::plan)). Not in the printed plan, whose order already
    /// shows it.
    #[serde(skip)]
    pub rank: Rank,
}

/// The kind of work a step is, the first key of its [`Rank`]: among ready
/// steps, a lower phase goes first ([plan's module docs](super::plan)).
///
/// The order is the point: [`Phase::FinishTables`] comes before
/// [`Phase::Load`], so that a table whose rows are in gets its checks and
/// index builds started before another load is begun, and these overlap
/// the loads still running on other sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Pre-data objects (schemas, types, sequences, functions).
    PreData,
    /// Creating a table.
    CreateTables,
    /// A table's steps after its rows: checking them and setting its
    /// counters, its indexes, constraints and foreign keys.
    FinishTables,
    /// Loading a range of a table's chunks.
    Load,
    /// Post-data objects (views, triggers...), and in a data-only restore
    /// the values objects hold.
    PostData,
}

/// Order among ready steps, compared field by field: the phase, then the
/// larger size first (rows to load, or a table's rows for its index
/// builds; see the [plan's module docs](super::plan)), then the step's id,
/// so that no two steps tie and the order is fully determined by the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rank {
    pub phase: Phase,
    pub size: Reverse<u64>,
    pub id: usize,
}
