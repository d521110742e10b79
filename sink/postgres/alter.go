package postgres

import (
	"slices"
	"strings"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// AlterTable changes a table in place, never by copying it: sqldb renames,
// drops and adds columns; a change of type, nullability or key is
// ALTER COLUMN … TYPE … USING, SET or DROP NOT NULL, and the primary key
// dropped and added again.
func (d Dialect) AlterTable(table string, from, to sink.Table, renamed map[string]string) ([]string, error) {
	return sqldb.AlterInPlace(d, table, from, to, renamed, d.alterColumns)
}

// alterColumns returns the statements for the whole change, in the order
// PostgreSQL can run them: the old key dropped, columns dropped, renamed,
// changed (in one statement, so that the table is rewritten once) and
// added, the new key added.
func (d Dialect) alterColumns(table string, from, to sink.Table, renamed map[string]string) ([]string, error) {
	alter := "ALTER TABLE " + d.Quote(table) + " "
	rekey := sqldb.KeyChanged(from, to, renamed)

	kept := map[string]bool{}
	var changes, adds []string
	for _, c := range to.Columns {
		oc, ok := sqldb.OldColumn(from, c.Name, renamed)
		if !ok {
			typ, err := d.ColumnType(c)
			if err != nil {
				return nil, err
			}
			// Nullable, as in sqldb.AlterInPlace: the rows there get NULL.
			adds = append(adds, alter+"ADD COLUMN "+d.Quote(c.Name)+" "+typ)
			continue
		}
		kept[oc.Name] = true
		change, err := d.changeColumn(oc, c, rekey && slices.Contains(from.Key, oc.Name), slices.Contains(to.Key, c.Name))
		if err != nil {
			return nil, err
		}
		changes = append(changes, change...)
	}

	var out []string
	if rekey && len(from.Key) > 0 {
		out = append(out, dropPrimaryKey(d.Quote(table)))
	}
	// Dropped first, so that a column can take the name of a dropped one.
	for _, c := range from.Columns {
		if !kept[c.Name] {
			out = append(out, alter+"DROP COLUMN "+d.Quote(c.Name))
		}
	}
	out = append(out, sqldb.RenameColumns(d, table, kept, renamed)...)
	if len(changes) > 0 {
		out = append(out, alter+strings.Join(changes, ", "))
	}
	out = append(out, adds...)
	if rekey && len(to.Key) > 0 {
		out = append(out, alter+"ADD PRIMARY KEY ("+sqldb.QuoteAll(d, to.Key)+")")
	}
	return out, nil
}

// changeColumn returns the ALTER COLUMN actions that turn column from into
// to (to's name, renamed already). wasKey says the column was in a primary
// key that is dropped, which leaves it NOT NULL; isKey that it is in the
// primary key after the change, which makes it NOT NULL whatever to says.
func (d Dialect) changeColumn(from, to sink.Column, wasKey, isKey bool) ([]string, error) {
	oldType, err := d.ColumnType(from)
	if err != nil {
		return nil, err
	}
	newType, err := d.ColumnType(to)
	if err != nil {
		return nil, err
	}
	col := "ALTER COLUMN " + d.Quote(to.Name)
	var out []string
	if oldType != newType {
		out = append(out, col+" TYPE "+newType+" USING "+convert(d.Quote(to.Name), oldType, newType))
	}
	switch {
	case !to.Nullable && from.Nullable:
		out = append(out, col+" SET NOT NULL")
	case to.Nullable && !isKey && (!from.Nullable || wasKey):
		out = append(out, col+" DROP NOT NULL")
	}
	return out, nil
}

// convert is the expression that converts column col from one of our types
// to another as MySQL converts the values: bytes and text by their UTF-8,
// SET and text by MySQL's comma-joined labels, inet without its netmask,
// numbers and dates by PostgreSQL's casts between them; anything else
// through its text.
func convert(col, from, to string) string {
	switch from {
	case "inet":
		col, from = "host("+col+")", "text"
	case "bytea":
		col, from = "convert_from("+col+", 'UTF8')", "text"
	case "text[]":
		col, from = "array_to_string("+col+", ',')", "text"
	}
	switch {
	case to == "bytea":
		return "convert_to(" + col + "::text, 'UTF8')"
	case to == "text[]":
		return "string_to_array(" + col + "::text, ',')"
	case from == "text", to == "text", family(from) != "" && family(from) == family(to):
		return col + "::" + to
	}
	return col + "::text::" + to
}

// family groups the types PostgreSQL casts between directly.
func family(typ string) string {
	switch {
	case typ == "smallint", typ == "integer", typ == "bigint", typ == "real", typ == "double precision", strings.HasPrefix(typ, "numeric("):
		return "number"
	case typ == "date", strings.HasPrefix(typ, "timestamp"):
		return "datetime"
	}
	return ""
}

// dropPrimaryKey drops a table's primary key whatever it is called: it was
// named after the table it was created in, which a promoted table no longer
// is.
func dropPrimaryKey(table string) string {
	lit := "'" + strings.ReplaceAll(table, "'", "''") + "'"
	return "DO $tributary$ DECLARE k name; BEGIN " +
		"SELECT conname INTO k FROM pg_catalog.pg_constraint WHERE conrelid = " + lit + "::regclass AND contype = 'p'; " +
		"IF k IS NOT NULL THEN EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', " + lit + "::regclass, k); END IF; " +
		"END $tributary$"
}
