//! The restore plan: every step of a restore and what each waits for.
//!
//! A plan is plain data built from the archive's catalog and per-table
//! totals, without any database, so it can be printed (`--dry-run`) and
//! tested on its own. The executor (module `execute`, driven by
//! [`crate::RestoreJob::run`]) then runs its steps on as many target sessions
//! as it has, each step as soon as the steps it depends on are done:
//!
//! - pre-data objects (schemas, types, sequences, functions), in catalog
//!   order, then the tables, which may use them;
//! - per table, its rows in ranges of chunks: a large table is split so that
//!   several sessions load it at once;
//! - per table, once all its ranges are in: the row count and checksum of
//!   the ranges together are compared with the archive's totals, and the
//!   identity / AUTOINCREMENT counters set ("complete data");
//! - per table, its indexes and constraints as soon as its own data is in,
//!   not after all tables;
//! - per table with foreign keys, the keys once that table's rows are in and
//!   every table it references is finished, before the table's own indexes
//!   (see below);
//! - post-data objects (views, triggers...), in catalog order, after all
//!   tables.
//!
//! Among the steps that are ready, the executor takes the one with the lowest
//! [`Step::rank`] (through the one ready heap of module `schedule`, which
//! also gives [`Plan::sequential_order`]): by [`Phase`] first, a table's
//! finishing steps before new loads (so index builds start early and
//! overlap other loads), and loads of the tables with the most rows first:
//! a table's index builds and key checks come after its last row and scale
//! with its row count, so the table with the most rows has the longest tail;
//! its load starts first, on every session, so that its tail starts as early
//! as possible and the other tables load alongside it (ranking by bytes put
//! a table of few wide rows first and delayed it). A
//! table that another references ranks just ahead of it, so that its keys
//! exist by the time the referencing table's rows are in.
//!
//! With more than one session, a table with more than one index (its primary
//! key's and unique constraints' included) gets one step per index, which
//! different sessions run at the same time, then the step that attaches the
//! constraints to them and adds the rest: a large table's index builds are
//! the longest steps at the end of a restore, and one after another they
//! would leave the other sessions idle.
//!
//! A table's foreign keys are checked before its own indexes are built
//! (unless the table is on a cycle of references, itself included, where
//! that order could not be kept): the check reads the table and the
//! referenced key, not the table's own indexes, and it runs on one core,
//! so it is better done while other sessions still load than last of all,
//! when it would leave the other cores idle. PostgreSQL builds a large index
//! with parallel workers, which fill the end of the restore instead.

use std::cmp::Reverse;

use bru_core::{IndexPart, ObjectDef, TableDef};
use serde::Serialize;

use super::options::RestoreMode;
use super::ranges::share;
pub use super::ranges::{ranges, MIN_RANGE_CHUNKS};
use super::refs::{load_ranks, on_cycle, references};
use super::schedule::{dependents, Schedule};
pub use super::step::{Action, Phase, Rank, Step};

/// One table as the planner sees it.
#[derive(Debug, Clone)]
pub struct PlanTable {
    pub def: TableDef,
    pub chunks: u64,
    pub rows: u64,
    /// Uncompressed bytes, the measure of a table's size.
    pub raw_bytes: u64,
}

/// A restore plan (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// How many sessions the plan was split for.
    pub sessions: usize,
}

