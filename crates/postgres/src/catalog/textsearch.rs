//! Text search parsers, templates, dictionaries (with their options) and
//! configurations (with their token mappings), as pg_dump's
//! `dumpTSParser`, `dumpTSTemplate`, `dumpTSDictionary` and `dumpTSConfig`
//! write them. They are pre-data ([`Section::PreData`]): a column default,
//! a CHECK or an index can name a configuration (`to_tsvector('public.cfg',
//! …)`), so it must exist before the tables. Parsers and templates name
//! their support functions, which are pre-data functions read before them.

use std::collections::HashMap;

use bru_core::{Error, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// The kind names of the four text search objects, as the archive spells
/// them (`{"other": "text search configuration"}`).
pub(crate) const PARSER: &str = "text search parser";
pub(crate) const TEMPLATE: &str = "text search template";
pub(crate) const DICTIONARY: &str = "text search dictionary";
pub(crate) const CONFIGURATION: &str = "text search configuration";

/// A pre-data object of kind `kind` named `schema.name`.
fn pre_data(
    kind: &str,
    schema: &str,
    name: &str,
    ddl: String,
    class: &'static str,
    oid: u32,
) -> Read {
    let mut def = object(ObjectKind::Other(kind.into()), Some(schema), name, ddl);
    def.section = Some(Section::PreData);
    Read::new(def, class, oid)
}

/// Every user text search object: parsers, templates, dictionaries, then
/// configurations (a dictionary uses a template, a configuration a parser
/// and dictionaries), each in oid order.
pub(super) fn read_text_search(conn: &Conn) -> Result<Vec<Read>, Error> {
    let mut out = read_parsers(conn)?;
    out.extend(read_templates(conn)?);
    out.extend(read_dictionaries(conn)?);
    out.extend(read_configurations(conn)?);
    Ok(out)
}

fn read_parsers(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT p.oid, n.nspname::text, p.prsname::text,
                    pg_catalog.format('CREATE TEXT SEARCH PARSER %I.%I (\n    START = %s,\n    GETTOKEN = %s,\n    END = %s,\n%s    LEXTYPES = %s )',
                      n.nspname, p.prsname, p.prsstart::pg_catalog.regproc, p.prstoken::pg_catalog.regproc,
                      p.prsend::pg_catalog.regproc,
                      CASE WHEN p.prsheadline <> 0
                        THEN pg_catalog.format('    HEADLINE = %s,\n', p.prsheadline::pg_catalog.regproc) ELSE '' END,
                      p.prslextype::pg_catalog.regproc)
             FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
             WHERE {USER_NAMESPACE} AND {} ORDER BY p.oid",
            not_extension_member("pg_ts_parser", "p.oid")
        ),
        &[],
        "reading text search parsers",
        |r| {
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            Ok(pre_data(PARSER, &schema, &name, get!(r, 3), "pg_ts_parser", get!(r, 0)))
        },
    )
}

fn read_templates(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT t.oid, n.nspname::text, t.tmplname::text,
                    pg_catalog.format('CREATE TEXT SEARCH TEMPLATE %I.%I (\n%s    LEXIZE = %s )',
                      n.nspname, t.tmplname,
                      CASE WHEN t.tmplinit <> 0
                        THEN pg_catalog.format('    INIT = %s,\n', t.tmplinit::pg_catalog.regproc) ELSE '' END,
                      t.tmpllexize::pg_catalog.regproc)
             FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
             WHERE {USER_NAMESPACE} AND {} ORDER BY t.oid",
            not_extension_member("pg_ts_template", "t.oid")
        ),
        &[],
        "reading text search templates",
        |r| {
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            Ok(pre_data(TEMPLATE, &schema, &name, get!(r, 3), "pg_ts_template", get!(r, 0)))
        },
    )
}

