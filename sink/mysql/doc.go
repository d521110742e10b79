// Package mysql is the MariaDB and MySQL read-model target: a sqldb.Dialect
// over github.com/go-sql-driver/mysql. It must not import go-mysql (the
// binlog's library): a sink knows events, not where they came from.
//
// The read model holds the source's values exactly: every column has the
// source's own type (Column.Type is information_schema's COLUMN_TYPE, used
// as it is), character columns their own charset, and each value goes in
// as the server reads that type (integers and BIT as numbers, DECIMAL as
// its digits, temporal values as their text, TIMESTAMP in a session at
// +00:00, binary and geometry values as bytes, JSON as the document's
// text). SELECT of a read-model table's columns returns what the same
// SELECT of the source table returns. The events do not say which columns
// are generated or invisible: in the read model they are plain, visible
// columns holding the values the source computed (so SELECT * lists the
// invisible ones too). Sessions run with sql_mode ALLOW_INVALID_DATES and
// nothing else, so that zero dates, zero-in-date values, a day 31 of any
// month and ENUM's invalid-value marker go in as the source holds them.
//
// Character columns (and ENUM and SET) take the binary collation of their
// charset, NO PAD on MariaDB: a read model keeps one row per key, and keys
// must compare as the events write them ("a", "A" and "a " are three
// keys), not as the source's collation does; an ENUM of 'a' and 'A' exists
// only in a binary collation. Readers who want the source's comparison say
// COLLATE in their queries. The table's default charset (Table.Charset) is
// not used: every character column names its own. A nullable TIMESTAMP
// column is declared NULL, so that no server setting makes it NOT NULL
// DEFAULT CURRENT_TIMESTAMP.
//
// # DDL and transactions
//
// MySQL's DDL commits the open transaction. The Runner commits the events
// before a DDL event in a transaction of their own, so the DDL's implicit
// commit never commits rows without their checkpoint; the Dialect is a
// sqldb.Reopener, so after the DDL a new transaction locks the checkpoint
// again (and reports sink.ErrMoved if another writer moved it meanwhile),
// and the rows after it (CREATE TABLE … SELECT) commit with the checkpoint
// as usual. What remains is a crash between the DDL and that commit: the
// DDL event is applied again from the stored checkpoint, so it is made
// harmless to replay: CreateTable drops and recreates the table, DropTable
// drops it if it exists, and AlterTable changes a table in one ALTER TABLE
// statement (atomic) whose clauses on MariaDB all carry IF [NOT] EXISTS, so
// that on the altered table it changes nothing. Exceptions remain: a rename
// whose old name the new table uses again is done again (a swap of two
// names) or stops with "duplicate column" (a column added under the old
// name); and MySQL, which has no IF EXISTS there, stops with "duplicate
// column" or "unknown column". What stops, stops until the model is rebuilt
// (tributary rebuild); a rebuild that crashes starts again from nothing.
//
// Promote swaps the models with one RENAME TABLE statement, which is atomic:
// each live table is renamed out of the way and each shadow table to its
// live name together, and the old tables are dropped after it.
package mysql