/// Pushes a create step for every table, each after the pre-data objects
/// (`pre_done`) and after the tables it must be created after (a partition's
/// or an inheriting table's parent, [`bru_core::TableDef::created_after`]).
/// Parents are pushed before their children whatever the catalog order;
/// a parent outside the restore is not waited for. Returns each table's step.
fn create_tables(
    b: &mut Builder,
    tables: &[PlanTable],
    pre_done: Option<usize>,
) -> Vec<Option<usize>> {
    let mut created: Vec<Option<usize>> = vec![None; tables.len()];
    let index: std::collections::HashMap<&bru_core::TableName, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (&t.def.name, i))
        .collect();
    // Depth-first over `created_after`, visiting each table once; `visiting`
    // breaks (impossible) cycles instead of recursing forever.
    fn visit(
        t: usize,
        b: &mut Builder,
        tables: &[PlanTable],
        index: &std::collections::HashMap<&bru_core::TableName, usize>,
        pre_done: Option<usize>,
        created: &mut Vec<Option<usize>>,
        visiting: &mut Vec<bool>,
    ) {
        if created[t].is_some() || visiting[t] {
            return;
        }
        visiting[t] = true;
        let mut deps: Vec<usize> = pre_done.into_iter().collect();
        for parent in &tables[t].def.created_after {
            if let Some(&p) = index.get(parent) {
                visit(p, b, tables, index, pre_done, created, visiting);
                deps.extend(created[p]);
            }
        }
        let label = format!("create table {}", tables[t].def.name);
        created[t] = Some(b.push(
            Action::CreateTable { table: t },
            label,
            deps,
            Phase::CreateTables,
            0,
        ));
    }
    let mut visiting = vec![false; tables.len()];
    for t in 0..tables.len() {
        visit(t, b, tables, &index, pre_done, &mut created, &mut visiting);
    }
    created
}

/// Makes a table's indexes and constraints (`finish_starts` and
/// `finished`) wait for those of the tables created after it
/// (`created_after`: its partitions, its children): a partitioned table
/// attaches its partitions' indexes to its own, and its keys are whole (a
/// foreign key to it can be added) only then; and an index of its built
/// while a partition is still being attached would make that partition an
/// index of its own. A child with foreign keys of its own is left out,
/// since those may wait for the parent in turn.
fn after_children(
    b: &mut Builder,
    tables: &[PlanTable],
    refs: &[Vec<usize>],
    finished: &[Option<usize>],
    finish_starts: &[Vec<usize>],
) {
    let index: std::collections::HashMap<&bru_core::TableName, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (&t.def.name, i))
        .collect();
    for (t, table) in tables.iter().enumerate() {
        if !refs[t].is_empty() {
            continue;
        }
        for parent in &table.def.created_after {
            let (Some(&p), Some(child)) = (index.get(parent), finished[t]) else {
                continue;
            };
            for &step in finished[p].iter().chain(&finish_starts[p]) {
                if !b.steps[step].deps.contains(&child) {
                    b.steps[step].deps.push(child);
                }
            }
        }
    }
}

