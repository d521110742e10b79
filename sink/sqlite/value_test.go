package sqlite_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqlite"
)

// TestValue: each value goes in as SQLite's type holds it (docs/EVENTS.md,
// SQLite), and a value no column of the source's type holds is refused.
func TestValue(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		value   string
		want    any
		wantErr bool
	}{
		{"tinyint min", "tinyint(4)", "-128", int64(-128), false},
		{"tinyint past max", "tinyint(4)", "128", nil, true},
		{"tinyint unsigned max", "tinyint(3) unsigned", "255", int64(255), false},
		{"tinyint unsigned negative", "tinyint(3) unsigned", "-1", nil, true},
		{"mediumint unsigned max", "mediumint(8) unsigned", "16777215", int64(16777215), false},
		{"int unsigned max", "int(10) unsigned", "4294967295", int64(4294967295), false},
		{"int past max", "int(11)", "2147483648", nil, true},
		{"bigint min", "bigint(20)", "-9223372036854775808", int64(-9223372036854775808), false},
		{"bigint past max", "bigint(20)", "9223372036854775808", nil, true},
		{"bigint unsigned max", "bigint(20) unsigned", "18446744073709551615", "18446744073709551615", false},
		{"bigint unsigned negative", "bigint(20) unsigned", "-1", nil, true},
		{"int not a number", "int(11)", `"1"`, nil, true},
		{"year zero", "year(4)", "0", int64(0), false},
		{"year min", "year(4)", "1901", int64(1901), false},
		{"year max", "year(4)", "2155", int64(2155), false},
		{"year 1900", "year(4)", "1900", nil, true},
		{"bit(7) max", "bit(7)", "127", int64(127), false},
		{"bit(7) past max", "bit(7)", "128", nil, true},
		{"bit(63) max", "bit(63)", "9223372036854775807", int64(9223372036854775807), false},
		{"bit(64) max", "bit(64)", "18446744073709551615", "18446744073709551615", false},
		{"bit negative", "bit(8)", "-1", nil, true},
		{"decimal", "decimal(7,3)", `"-1234.500"`, "-1234.500", false},
		{"decimal leading and trailing zeros", "decimal(7,3)", `"0001234.5000"`, "0001234.5000", false},
		{"decimal more digits than scale", "decimal(7,3)", `"1.2345"`, nil, true},
		{"decimal more whole digits", "decimal(7,3)", `"12345.1"`, nil, true},
		{"decimal unsigned negative", "decimal(7,3) unsigned", `"-0.001"`, nil, true},
		{"decimal unsigned negative zero", "decimal(7,3) unsigned", `"-0.000"`, "-0.000", false},
		{"decimal not digits", "decimal(7,3)", `"1e3"`, nil, true},
		{"decimal a number", "decimal(7,3)", `1.5`, nil, true},
		{"float", "float", "1.1", 1.1, false},
		{"double", "double", "-1.7976931348623157e+308", -1.7976931348623157e+308, false},
		{"double past max", "double", "1e309", nil, true},
		{"set", "set('a','b','c')", `["a","c"]`, "a,c", false},
		{"json", "json", `{"k":[1]}`, `{"k":[1]}`, false},
		{"blob", "blob", `"AP8="`, []byte{0, 0xff}, false},
		{"text", "varchar(10)", `"é"`, "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sqlite.Dialect{}.Value(sink.Column{Name: "c", Type: tt.typ, Charset: "utf8mb4"}, json.RawMessage(tt.value))
			if tt.wantErr {
				if err == nil {
					t.Errorf("Value(%s %s) = %v, want an error", tt.typ, tt.value, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Value(%s %s): %v", tt.typ, tt.value, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Value(%s %s) (-want +got):\n%s", tt.typ, tt.value, diff)
			}
		})
	}
}
