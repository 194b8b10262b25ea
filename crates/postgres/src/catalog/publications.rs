//! Logical replication: publications (FOR ALL TABLES, publish options),
//! their tables (with column lists and row filters) and schemas, and
//! subscriptions, as pg_dump's `dumpPublication`, `dumpPublicationTable`,
//! `dumpPublicationNamespace` and `dumpSubscription` write them. All
//! post-data.
//!
//! A publication's table is its own entry hanging on the table
//! ([`bru_core::ObjectDef::table`]), so a restore that leaves the table out
//! leaves the membership out, as pg_restore's `--table`. A subscription is
//! created as pg_dump creates it: `connect = false` (so it is disabled and
//! no replication slot is made or needed on the publisher), its slot name
//! kept; it must be enabled by hand (`ALTER SUBSCRIPTION … ENABLE`, after
//! `… REFRESH PUBLICATION` if wanted). Its connection string may hold a
//! password: the archive carries it, bru never prints it.

use bru_core::{Error, ObjectKind, Section, TableName};

use crate::conn::Conn;
use crate::quote::{ident, quote_literal};

use super::{each_row, object, Read};

/// The kind names, as the archive spells them.
pub(crate) const PUBLICATION: &str = "publication";
pub(crate) const PUBLICATION_TABLE: &str = "publication table";
pub(crate) const PUBLICATION_SCHEMA: &str = "publication schema";
pub(crate) const SUBSCRIPTION: &str = "subscription (created disabled: enable it by hand)";

fn post_data(def: bru_core::ObjectDef, class: &'static str, oid: u32) -> Read {
    let mut def = def;
    def.section = Some(Section::PostData);
    Read::new(def, class, oid)
}

/// Publications, then their tables, then their schemas, then
/// subscriptions of the current database.
pub(super) fn read_publications(conn: &Conn) -> Result<Vec<Read>, Error> {
    let mut out = each_row(
        conn,
        "SELECT p.oid, p.pubname::text, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete,
                p.pubtruncate, p.pubviaroot
         FROM pg_catalog.pg_publication p ORDER BY p.oid",
        &[],
        "reading publications",
        |r| {
            let name: String = get!(r, 1);
            let all: bool = get!(r, 2);
            let publish: Vec<&str> = [(3, "insert"), (4, "update"), (5, "delete"), (6, "truncate")]
                .into_iter()
                .map(|(i, what)| -> Result<Option<&str>, Error> {
                    let on: bool = get!(r, i);
                    Ok(on.then_some(what))
                })
                .collect::<Result<Vec<_>, Error>>()?
                .into_iter()
                .flatten()
                .collect();
            let via_root: bool = get!(r, 7);
            let ddl = format!(
                "CREATE PUBLICATION {}{} WITH (publish = '{}'{})",
                ident(&name),
                if all { " FOR ALL TABLES" } else { "" },
                publish.join(", "),
                if via_root {
                    ", publish_via_partition_root = true"
                } else {
                    ""
                }
            );
            let def = object(ObjectKind::Other(PUBLICATION.into()), None, &name, ddl);
            Ok(post_data(def, "pg_publication", get!(r, 0)))
        },
    )?;
    out.extend(each_row(
        conn,
        "SELECT pr.oid, p.pubname::text, n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text,
                CASE WHEN pr.prattrs IS NOT NULL THEN
                  ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(pr.prattrs) WITH ORDINALITY k(attnum, i)
                        JOIN pg_catalog.pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.attnum
                        ORDER BY k.i) END,
                pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)
         FROM pg_catalog.pg_publication_rel pr
         JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
         JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         ORDER BY pr.oid",
        &[],
        "reading publication tables",
        |r| {
            let publication: String = get!(r, 1);
            let schema: String = get!(r, 2);
            let table: String = get!(r, 3);
            let qtable: String = get!(r, 4);
            let columns: Option<Vec<String>> = get!(r, 5);
            let filter: Option<String> = get!(r, 6);
            let mut ddl = format!("ALTER PUBLICATION {} ADD TABLE ONLY {qtable}", ident(&publication));
            if let Some(columns) = columns {
                let columns: Vec<String> = columns.iter().map(|c| ident(c)).collect();
                ddl.push_str(&format!(" ({})", columns.join(", ")));
            }
            if let Some(f) = filter {
                ddl.push_str(&format!(" WHERE ({f})"));
            }
            let mut def = object(ObjectKind::Other(PUBLICATION_TABLE.into()), None, &publication, ddl);
            def.table = Some(TableName::new(Some(&schema), &table));
            Ok(post_data(def, "pg_publication_rel", get!(r, 0)))
        },
    )?);
    out.extend(each_row(
        conn,
        "SELECT pn.oid, p.pubname::text, n.nspname::text
         FROM pg_catalog.pg_publication_namespace pn
         JOIN pg_catalog.pg_publication p ON p.oid = pn.pnpubid
         JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid
         ORDER BY pn.oid",
        &[],
        "reading publication schemas",
        |r| {
            let publication: String = get!(r, 1);
            let schema: String = get!(r, 2);
            let ddl = format!(
                "ALTER PUBLICATION {} ADD TABLES IN SCHEMA {}",
                ident(&publication),
                ident(&schema)
            );
            let def = object(
                ObjectKind::Other(PUBLICATION_SCHEMA.into()),
                Some(&schema),
                &publication,
                ddl,
            );
            Ok(post_data(def, "pg_publication_namespace", get!(r, 0)))
        },
    )?);
    out.extend(read_subscriptions(conn)?);
    Ok(out)
}