impl Plan {
    /// Builds the plan for `tables` and `objects` in `mode`, splitting large
    /// tables into up to `sessions` ranges of chunks.
    pub fn build(
        tables: &[PlanTable],
        objects: &[ObjectDef],
        mode: RestoreMode,
        sessions: usize,
    ) -> Plan {
        let mut b = Builder::default();
        let schema = mode != RestoreMode::DataOnly;
        let data = mode != RestoreMode::SchemaOnly;

        let mut pre_done = None;
        if schema {
            for (i, o) in objects.iter().enumerate().filter(|(_, o)| o.is_pre_data()) {
                let deps = pre_done.into_iter().collect();
                let label = format!("create {} {}", o.kind, o.name);
                pre_done = Some(b.push(
                    Action::CreateObject { object: i },
                    label,
                    deps,
                    Phase::PreData,
                    0,
                ));
            }
        }

        let defs: Vec<&TableDef> = tables.iter().map(|t| &t.def).collect();
        let refs = references(&defs);
        let rows: Vec<u64> = tables.iter().map(|t| t.rows).collect();
        let load_rank = load_ranks(&rows, &refs);
        // Per table: the step after which its rows are in, the steps that
        // start its indexes and constraints, and the step after which they
        // are all in.
        let mut finished = vec![None; tables.len()];
        let mut finish_starts: Vec<Vec<usize>> = vec![Vec::new(); tables.len()];
        let mut data_in = vec![None; tables.len()];
        let created = if schema {
            create_tables(&mut b, tables, pre_done)
        } else {
            vec![None; tables.len()]
        };
        for (t, table) in tables.iter().enumerate() {
            let name = &table.def.name;
            let size = load_rank[t];
            let created = created[t];
            let mut ready = created;
            if data {
                let mut loads = Vec::new();
                for (first, end) in ranges(table.chunks, sessions) {
                    let share = |total: u64| share(total, end - first, table.chunks);
                    let label = if first == 0 && end == table.chunks {
                        format!("load table {name}, {} chunk(s)", table.chunks)
                    } else {
                        format!("load table {name}, chunks {first}-{}", end - 1)
                    };
                    let id = b.push(
                        Action::LoadChunks {
                            table: t,
                            first,
                            end,
                        },
                        label,
                        created.into_iter().collect(),
                        Phase::Load,
                        size,
                    );
                    b.steps[id].rows = share(table.rows);
                    b.steps[id].bytes = share(table.raw_bytes);
                    loads.push(id);
                }
                let deps = if loads.is_empty() {
                    created.into_iter().collect()
                } else {
                    loads
                };
                let id = b.push(
                    Action::CompleteData { table: t },
                    format!("check the rows of table {name} and set its counters"),
                    deps,
                    Phase::FinishTables,
                    0,
                );
                b.steps[id].rows = table.rows;
                b.steps[id].bytes = table.raw_bytes;
                ready = Some(id);
            }
            data_in[t] = ready;
            if schema {
                // With more than one session, a table's indexes are built
                // side by side (module docs), the constraints attached after.
                let parts = if sessions > 1 {
                    IndexPart::all(&table.def)
                } else {
                    Vec::new()
                };
                let mut deps: Vec<usize> = ready.into_iter().collect();
                if parts.len() > 1 {
                    let builds: Vec<usize> = parts
                        .into_iter()
                        .map(|part| {
                            let label = format!("index {} of table {name}", part.name(&table.def));
                            let action = Action::BuildIndex { table: t, part };
                            b.push(action, label, deps.clone(), Phase::FinishTables, table.rows)
                        })
                        .collect();
                    deps = builds.clone();
                    finish_starts[t] = builds;
                }
                let id = b.push(
                    Action::FinishTable { table: t },
                    format!("indexes and constraints of table {name}"),
                    deps,
                    Phase::FinishTables,
                    0,
                );
                if finish_starts[t].is_empty() {
                    finish_starts[t].push(id);
                }
                finished[t] = Some(id);
            }
        }
        if schema {
            after_children(&mut b, tables, &refs, &finished, &finish_starts);
        }

        let mut tables_done: Vec<usize> = finished.iter().flatten().copied().collect();
        if schema {
            for (t, table) in tables.iter().enumerate() {
                if table.def.foreign_keys.is_empty() {
                    continue;
                }
                // Before the table's own indexes (module docs) when no
                // referenced table waits, through its references, for this one.
                let keys_first = !on_cycle(t, &refs);
                let mut deps: Vec<usize> = if keys_first {
                    data_in[t].into_iter().collect()
                } else {
                    finished[t].into_iter().collect()
                };
                for &r in &refs[t] {
                    if let Some(step) = finished[r] {
                        if !deps.contains(&step) {
                            deps.push(step);
                        }
                    }
                }
                let id = b.push(
                    Action::AddForeignKeys { table: t },
                    format!("foreign keys of table {}", table.def.name),
                    deps,
                    Phase::FinishTables,
                    0,
                );
                if keys_first {
                    for &f in &finish_starts[t] {
                        b.steps[f].deps.push(id);
                    }
                }
                tables_done.push(id);
            }

            let mut previous: Option<usize> = None;
            for (i, o) in objects.iter().enumerate().filter(|(_, o)| !o.is_pre_data()) {
                // The first waits for every table, and for the pre-data
                // objects themselves: with no tables (a database of
                // functions, operators and their comments) nothing else
                // would order it after them.
                let deps = match previous {
                    Some(p) => vec![p],
                    None => tables_done.iter().copied().chain(pre_done).collect(),
                };
                let label = format!("create {} {}", o.kind, o.name);
                previous = Some(b.push(
                    Action::CreateObject { object: i },
                    label,
                    deps,
                    Phase::PostData,
                    0,
                ));
            }
        }
        if !schema {
            for (i, o) in objects.iter().enumerate().filter(|(_, o)| o.data.is_some()) {
                let label = format!("set the value of {} {}", o.kind, o.name);
                b.push(
                    Action::RestoreObjectData { object: i },
                    label,
                    Vec::new(),
                    Phase::PostData,
                    0,
                );
            }
        }
        Plan {
            steps: b.steps,
            sessions: sessions.max(1),
        }
    }

