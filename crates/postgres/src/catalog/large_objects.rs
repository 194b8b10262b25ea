//! Large objects (`pg_largeobject_metadata`): listed, one by one, by oid.
//!
//! pg_dump carries each large object as a `BLOB` entry (created with
//! `lo_create(oid)`, given its owner, ACL and comment) and its bytes as
//! `BLOBS` data (dumpLO / dumpBlobs in pg_dump.c). bru does not carry them
//! yet: their bytes would have to travel through the archive's chunked data
//! path (a large object can be gigabytes) and be restored by functions the
//! trust checker allows only on the oids the archive declares. Until then
//! each one is an object that is not carried, named by its oid with its
//! owner and what else it has, so a backup and a restore list it as skipped
//! rather than lose it without a word.

use bru_core::{Error, ObjectKind};

use crate::conn::Conn;

use super::{each_row, not_carried, Read};

/// The catalog table large objects are read from (their dependency sort
/// key with the oid).
const CLASS: &str = "pg_largeobject_metadata";

/// One not-carried object per large object, in oid order.
pub(super) fn read_large_objects(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        "SELECT m.oid, pg_catalog.pg_get_userbyid(m.lomowner)::text, m.lomacl IS NOT NULL,
                pg_catalog.obj_description(m.oid, 'pg_largeobject') IS NOT NULL
           FROM pg_catalog.pg_largeobject_metadata m
          ORDER BY m.oid",
        &[],
        "reading large objects",
        |r| {
            let oid: u32 = get!(r, 0);
            let owner: String = get!(r, 1);
            let acl: bool = get!(r, 2);
            let comment: bool = get!(r, 3);
            let mut with = vec![format!("owner {owner}")];
            if acl {
                with.push("privileges".into());
            }
            if comment {
                with.push("a comment".into());
            }
            let reason = format!(
                "large object {oid} (its data, {}) is not carried by bru yet; \
                 pg_dump carries large objects",
                with.join(", ")
            );
            Ok(Read::new(
                not_carried(
                    ObjectKind::Other("large object".into()),
                    None,
                    &oid.to_string(),
                    reason,
                ),
                CLASS,
                oid,
            ))
        },
    )
}
