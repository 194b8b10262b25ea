//! SQL that builds the databases the round-trip tests copy.

/// A table with a column of every type bru carries and their edge values
/// (NaN, ±Infinity, -0, BC dates, ±infinity timestamps, NULL array elements,
/// several dimensions, enums, domains, composites, ranges, money...), 3006
/// rows in all, for round-trip tests.
pub const TORTURE_SQL: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy, really');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE torture (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint,
    n numeric, n2 numeric(12,4), f4 real, f8 double precision,
    t text, vc varchar(10), ch char(5), by bytea, b boolean,
    d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, ts3 timestamp(3),
    iv interval, u uuid, j json, jb jsonb,
    ip inet, net cidr, mac macaddr, m money,
    arr integer[], arr2 text[], tsv tsvector, e mood, dom posint, comp pair,
    tstz_arr timestamptz[], num_arr numeric[], r int4range, "Odd Name" text
);
INSERT INTO torture VALUES
(1, -32768, -2147483648, -9223372036854775808,
 'NaN', -99999999.9999, 'NaN', '-0',
 E'h\u00e9llo \U0001F30D \t tab\nnewline \\ backslash ''quote''', '', 'ab', '\x00ff10', true,
 '4713-01-01 BC', '00:00', '00:00:00+14', '4713-01-01 00:00:00 BC', '-infinity', '1999-12-31 23:59:59.999',
 '-178000000 years', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b" : 1,  "a":[1, 2]}', '{"b": 1, "a": [1, 2.50]}',
 '::1', '10.0.0.0/8', '08:00:2b:01:02:03', '-92233720368547758.08',
 '{1,NULL,3}', '{{a,NULL},{"c d","e\"f"}}', 'a fat cat sat', 'sad', 1, '(1,"x y")',
 '{"2020-01-01 00:00:00+00",NULL,infinity}', '{NaN,1.50,-0.001}', '[1,10)', 'odd'),
(2, 32767, 2147483647, 9223372036854775807,
 'Infinity', 99999999.9999, 'Infinity', 'Infinity',
 'x', '0123456789', 'abcde', '', false,
 '5874897-12-31', '24:00:00', '23:59:59.999999-15:59', '294276-12-31 23:59:59.999999', 'infinity', 'infinity',
 '178000000 years 11 mons 30 days 23:59:59.999999', '00000000-0000-0000-0000-000000000000', '[]', '{}',
 '192.168.1.5/24', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '92233720368547758.07',
 '{}', '{}', '', 'happy, really', 2147483647, '(,)',
 '{}', '{}', 'empty', ''),
