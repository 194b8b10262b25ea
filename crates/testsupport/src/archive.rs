//! Editing an archive as an attacker would: after changing its catalog
//! definitions, recompute the catalog checksum from FORMAT.md ("Catalog
//! checksum"), independently of bru-format's own code, so that the
//! archive's own checks pass and only bru's other defences are left.

use rusqlite::Connection;

/// The catalog CRC32 of FORMAT.md: over the table definitions, then the
/// object definitions, each list as a u64 LE count and each definition as
/// a u64 LE length and its bytes, in id order.
pub fn catalog_crc(tables: &[String], objects: &[String]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for defs in [tables, objects] {
        h.update(&(defs.len() as u64).to_le_bytes());
        for d in defs {
            h.update(&(d.len() as u64).to_le_bytes());
            h.update(d.as_bytes());
        }
    }
    h.finalize()
}

/// Sets the archive's recorded catalog checksum (`bru_meta.catalog_crc32`)
/// to what its definitions, as they now stand, hash to.
pub fn reseal_catalog(conn: &Connection) {
    let defs = |table: &str| -> Vec<String> {
        conn.prepare(&format!("SELECT def FROM {table} ORDER BY id"))
            .expect("read the catalog")
            .query_map([], |r| r.get(0))
            .expect("read the catalog")
            .collect::<Result<_, _>>()
            .expect("read the catalog")
    };
    let crc = catalog_crc(&defs("bru_tables"), &defs("bru_objects"));
    conn.execute(
        "UPDATE bru_meta SET value = ?1 WHERE key = 'catalog_crc32'",
        [format!("{crc:08x}")],
    )
    .expect("write the catalog checksum");
}

/// Rewrites the catalog of `archive` as an attacker would: `edit` gets each
/// table definition (`"table"`) and object definition (`"object"`) as JSON,
/// in id order, and returns whether it changed it; the changed ones are
/// written back and the catalog is resealed ([`reseal_catalog`]). Returns
/// how many it changed; panics if none.
pub fn tamper(
    archive: &std::path::Path,
    mut edit: impl FnMut(&str, &mut serde_json::Value) -> bool,
) -> usize {
    let conn = Connection::open(archive).expect("open archive");
    let mut changed = 0;
    for (what, table) in [("table", "bru_tables"), ("object", "bru_objects")] {
        let rows: Vec<(i64, String)> = conn
            .prepare(&format!("SELECT id, def FROM {table} ORDER BY id"))
            .expect("read the catalog")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("read the catalog")
            .collect::<Result<_, _>>()
            .expect("read the catalog");
        for (id, def) in rows {
            let mut json: serde_json::Value = serde_json::from_str(&def).expect("catalog JSON");
            if edit(what, &mut json) {
                changed += 1;
                conn.execute(
                    &format!("UPDATE {table} SET def = ?1 WHERE id = ?2"),
                    rusqlite::params![json.to_string(), id],
                )
                .expect("write the catalog");
            }
        }
    }
    assert!(changed > 0, "the edit matched no catalog entry");
    reseal_catalog(&conn);
    changed
}
