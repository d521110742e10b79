// Package postgres is the PostgreSQL read-model target: the tables of one
// sink in one schema (the connection's current_schema()), written through
// sqldb over pgx's database/sql driver.
//
// Values (docs/EVENTS.md, Values) are held in PostgreSQL's own types, each
// exactly or not at all: a value a column cannot hold is a sink.ErrValue.
//
//   - TINYINT … INT, signed or UNSIGNED, as the narrowest of smallint,
//     integer and bigint that holds every value (TINYINT UNSIGNED: smallint,
//     MEDIUMINT: integer, INT UNSIGNED: bigint); BIGINT as bigint, BIGINT
//     UNSIGNED as numeric(20,0); YEAR as smallint.
//   - DECIMAL(p,s) as numeric(p,s); a value with more digits than the
//     column is refused rather than rounded.
//   - FLOAT as real, DOUBLE as double precision.
//   - BIT(n) as bigint, BIT(64) as numeric(20,0).
//   - DATE as date, DATETIME(n) as timestamp(n), TIMESTAMP(n) as
//     timestamptz(n) (sessions run in UTC, so timestamptz reads back in
//     UTC). A zero date or datetime ("0000-00-00", "0000-00-00 00:00:00")
//     is '-infinity', which no MySQL value is; the year 0000 is 1 BC (ISO
//     8601's year 0000). A date with a zero month or day ("2024-00-15"), or
//     a day its month does not have, has no PostgreSQL form and is refused.
//   - TIME(n) as interval: MySQL's TIME is a duration, -838:59:59 to
//     838:59:59.
//   - CHAR, VARCHAR, TEXT types and ENUM as text; text holding a NUL
//     character is refused, as PostgreSQL text cannot hold one.
//   - BINARY, VARBINARY, BLOB types and GEOMETRY types (SRID and WKB, as the
//     events hold them) as bytea.
//   - SET as text[], its labels in definition order ('{}' for the empty
//     set).
//   - JSON as jsonb: the document normalised (key order, spacing) as jsonb
//     does; the document null is the jsonb null, apart from SQL NULL. A
//     document with the character U+0000 is refused, as jsonb cannot hold it.
//   - UUID as uuid, INET4 and INET6 as inet.
//
// A write of 100 rows or more goes by COPY into a temporary table and from
// there into the read model's table with one INSERT … SELECT … ON CONFLICT
// (sqldb.Bulk): the columns' input functions read the same text, without a
// statement of thousands of parameters to parse and plan.
//
// Table changes are made in place (ALTER TABLE, never a copy of the table)
// in the transaction that applies them, and a rebuilt model is swapped in
// by renames in one transaction: PostgreSQL's DDL is transactional.
//
// PostgreSQL cuts names longer than 63 bytes short (NAMEDATALEN): a table or
// column whose name, or whose shadow table's name (the table's name and
// "__<sink>_rebuild"), is longer is not supported.
//
// It imports sink and sqldb, and pgx for the driver; never binlog, eventlog
// or NATS.
package postgres