fn read_dictionaries(conn: &Conn) -> Result<Vec<Read>, Error> {
    // `dictinitoption` is the option list as the server deparsed it
    // (`stopwords = 'english', language = 'english'`): pg_dump puts it
    // straight into the statement, and so does bru.
    each_row(
        conn,
        &format!(
            "SELECT dc.oid, n.nspname::text, dc.dictname::text,
                    pg_catalog.format('CREATE TEXT SEARCH DICTIONARY %I.%I (\n    TEMPLATE = %I.%I%s )',
                      n.nspname, dc.dictname, tn.nspname, t.tmplname,
                      CASE WHEN dc.dictinitoption IS NOT NULL
                        THEN ',\n    ' || dc.dictinitoption ELSE '' END)
             FROM pg_catalog.pg_ts_dict dc JOIN pg_catalog.pg_namespace n ON n.oid = dc.dictnamespace
             JOIN pg_catalog.pg_ts_template t ON t.oid = dc.dicttemplate
             JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
             WHERE {USER_NAMESPACE} AND {} ORDER BY dc.oid",
            not_extension_member("pg_ts_dict", "dc.oid")
        ),
        &[],
        "reading text search dictionaries",
        |r| {
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            Ok(pre_data(DICTIONARY, &schema, &name, get!(r, 3), "pg_ts_dict", get!(r, 0)))
        },
    )
}

fn read_configurations(conn: &Conn) -> Result<Vec<Read>, Error> {
    // The mappings of every configuration, in pg_dump's order: by token
    // type, then by the dictionaries' order within a token type.
    let mut mappings: HashMap<u32, Vec<(String, String)>> = HashMap::new();
    for r in &conn.query(
        "SELECT m.mapcfg,
                (SELECT t.alias FROM pg_catalog.ts_token_type(c.cfgparser) t WHERE t.tokid = m.maptokentype),
                m.mapdict::pg_catalog.regdictionary::text
         FROM pg_catalog.pg_ts_config_map m JOIN pg_catalog.pg_ts_config c ON c.oid = m.mapcfg
         ORDER BY m.mapcfg, m.maptokentype, m.mapseqno",
        &[],
        "reading text search configuration mappings",
    )? {
        let cfg: u32 = get!(r, 0);
        let token: String = get!(r, 1);
        let dict: String = get!(r, 2);
        mappings.entry(cfg).or_default().push((token, dict));
    }
    each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.cfgname::text,
                    pg_catalog.format('%I.%I', n.nspname, c.cfgname),
                    pg_catalog.format('%I.%I', pn.nspname, p.prsname)
             FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
             JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
             JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
             WHERE {USER_NAMESPACE} AND {} ORDER BY c.oid",
            not_extension_member("pg_ts_config", "c.oid")
        ),
        &[],
        "reading text search configurations",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let qname: String = get!(r, 3);
            let parser: String = get!(r, 4);
            let ddl = configuration_ddl(
                &qname,
                &parser,
                mappings.get(&oid).map_or(&[], Vec::as_slice),
            );
            Ok(pre_data(
                CONFIGURATION,
                &schema,
                &name,
                ddl,
                "pg_ts_config",
                oid,
            ))
        },
    )
}

/// `CREATE TEXT SEARCH CONFIGURATION`, then one `ALTER … ADD MAPPING FOR
/// <token> WITH <dict>, …` per token type, as pg_dump writes them
/// (`mappings`: token alias and dictionary, in order).
fn configuration_ddl(qname: &str, parser: &str, mappings: &[(String, String)]) -> String {
    let mut ddl = format!("CREATE TEXT SEARCH CONFIGURATION {qname} (\n    PARSER = {parser} )");
    let mut last: Option<&str> = None;
    for (token, dict) in mappings {
        if last == Some(token.as_str()) {
            ddl.push_str(&format!(", {dict}"));
        } else {
            ddl.push_str(&format!(
                ";\nALTER TEXT SEARCH CONFIGURATION {qname}\n    ADD MAPPING FOR {} WITH {dict}",
                ident(token)
            ));
            last = Some(token);
        }
    }
    ddl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_maps_each_token_type_once_with_its_dictionaries_in_order() {
        let m = |t: &str, d: &str| (t.to_owned(), d.to_owned());
        assert_eq!(
            configuration_ddl(
                "public.cfg",
                "pg_catalog.\"default\"",
                &[m("asciiword", "english_stem"), m("asciiword", "simple"), m("word", "public.d")]
            ),
            "CREATE TEXT SEARCH CONFIGURATION public.cfg (\n    PARSER = pg_catalog.\"default\" );\n\
             ALTER TEXT SEARCH CONFIGURATION public.cfg\n    ADD MAPPING FOR asciiword WITH english_stem, simple;\n\
             ALTER TEXT SEARCH CONFIGURATION public.cfg\n    ADD MAPPING FOR word WITH public.d"
        );
    }
}