    /// For each step, the steps that depend on it.
    pub fn dependents(&self) -> Vec<Vec<usize>> {
        dependents(self.steps.iter().map(|s| s.deps.as_slice()))
    }

    /// The ready heap over this plan's steps (module `schedule`), which both
    /// [`Plan::sequential_order`] and the executor take steps from.
    pub(crate) fn schedule(&self) -> Schedule<Rank> {
        let steps: Vec<(Rank, &[usize])> = self
            .steps
            .iter()
            .map(|s| (s.rank, s.deps.as_slice()))
            .collect();
        Schedule::new(&steps)
    }

    /// The steps in the order one session runs them: repeatedly the ready
    /// step of lowest rank. This is the order the executor follows when the
    /// target offers a single session, and the order `--dry-run` prints.
    pub fn sequential_order(&self) -> Vec<usize> {
        let mut schedule = self.schedule();
        let mut order = Vec::with_capacity(self.steps.len());
        while let Some(id) = schedule.take() {
            order.push(id);
            schedule.done(id);
        }
        order
    }
}

#[derive(Default)]
struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    fn push(
        &mut self,
        action: Action,
        label: String,
        deps: Vec<usize>,
        phase: Phase,
        size: u64,
    ) -> usize {
        let id = self.steps.len();
        self.steps.push(Step {
            id,
            action,
            label,
            deps,
            rows: 0,
            bytes: 0,
            rank: Rank {
                phase,
                size: Reverse(size),
                id,
            },
        });
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{Column, ColumnType, ForeignKey, ObjectKind, TableName};

    fn table(name: &str, chunks: u64, refs: &[&str]) -> PlanTable {
        PlanTable {
            def: TableDef {
                name: TableName::bare(name),
                columns: vec![Column {
                    name: "id".into(),
                    ty: ColumnType::Int64,
                    native_type: "INTEGER".into(),
                    nullable: false,
                    default: None,
                    identity: None,
                    generated: None,
                }],
                primary_key: None,
                uniques: Vec::new(),
                indexes: Vec::new(),
                foreign_keys: refs
                    .iter()
                    .map(|r| ForeignKey {
                        name: None,
                        columns: vec!["id".into()],
                        ref_table: TableName::bare(r),
                        ref_columns: vec!["id".into()],
                        on_delete: Default::default(),
                        on_update: Default::default(),
                        deferrable: false,
                        initially_deferred: false,
                    })
                    .collect(),
                checks: Vec::new(),
                native: None,
                properties: Default::default(),
                estimated_rows: None,
                created_after: Vec::new(),
                translated_for: None,
            },
            chunks,
            rows: chunks * 100,
            raw_bytes: chunks * 1000,
        }
    }

    fn object(kind: ObjectKind, name: &str) -> ObjectDef {
        ObjectDef::new(kind, TableName::bare(name), "sqlite", "")
    }

    #[test]
    fn parents_are_created_before_their_partitions_whatever_the_catalog_order() {
        let mut part = table("measurements_2026", 2, &[]);
        part.def.created_after = vec![TableName::bare("measurements")];
        let tables = [part, table("other", 1, &[]), table("measurements", 0, &[])];
        let plan = Plan::build(&tables, &[], RestoreMode::Full, 2);
        let parent = find(&plan, Action::CreateTable { table: 2 });
        let child = find(&plan, Action::CreateTable { table: 0 });
        assert!(plan.steps[child].deps.contains(&parent), "{plan:#?}");
        let order = plan.sequential_order();
        let pos = |id: usize| order.iter().position(|&s| s == id).unwrap();
        assert!(pos(parent) < pos(child));
        // And finished after them: it attaches their indexes to its own.
        let parent_done = find(&plan, Action::FinishTable { table: 2 });
        let child_done = find(&plan, Action::FinishTable { table: 0 });
        assert!(
            plan.steps[parent_done].deps.contains(&child_done),
            "{plan:#?}"
        );
        assert!(pos(child_done) < pos(parent_done));
        // A parent that is not restored is not waited for.
        let mut orphan = table("orphan_part", 1, &[]);
        orphan.def.created_after = vec![TableName::bare("not_selected")];
        let plan = Plan::build(&[orphan], &[], RestoreMode::Full, 2);
        let create = find(&plan, Action::CreateTable { table: 0 });
        assert!(plan.steps[create].deps.is_empty(), "{plan:#?}");
    }

    fn find(plan: &Plan, action: Action) -> usize {
        plan.steps
            .iter()
            .position(|s| s.action == action)
            .unwrap_or_else(|| panic!("no step {action:?} in {plan:#?}"))
    }

    /// Every dependency of every step is run before it, in the sequential
    /// order, and every step is run exactly once.
    fn assert_topological(plan: &Plan) -> Vec<usize> {
        let order = plan.sequential_order();
        assert_eq!(
            order.len(),
            plan.steps.len(),
            "some step never becomes ready"
        );
        let mut position = vec![usize::MAX; plan.steps.len()];
        for (i, &id) in order.iter().enumerate() {
            assert_eq!(position[id], usize::MAX, "step {id} runs twice");
            position[id] = i;
        }
        for step in &plan.steps {
            for &d in &step.deps {
                assert!(
                    position[d] < position[step.id],
                    "{step:?} before its dependency {d}"
                );
            }
        }
        position
    }

    fn sample() -> (Vec<PlanTable>, Vec<ObjectDef>) {
        let tables = vec![
            table("sites", 2, &[]),
            table("agents", 9, &["sites"]),
            table("schedules", 40, &["agents", "sites"]),
            table("empty", 0, &[]),
        ];
        let objects = vec![
            object(ObjectKind::Schema, "hr"),
            object(ObjectKind::View, "v_agents"),
            object(ObjectKind::Type, "mood"),
            object(ObjectKind::Trigger, "t_audit"),
        ];
        (tables, objects)
    }

    #[test]
    fn pre_data_objects_come_before_tables_and_post_data_after_everything() {
        let (tables, objects) = sample();
        let plan = Plan::build(&tables, &objects, RestoreMode::Full, 4);
        let position = assert_topological(&plan);
        let schema = find(&plan, Action::CreateObject { object: 0 });
        let ty = find(&plan, Action::CreateObject { object: 2 });
        let view = find(&plan, Action::CreateObject { object: 1 });
        let trigger = find(&plan, Action::CreateObject { object: 3 });
        assert!(position[schema] < position[ty], "catalog order kept");
        for t in 0..tables.len() {
            let create = find(&plan, Action::CreateTable { table: t });
            assert!(plan.steps[create].deps.contains(&ty));
            let finish = find(&plan, Action::FinishTable { table: t });
            assert!(position[finish] < position[view]);
        }
        for fk_table in [1, 2] {
            let fk = find(&plan, Action::AddForeignKeys { table: fk_table });
            assert!(position[fk] < position[view]);
        }
        assert!(position[view] < position[trigger]);
    }

    #[test]
    fn post_data_objects_wait_for_pre_data_ones_even_with_no_table() {
        let objects = vec![
            object(ObjectKind::Other("conversion".into()), "c"),
            object(ObjectKind::Comment, "c"),
        ];
        let mut objects = objects;
        objects[0].section = Some(bru_core::Section::PreData);
        let plan = Plan::build(&[], &objects, RestoreMode::Full, 4);
        assert_topological(&plan);
        let conversion = find(&plan, Action::CreateObject { object: 0 });
        let comment = find(&plan, Action::CreateObject { object: 1 });
        assert_eq!(plan.steps[comment].deps, vec![conversion]);
    }

    #[test]
    fn post_data_objects_wait_for_pre_data_ones_when_there_is_no_table() {
        let objects = [
            object(ObjectKind::Function, "f"),
            object(ObjectKind::View, "v"),
        ];
        let plan = Plan::build(&[], &objects, RestoreMode::Full, 2);
        let function = find(&plan, Action::CreateObject { object: 0 });
        let view = find(&plan, Action::CreateObject { object: 1 });
        assert!(plan.steps[view].deps.contains(&function), "{plan:#?}");
    }

    #[test]
    fn a_table_is_finished_after_all_its_ranges_and_checked_before() {
        let (tables, objects) = sample();
        let plan = Plan::build(&tables, &objects, RestoreMode::Full, 4);
        let position = assert_topological(&plan);
        let loads: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|s| matches!(s.action, Action::LoadChunks { table: 2, .. }))
            .collect();
        assert_eq!(loads.len(), 4, "40 chunks over 4 sessions");
        let mut covered = Vec::new();
        for s in &loads {
            if let Action::LoadChunks { first, end, .. } = s.action {
                covered.extend(first..end);
            }
        }
        assert_eq!(
            covered,
            (0..40).collect::<Vec<_>>(),
            "ranges cover every chunk once"
        );
        assert_eq!(loads.iter().map(|s| s.rows).sum::<u64>(), 4000);
        let complete = find(&plan, Action::CompleteData { table: 2 });
        let finish = find(&plan, Action::FinishTable { table: 2 });
        for s in &loads {
            assert!(plan.steps[complete].deps.contains(&s.id));
            assert!(position[s.id] < position[complete]);
        }
        let fk = find(&plan, Action::AddForeignKeys { table: 2 });
        assert_eq!(plan.steps[finish].deps, vec![complete, fk]);
        // A table without chunks still gets created, checked and finished.
        let complete_empty = find(&plan, Action::CompleteData { table: 3 });
        let create_empty = find(&plan, Action::CreateTable { table: 3 });
        assert_eq!(plan.steps[complete_empty].deps, vec![create_empty]);
    }

    #[test]
    fn foreign_keys_wait_for_the_rows_and_the_referenced_tables_then_own_indexes() {
        let (tables, objects) = sample();
        let plan = Plan::build(&tables, &objects, RestoreMode::Full, 2);
        assert_topological(&plan);
        let fk = find(&plan, Action::AddForeignKeys { table: 2 });
        let mut deps = plan.steps[fk].deps.clone();
        deps.sort();
        let mut expected = vec![
            find(&plan, Action::CompleteData { table: 2 }),
            find(&plan, Action::FinishTable { table: 1 }),
            find(&plan, Action::FinishTable { table: 0 }),
        ];
        expected.sort();
        assert_eq!(deps, expected);
        // The table's own indexes come after its foreign keys.
        let finish = find(&plan, Action::FinishTable { table: 2 });
        assert!(plan.steps[finish].deps.contains(&fk));
        // A table without foreign keys gets no such step.
        assert!(!plan
            .steps
            .iter()
            .any(|s| s.action == Action::AddForeignKeys { table: 0 }));
    }

    #[test]
    fn largest_tables_are_loaded_first_and_indexes_start_as_soon_as_possible() {
        let load_order = |tables: &[PlanTable]| -> Vec<usize> {
            let plan = Plan::build(tables, &[], RestoreMode::Full, 1);
            plan.sequential_order()
                .iter()
                .filter_map(|&id| match plan.steps[id].action {
                    Action::LoadChunks { table, .. } => Some(table),
                    _ => None,
                })
                .collect()
        };
        let unrelated = [
            table("small", 2, &[]),
            table("middle", 9, &[]),
            table("large", 40, &[]),
        ];
        assert_eq!(load_order(&unrelated), vec![2, 1, 0], "most rows first");
        // A rows-first order, except that referenced tables come just ahead
        // of the tables referencing them, through chains of references.
        let (tables, objects) = sample();
        assert_eq!(load_order(&tables), vec![0, 1, 2]);
        // A table's indexes are built before the next table loads.
        let plan = Plan::build(&tables, &objects, RestoreMode::Full, 1);
        let position = assert_topological(&plan);
        let finish = find(&plan, Action::FinishTable { table: 0 });
        let next_load = find(
            &plan,
            Action::LoadChunks {
                table: 1,
                first: 0,
                end: 9,
            },
        );
        assert!(position[finish] < position[next_load]);
    }

    #[test]
    fn tables_on_a_cycle_of_references_get_their_foreign_keys_last() {
        let tables = vec![
            table("a", 4, &["b"]),
            table("b", 4, &["a"]),
            table("tree", 4, &["tree"]),
            table("leaf", 4, &["a"]),
        ];
        let plan = Plan::build(&tables, &[], RestoreMode::Full, 2);
        assert_topological(&plan);
        for t in 0..3 {
            let fk = find(&plan, Action::AddForeignKeys { table: t });
            let finish = find(&plan, Action::FinishTable { table: t });
            assert!(plan.steps[fk].deps.contains(&finish), "table {t}");
            assert!(!plan.steps[finish].deps.contains(&fk), "table {t}");
        }
        // A table outside the cycle that references into it still checks
        // its keys before its own indexes.
        let fk = find(&plan, Action::AddForeignKeys { table: 3 });
        let finish = find(&plan, Action::FinishTable { table: 3 });
        assert!(plan.steps[finish].deps.contains(&fk));
    }

    #[test]
    fn a_tables_indexes_are_built_side_by_side_after_its_keys_are_checked() {
        let (mut tables, _) = sample();
        tables[2].def.primary_key = Some(bru_core::PrimaryKey {
            name: Some("schedules_pkey".into()),
            columns: vec!["id".into()],
        });
        tables[2].def.indexes.push(bru_core::IndexDef {
            name: "schedules_by_agent".into(),
            columns: vec!["id".into()],
            unique: false,
            predicate: None,
            method: None,
            native_ddl: None,
        });
        let plan = Plan::build(&tables, &[], RestoreMode::Full, 2);
        let position = assert_topological(&plan);
        let complete = find(&plan, Action::CompleteData { table: 2 });
        let fk = find(&plan, Action::AddForeignKeys { table: 2 });
        let finish = find(&plan, Action::FinishTable { table: 2 });
        let builds: Vec<usize> = [IndexPart::PrimaryKey, IndexPart::Index(0)]
            .into_iter()
            .map(|part| find(&plan, Action::BuildIndex { table: 2, part }))
            .collect();
        assert!(plan.steps[builds[0]].label.contains("schedules_pkey"));
        for &build in &builds {
            // Neither build waits for the other, both wait for the rows and
            // the key check, and the constraints come after both.
            assert_eq!(plan.steps[build].deps, vec![complete, fk]);
            assert!(plan.steps[finish].deps.contains(&build));
            assert!(position[fk] < position[build]);
        }
        // One session, or a single index: no separate builds.
        for plan in [
            Plan::build(&tables, &[], RestoreMode::Full, 1),
            Plan::build(&sample().0, &[], RestoreMode::Full, 2),
        ] {
            assert!(!plan
                .steps
                .iter()
                .any(|s| matches!(s.action, Action::BuildIndex { .. })));
        }
    }

    #[test]
    fn schema_only_and_data_only_plans() {
        let (tables, objects) = sample();
        let schema = Plan::build(&tables, &objects, RestoreMode::SchemaOnly, 4);
        assert_topological(&schema);
        assert!(!schema.steps.iter().any(|s| matches!(
            s.action,
            Action::LoadChunks { .. } | Action::CompleteData { .. }
        )));
        let finish = find(&schema, Action::FinishTable { table: 1 });
        let create = find(&schema, Action::CreateTable { table: 1 });
        let fk = find(&schema, Action::AddForeignKeys { table: 1 });
        assert_eq!(schema.steps[finish].deps, vec![create, fk]);

        // Data only: rows, and the values of objects that hold data (a
        // sequence), never the objects themselves.
        let mut objects = objects;
        objects.push(object(ObjectKind::Sequence, "badge_seq"));
        objects[4].data = Some("SELECT setval('badge_seq', 42, true)".into());
        let data = Plan::build(&tables, &objects, RestoreMode::DataOnly, 4);
        assert_topological(&data);
        assert!(data.steps.iter().all(|s| matches!(
            s.action,
            Action::LoadChunks { .. }
                | Action::CompleteData { .. }
                | Action::RestoreObjectData { object: 4 }
        )));
        find(&data, Action::RestoreObjectData { object: 4 });
        assert!(data
            .steps
            .iter()
            .filter(|s| matches!(s.action, Action::LoadChunks { .. }))
            .all(|s| s.deps.is_empty()));
    }
}