/// The subscriptions of the current database, when the backup's role may
/// read them (`pg_subscription` is readable by superusers only; pg_dump
/// skips them otherwise, with a warning: bru lists them as not carried).
fn read_subscriptions(conn: &Conn) -> Result<Vec<Read>, Error> {
    let readable = conn.query(
        "SELECT pg_catalog.has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT')",
        &[],
        "reading subscriptions",
    )?;
    let readable: bool = match readable.first() {
        Some(r) => get!(r, 0),
        None => false,
    };
    if !readable {
        return each_row(
            conn,
            "SELECT s.oid, s.subname::text FROM pg_catalog.pg_subscription s
             JOIN pg_catalog.pg_database d ON d.oid = s.subdbid
             WHERE d.datname = pg_catalog.current_database() ORDER BY s.oid",
            &[],
            "reading subscriptions",
            |r| {
                let name: String = get!(r, 1);
                let reason = format!(
                    "subscription {name}: the backup's role may not read its connection; back \
                     up as a superuser to carry it"
                );
                let def =
                    super::not_carried(ObjectKind::Other(SUBSCRIPTION.into()), None, &name, reason);
                Ok(Read::new(def, "pg_subscription", get!(r, 0)))
            },
        );
    }
    each_row(
        conn,
        "SELECT s.oid, s.subname::text, s.subconninfo, s.subpublications::text[], s.subslotname::text,
                s.subbinary, s.substream, s.subtwophasestate::text, s.subdisableonerr,
                s.subsynccommit
         FROM pg_catalog.pg_subscription s
         JOIN pg_catalog.pg_database d ON d.oid = s.subdbid
         WHERE d.datname = pg_catalog.current_database() ORDER BY s.oid",
        &[],
        "reading subscriptions",
        |r| {
            let name: String = get!(r, 1);
            let conninfo: String = get!(r, 2);
            let publications: Vec<String> = get!(r, 3);
            let slot: Option<String> = get!(r, 4);
            let binary: bool = get!(r, 5);
            let stream: bool = get!(r, 6);
            let two_phase: String = get!(r, 7);
            let disable_on_error: bool = get!(r, 8);
            let sync: String = get!(r, 9);
            let publications: Vec<String> = publications.iter().map(|p| ident(p)).collect();
            let mut ddl = format!(
                "CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (connect = false, slot_name = {}",
                ident(&name),
                quote_literal(&conninfo),
                publications.join(", "),
                slot.as_deref().map_or("NONE".to_owned(), quote_literal)
            );
            if binary {
                ddl.push_str(", binary = true");
            }
            if stream {
                ddl.push_str(", streaming = on");
            }
            if two_phase != "d" {
                ddl.push_str(", two_phase = on");
            }
            if disable_on_error {
                ddl.push_str(", disable_on_error = true");
            }
            if sync != "off" {
                ddl.push_str(&format!(", synchronous_commit = {}", ident(&sync)));
            }
            ddl.push(')');
            let def = object(ObjectKind::Other(SUBSCRIPTION.into()), None, &name, ddl);
            Ok(post_data(def, "pg_subscription", get!(r, 0)))
        },
    )
}
