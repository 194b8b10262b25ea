//! Large objects (`pg_largeobject_metadata`), carried whole: each one an
//! entry, and all their bytes one table of pieces.
//!
//! pg_dump carries each large object as a `BLOB` entry (created with
//! `lo_create(oid)`, then given its owner, ACL and comment) and their bytes
//! as `BLOBS` data (dumpBlob / dumpBlobs in pg_dump.c). bru does the same
//! within its own shape:
//! - each large object is an object of kind [`LARGE_OBJECT`] named by its
//!   oid, whose statement is pg_dump's `SELECT pg_catalog.lo_create('<oid>')`,
//!   pre-data; its owner and privileges come from module `acl` (`ALTER LARGE
//!   OBJECT <oid> OWNER TO`, `GRANT … ON LARGE OBJECT <oid>`), its comment
//!   from here (`COMMENT ON LARGE OBJECT <oid> IS …`);
//! - their bytes are the rows of one table of the catalog,
//!   `pg_catalog.pg_largeobject` ([`pieces_table_name`]; `loid`, `offset`, `data`): every large object in oid
//!   order, cut into pieces of at most [`PIECE_BYTES`] bytes in offset
//!   order. The source reads them with `lo_get(oid, offset, length)` in its
//!   snapshot (module `source`), the target writes them with
//!   `lo_put(oid, offset, data)` (module `target::large_objects`).
//!
//! Why a table: the chunk pipeline is what bounds memory by chunk size
//! (however large an object is, a batch holds a few pieces), checksums and
//! verifies every byte, journals each committed chunk so a restore resumes,
//! and shows rows and bytes in `bru list`; a second data path would have to
//! do all of it again. The table is marked by the property
//! [`PIECES_PROPERTY`], whose value lists the oids its rows may write
//! (checked against the archive's own large objects by `crate::trust`), and
//! a PostgreSQL target never creates, drops or indexes it: it is
//! PostgreSQL's own `pg_catalog.pg_largeobject` in spirit, not a relation.
//! Every large object depends on the table, so a restore whose
//! `--include`/`--exclude` leaves it out leaves them out too, listed.

use bru_core::{Column, ColumnType, Error, ObjectDef, ObjectKind, Section, TableDef, TableName};

use crate::conn::Conn;
use crate::quote::quote_literal;

use super::{each_row, object};

/// The kind of a large object's entry (`ObjectKind::Other`).
pub(crate) const LARGE_OBJECT: &str = "large object";

/// The table property that makes a table the large objects' pieces: the
/// oids its rows are for, comma-separated, in oid order.
pub(crate) const PIECES_PROPERTY: &str = "postgres.large_objects";

/// The schema and name of the pieces table.
pub(crate) const PIECES_SCHEMA: &str = "pg_catalog";
pub(crate) const PIECES_NAME: &str = "pg_largeobject";

/// The most bytes one piece holds: 256 KiB, pg_dump's LOBBUFSIZE (16 KiB)
/// times 16, so that a 4 MiB chunk holds 16 pieces and a large object of
/// any size is read and written a piece at a time.
pub(crate) const PIECE_BYTES: i32 = 256 << 10;

/// The name of the pieces table.
pub(crate) fn pieces_table_name() -> TableName {
    TableName::new(Some(PIECES_SCHEMA), PIECES_NAME)
}

/// The oids `table`'s rows write into, if it is the pieces table; an error
/// names a malformed list.
pub(crate) fn pieces_oids(table: &TableDef) -> Option<Result<Vec<u32>, String>> {
    let listed = table.property(PIECES_PROPERTY)?;
    if listed.is_empty() {
        return Some(Ok(Vec::new()));
    }
    Some(
        listed
            .split(',')
            .map(|o| {
                o.parse::<u32>()
                    .map_err(|_| format!("lists {o:?} as a large object oid"))
            })
            .collect(),
    )
}

/// The pieces table for `oids`.
fn pieces_table(oids: &[u32]) -> TableDef {
    let mut table = TableDef::new(
        pieces_table_name(),
        vec![
            Column::new("loid", ColumnType::Int64, "oid").not_null(),
            Column::new("offset", ColumnType::Int64, "bigint").not_null(),
            Column::new("data", ColumnType::Binary { max_len: None }, "bytea").not_null(),
        ],
    );
    let listed: Vec<String> = oids.iter().map(u32::to_string).collect();
    table
        .properties
        .insert(PIECES_PROPERTY.into(), listed.join(","));
    table
}

/// What [`read_large_objects`] returns: the entries (each large object,
/// then the comments) and the pieces table, when there is any large object.
pub(super) struct LargeObjects {
    pub(super) objects: Vec<ObjectDef>,
    pub(super) comments: Vec<ObjectDef>,
    pub(super) pieces: Option<TableDef>,
}

/// Every large object, in oid order, with its comment and the pieces table.
pub(super) fn read_large_objects(conn: &Conn) -> Result<LargeObjects, Error> {
    let rows = each_row(
        conn,
        "SELECT m.oid, pg_catalog.obj_description(m.oid, 'pg_largeobject')
           FROM pg_catalog.pg_largeobject_metadata m
          ORDER BY m.oid",
        &[],
        "reading large objects",
        |r| {
            let oid: u32 = get!(r, 0);
            let comment: Option<String> = get!(r, 1);
            Ok((oid, comment))
        },
    )?;
    let mut out = LargeObjects {
        objects: Vec::new(),
        comments: Vec::new(),
        pieces: None,
    };
    if rows.is_empty() {
        return Ok(out);
    }
    let pieces = pieces_table(&rows.iter().map(|(oid, _)| *oid).collect::<Vec<_>>());
    let on_pieces = || Some(vec![pieces.name.clone()]);
    for (oid, comment) in rows {
        let mut def = object(
            ObjectKind::Other(LARGE_OBJECT.into()),
            None,
            &oid.to_string(),
            create_statement(oid),
        );
        def.section = Some(Section::PreData);
        def.depends_on = on_pieces();
        out.objects.push(def);
        if let Some(text) = comment {
            let mut c = object(
                ObjectKind::Comment,
                None,
                &oid.to_string(),
                format!("COMMENT ON LARGE OBJECT {oid} IS {}", quote_literal(&text)),
            );
            c.depends_on = on_pieces();
            out.comments.push(c);
        }
    }
    out.pieces = Some(pieces);
    Ok(out)
}

/// pg_dump's statement for a large object: `SELECT pg_catalog.lo_create('<oid>')`.
pub(crate) fn create_statement(oid: u32) -> String {
    format!("SELECT pg_catalog.lo_create('{oid}')")
}
