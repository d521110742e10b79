// Package sqldb is the read-model target every SQL database shares: tables
// named after the source tables, one row per key, the checkpoint in a table
// of its own written in the same transaction as the rows, shadow tables for
// rebuilds swapped in by renaming. What differs between databases (types,
// values, quoting, how tables are renamed) is a Dialect, one per package
// under sink/.
package sqldb
