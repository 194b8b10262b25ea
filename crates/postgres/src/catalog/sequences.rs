//! Sequences: the options an identity column's or a sequence object's
//! sequence was made with ([`SeqInfo`]), and the sequence objects that are
//! not identity columns', created before the tables with their current
//! value and attached to their owning column afterwards.

use bru_core::{Error, ObjectDef, ObjectKind};
use tokio_postgres::Row;

use crate::conn::Conn;
use crate::quote::quote_literal;

use super::{not_extension_member, object, Read, USER_NAMESPACE};

/// A sequence's options and last value.
#[derive(Clone)]
pub(super) struct SeqInfo {
    pub(super) name: String,
    pub(super) start: i64,
    pub(super) increment: i64,
    pub(super) min: i64,
    pub(super) max: i64,
    pub(super) cache: i64,
    pub(super) cycle: bool,
    pub(super) type_name: String,
    pub(super) last_value: Option<i64>,
}

impl SeqInfo {
    /// The sequence `name` as the [`SEQ_COLUMNS`] of row `r` describe it,
    /// starting at column `first`.
    pub(super) fn from_row(r: &Row, name: String, first: usize) -> Result<SeqInfo, Error> {
        Ok(SeqInfo {
            name,
            start: get!(r, first),
            increment: get!(r, first + 1),
            min: get!(r, first + 2),
            max: get!(r, first + 3),
            cache: get!(r, first + 4),
            cycle: get!(r, first + 5),
            type_name: get!(r, first + 6),
            last_value: get!(r, first + 7),
        })
    }

    /// The options of CREATE SEQUENCE or of an identity column.
    pub(super) fn options(&self) -> String {
        format!(
            "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
            self.start,
            self.increment,
            self.min,
            self.max,
            self.cache,
            if self.cycle { " CYCLE" } else { "" }
        )
    }
}

/// The columns of [`SeqInfo`] in a query joining `pg_sequence s` and
/// `pg_sequences ps`.
pub(super) const SEQ_COLUMNS: &str =
    "s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
     pg_catalog.format_type(s.seqtypid, NULL), ps.last_value";

/// A serial (owned) sequence's value, for its table's
/// `postgres.owned_sequence.<sequence>` property: a `--data-only` restore
/// creates no sequence objects, so the table's restore sets it.
pub(super) struct OwnedValue {
    pub(super) table_oid: u32,
    pub(super) sequence: String,
    pub(super) last_value: i64,
}

/// Sequence objects, their ownership objects, and owned sequences' values.
type Sequences = (Vec<Read>, Vec<ObjectDef>, Vec<OwnedValue>);

/// Sequences that are not identity columns' (those come with their
/// table): created before the tables, with their current value, and
/// attached to their owning column afterwards. Also returns the values of
/// the sequences a table owns.
pub(super) fn read_sequences(conn: &Conn) -> Result<Sequences, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text, {SEQ_COLUMNS},
                    ps.last_value IS NOT NULL,
                    (SELECT d.refobjid::pg_catalog.regclass::text || '.' || pg_catalog.quote_ident(a.attname)
                       FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a
                         ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'a'
                      LIMIT 1),
                    (SELECT d.refobjid FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'a'
                      LIMIT 1),
                    c.relpersistence = 'u', c.oid
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
             LEFT JOIN pg_catalog.pg_sequences ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
             WHERE c.relkind = 'S' AND {USER_NAMESPACE} AND {}
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                               AND d.objid = c.oid AND d.deptype = 'i')
             ORDER BY c.oid",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading sequences",
    )?;
    let (mut seqs, mut owners, mut owned) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        let schema: String = get!(r, 0);
        let name: String = get!(r, 1);
        let seq = SeqInfo::from_row(r, get!(r, 2), 3)?;
        let called: bool = get!(r, 11);
        let owner: Option<String> = get!(r, 12);
        let owner_oid: Option<u32> = get!(r, 13);
        if let (Some(table_oid), true, Some(last_value)) = (owner_oid, called, seq.last_value) {
            owned.push(OwnedValue {
                table_oid,
                sequence: seq.name.clone(),
                last_value,
            });
        }
        let unlogged: bool = get!(r, 14);
        let mut ddl = format!(
            "CREATE {}SEQUENCE {} AS {} {}",
            if unlogged { "UNLOGGED " } else { "" },
            seq.name,
            seq.type_name,
            seq.options()
        );
        // pg_dump's SEQUENCE SET: the last value handed out, or the start
        // value not yet handed out.
        let value = match (called, seq.last_value) {
            (true, Some(last)) => format!("{last}, true"),
            _ => format!("{}, false", seq.start),
        };
        let data = format!(
            "SELECT pg_catalog.setval({}, {value})",
            quote_literal(&seq.name)
        );
        if called {
            ddl.push_str(&format!("; {data}"));
        }
        let mut sequence = object(ObjectKind::Sequence, Some(&schema), &name, ddl);
        sequence.data = Some(data);
        seqs.push(Read::new(sequence, "pg_class", get!(r, 15)));
        if let Some(col) = owner {
            owners.push(object(
                ObjectKind::SequenceOwnership,
                Some(&schema),
                &name,
                format!("ALTER SEQUENCE {} OWNED BY {col}", seq.name),
            ));
        }
    }
    Ok((seqs, owners, owned))
}