(3, 0, 0, 0,
 '-Infinity', 0, '-Infinity', '-Infinity',
 '', ' ', ' ', '\x', false,
 'infinity', '12:34:56.789012', '12:00:00-03:30', '2000-01-01 00:00:00', '1970-01-01 00:00:00.000001+00', '-infinity',
 '-1 mons +2 days -00:00:00.000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', '"str"',
 '0.0.0.0/0', '0.0.0.0/0', '00:00:00:00:00:00', '0',
 '{{1,2},{3,NULL}}', '{NULL}', '''a'':1A ''b'':2B,3', 'ok', 5, '(0,"")',
 '{"1900-06-30 12:00:00.5+00"}', '{123456789012345678901234567890.000000000000000000001}', '(,5]', 'Ω'),
(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(5, 1, 1, 1,
 '123456789012345678901234567890.123456789012345678901234567890', 0.0001, 1.17549435e-38, 5e-324,
 repeat('long ', 20000), 'a', 'a', decode(repeat('ab', 50000), 'hex'), true,
 '0001-01-01', '23:59:59.999999', '00:00:00.000001+00', '0001-01-01 00:00:00', '0001-01-01 00:00:00 BC', '2024-02-29 12:00:00.123',
 '1 day', '12345678-1234-5678-1234-567812345678', '{"k": "\u00e9\u0000x"}', '{"nested": {"arr": [true, false, null]}}',
 '2001:db8::1', '192.168.0.0/16', '01:23:45:67:89:ab', '-0.01',
 '{-2147483648,2147483647}', '{"",NULL,"NULL"}', 'x:1,2,3', NULL, NULL, NULL,
 NULL, '{0.0,-0.0}', 'empty', NULL),
(6, -1, -1, -1, '-0.000', 0, 3.4028235e38, 1.7976931348623157e308, 'z', 'z', 'z', '\x00', NULL,
 '1970-01-01', '00:00:00.000001', '24:00:00+00', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', NULL,
 '0', NULL, '1.0e10', '1.0e10', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO torture (id, f4, f8) SELECT 100 + g, g::real / 7, g::float8 / 3 FROM generate_series(1, 3000) g;
"#;

/// A schema with most of what PostgreSQL databases hold: schemas with odd
/// names, enums, sequences, functions, identity, serial and generated
/// columns, check, unique, exclusion and deferrable foreign key constraints,
/// partitioned, unlogged, column-less and inheriting tables, partial,
/// expression and GIN indexes, triggers, views, materialized views (one not
/// populated), rules, statistics and comments, with rows.
pub const SCHEMA_SQL: &str = r#"
CREATE SCHEMA hr;
CREATE SCHEMA "Sales Dept";
COMMENT ON SCHEMA hr IS 'human resources';
CREATE TYPE hr.level AS ENUM ('junior', 'senior');
CREATE SEQUENCE hr.badge_seq START 1000 INCREMENT 5;
SELECT nextval('hr.badge_seq'), nextval('hr.badge_seq');
CREATE FUNCTION hr.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated := now(); RETURN NEW; END $$;
CREATE FUNCTION hr.double_it(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
COMMENT ON FUNCTION hr.double_it(integer) IS 'twice';
CREATE TABLE hr.site (
    id integer GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 10) PRIMARY KEY,
    name text NOT NULL UNIQUE,
    code varchar(8) CHECK (code = upper(code)),
    area tsrange,
    EXCLUDE USING gist (area WITH &&)
);
CREATE TABLE hr.agent (
    id bigserial PRIMARY KEY,
    site_id integer REFERENCES hr.site (id) ON DELETE CASCADE ON UPDATE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    mentor bigint REFERENCES hr.agent (id) ON DELETE SET NULL,
    badge integer DEFAULT nextval('hr.badge_seq') NOT NULL,
    lvl hr.level DEFAULT 'junior',
    salary numeric(10,2) CONSTRAINT positive_salary CHECK (salary > 0),
    double_badge integer GENERATED ALWAYS AS (badge * 2) STORED,
    profile jsonb,
    updated timestamptz,
    UNIQUE (site_id, badge)
);
COMMENT ON TABLE hr.agent IS 'people who answer';
COMMENT ON COLUMN hr.agent.salary IS 'monthly, in EUR';
CREATE INDEX agent_profile_gin ON hr.agent USING gin (profile);
CREATE INDEX agent_lower_idx ON hr.agent (lower(profile->>'name')) WHERE lvl = 'senior';
CREATE TRIGGER agent_touch BEFORE UPDATE ON hr.agent FOR EACH ROW EXECUTE FUNCTION hr.touch();
CREATE TABLE "Sales Dept".calls (
    site_id integer NOT NULL,
    at timestamptz NOT NULL,
    agent bigint,
    "Duration" interval,
    PRIMARY KEY (site_id, at)
) PARTITION BY RANGE (at);
CREATE TABLE "Sales Dept".calls_2024 PARTITION OF "Sales Dept".calls FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE "Sales Dept".calls_2025 PARTITION OF "Sales Dept".calls FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX calls_agent_idx ON "Sales Dept".calls (agent);
ALTER TABLE "Sales Dept".calls ADD FOREIGN KEY (agent) REFERENCES hr.agent (id);
CREATE UNLOGGED TABLE public.scratch (k text PRIMARY KEY, v bytea) WITH (fillfactor = 70);
CREATE TABLE public.legacy (id serial PRIMARY KEY, note text);
CREATE TABLE public.no_columns ();
CREATE TABLE hr.child (extra text) INHERITS (public.legacy);
INSERT INTO hr.site (name, code, area) VALUES ('Lyon', 'LY', '[2024-01-01,2024-06-01)'), ('Porto', 'PO', '[2024-06-01,2025-01-01)');
INSERT INTO hr.agent (site_id, badge, lvl, salary, profile) VALUES
  (10, 1, 'senior', 3000.50, '{"name": "Ana"}'), (20, 2, 'junior', 2000, '{"name": "Bo"}');
UPDATE hr.agent SET mentor = 1 WHERE id = 2;
INSERT INTO hr.agent (site_id, lvl, salary) VALUES (10, 'junior', 1500);
INSERT INTO "Sales Dept".calls SELECT 10, timestamptz '2024-03-01' + g * interval '1 day', 1 + g % 2, g * interval '1 minute'
  FROM generate_series(0, 500) g;
INSERT INTO public.scratch VALUES ('a', '\x01');
INSERT INTO public.legacy (note) SELECT 'n' || g FROM generate_series(1, 7) g;
CREATE VIEW hr.senior AS SELECT id, salary FROM hr.agent WHERE lvl = 'senior';
CREATE VIEW hr.senior_rich WITH (security_barrier) AS SELECT * FROM hr.senior WHERE salary > 2500;
CREATE MATERIALIZED VIEW hr.calls_per_agent AS SELECT agent, count(*) AS n FROM "Sales Dept".calls GROUP BY agent;
CREATE UNIQUE INDEX calls_per_agent_idx ON hr.calls_per_agent (agent);
CREATE MATERIALIZED VIEW hr.empty_mv AS SELECT 1 AS x WITH NO DATA;
COMMENT ON VIEW hr.senior IS 'seniors only';
CREATE FUNCTION hr.site_names() RETURNS SETOF hr.site LANGUAGE sql STABLE AS 'SELECT * FROM hr.site';
CREATE RULE legacy_no_delete AS ON DELETE TO public.legacy DO INSTEAD NOTHING;
CREATE STATISTICS hr.agent_stats (dependencies) ON site_id, lvl FROM hr.agent;
"#;
