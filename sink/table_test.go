package sink

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseType covers the COLUMN_TYPE shapes MariaDB writes in
// information_schema, which the DDL events carry as they are.
func TestParseType(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Type
	}{
		{"int", "int(11)", Type{Base: "int", Args: []int{11}}},
		{"int unsigned", "int(10) unsigned", Type{Base: "int", Args: []int{10}, Unsigned: true}},
		{"bigint unsigned zerofill", "bigint(20) unsigned zerofill", Type{Base: "bigint", Args: []int{20}, Unsigned: true}},
		{"tinyint(1)", "tinyint(1)", Type{Base: "tinyint", Args: []int{1}}},
		{"decimal", "decimal(65,30)", Type{Base: "decimal", Args: []int{65, 30}}},
		{"decimal unsigned", "decimal(7,3) unsigned", Type{Base: "decimal", Args: []int{7, 3}, Unsigned: true}},
		{"double", "double", Type{Base: "double"}},
		{"double with precision", "double(10,2)", Type{Base: "double", Args: []int{10, 2}}},
		{"float", "float", Type{Base: "float"}},
		{"float unsigned", "float unsigned", Type{Base: "float", Unsigned: true}},
		{"datetime", "datetime(6)", Type{Base: "datetime", Args: []int{6}}},
		{"datetime without fraction", "datetime", Type{Base: "datetime"}},
		{"timestamp", "timestamp(3)", Type{Base: "timestamp", Args: []int{3}}},
		{"bit", "bit(64)", Type{Base: "bit", Args: []int{64}}},
		{"year", "year(4)", Type{Base: "year", Args: []int{4}}},
		{"varchar", "varchar(20)", Type{Base: "varchar", Args: []int{20}}},
		{"binary", "binary(16)", Type{Base: "binary", Args: []int{16}}},
		{"longtext", "longtext", Type{Base: "longtext"}},
		{"json", "json", Type{Base: "json"}},
		{"uuid", "uuid", Type{Base: "uuid"}},
		{"inet6", "inet6", Type{Base: "inet6"}},
		{"point", "point", Type{Base: "point"}},
		{
			name: "enum labels keep case, doubled quotes and commas",
			in:   "enum('a','B''c','x,y')",
			want: Type{Base: "enum", Labels: []string{"a", "B'c", "x,y"}},
		},
		{"enum with a parenthesis in a label", "enum('(',')','a) b')", Type{Base: "enum", Labels: []string{"(", ")", "a) b"}}},
		{"enum of a quote alone", "enum('''')", Type{Base: "enum", Labels: []string{"'"}}},
		{"enum with a backslash", `enum('a\\b')`, Type{Base: "enum", Labels: []string{`a\b`}}},
		{"enum with a backslash-escaped quote", `enum('a\')','b')`, Type{Base: "enum", Labels: []string{"a')", "b"}}},
		{"enum with non-ASCII labels", "enum('Zoë','😀')", Type{Base: "enum", Labels: []string{"Zoë", "😀"}}},
		{"set of the empty label", "set('')", Type{Base: "set", Labels: []string{""}}},
		{"set with an empty label among others", "set('','a','')", Type{Base: "set", Labels: []string{"", "a", ""}}},
		{"upper case as typed", "INT(11) UNSIGNED", Type{Base: "int", Args: []int{11}, Unsigned: true}},
		{"surrounding space", "  varchar(20)  ", Type{Base: "varchar", Args: []int{20}}},
		{"signed", "int(11) signed", Type{Base: "int", Args: []int{11}}},
		{"MySQL 8 int unsigned", "int unsigned", Type{Base: "int", Unsigned: true}},
		{"MySQL 8 bigint unsigned zerofill", "bigint unsigned zerofill", Type{Base: "bigint", Unsigned: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseType(tc.in)
			if err != nil {
				t.Fatalf("ParseType(%q) = %v, want no error", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseType(%q) = %+v, want %+v; diff (-want +got):\n%s", tc.in, got, tc.want, diff)
			}
		})
	}
}

func TestParseTypeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"spaces", "   "},
		{"no name", "(11)"},
		{"unclosed", "int(11"},
		{"not a number", "int(x)"},
		{"empty argument", "int()"},
		{"missing scale", "decimal(10,)"},
		{"unknown attribute", "int(11) unsigned wide"},
		{"junk after the parenthesis", "int(11)x"},
		{"unquoted label", "enum(a,b)"},
		{"unterminated label", "enum('a)"},
		{"unterminated label at the end", "set('a','b"},
		{"double-quoted label", `enum("a")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseType(tc.in)
			if err == nil {
				t.Errorf("ParseType(%q) = %+v, want an error", tc.in, got)
			}
		})
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name   string
		column Column
		want   Class
	}{
		{"tinyint", Column{Type: "tinyint(4)"}, ClassInt},
		{"boolean", Column{Type: "tinyint(1)"}, ClassInt},
		{"smallint unsigned", Column{Type: "smallint(5) unsigned"}, ClassInt},
		{"mediumint", Column{Type: "mediumint(9)"}, ClassInt},
		{"int unsigned", Column{Type: "int(10) unsigned"}, ClassInt},
		{"bigint", Column{Type: "bigint(20)"}, ClassInt},
		{"bigint unsigned", Column{Type: "bigint(20) unsigned"}, ClassUint64},
		{"bigint unsigned zerofill", Column{Type: "bigint(20) unsigned zerofill"}, ClassUint64},
		{"decimal", Column{Type: "decimal(65,30)"}, ClassDecimal},
		{"float", Column{Type: "float"}, ClassFloat},
		{"double", Column{Type: "double"}, ClassDouble},
		{"bit", Column{Type: "bit(1)"}, ClassBit},
		{"year", Column{Type: "year(4)"}, ClassYear},
		{"date", Column{Type: "date"}, ClassDate},
		{"datetime", Column{Type: "datetime(6)"}, ClassDatetime},
		{"time", Column{Type: "time(2)"}, ClassTime},
		{"timestamp", Column{Type: "timestamp(6)"}, ClassTimestamp},
		{"char", Column{Type: "char(4)", Charset: "utf8mb4"}, ClassText},
		{"varchar", Column{Type: "varchar(20)", Charset: "latin1"}, ClassText},
		{"longtext", Column{Type: "longtext", Charset: "utf8mb3"}, ClassText},
		{"char of charset binary", Column{Type: "char(4)", Charset: "binary"}, ClassBinary},
		{"varchar of charset binary", Column{Type: "varchar(20)", Charset: "binary"}, ClassBinary},
		{"binary", Column{Type: "binary(16)"}, ClassBinary},
		{"varbinary", Column{Type: "varbinary(255)"}, ClassBinary},
		{"blob", Column{Type: "blob"}, ClassBinary},
		{"longblob", Column{Type: "longblob"}, ClassBinary},
		{"enum", Column{Type: "enum('a','B''c','x,y')", Charset: "utf8mb4"}, ClassEnum},
		{"set", Column{Type: "set('')", Charset: "utf8mb4"}, ClassSet},
		{"json", Column{Type: "json"}, ClassJSON},
		{"geometry", Column{Type: "geometry"}, ClassGeometry},
		{"point", Column{Type: "point"}, ClassGeometry},
		{"multipolygon", Column{Type: "multipolygon"}, ClassGeometry},
		{"geometrycollection", Column{Type: "geometrycollection"}, ClassGeometry},
		{"uuid", Column{Type: "uuid"}, ClassUUID},
		{"inet4", Column{Type: "inet4"}, ClassInet4},
		{"inet6", Column{Type: "inet6"}, ClassInet6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := ParseType(tc.column.Type)
			if err != nil {
				t.Fatalf("ParseType(%q) = %v", tc.column.Type, err)
			}
			// Twice: the second answer comes from what the first kept.
			for range 2 {
				got, typ, err := ClassOf(tc.column)
				if err != nil {
					t.Fatalf("ClassOf(%+v) = %v, want no error", tc.column, err)
				}
				if got != tc.want {
					t.Errorf("ClassOf(%+v) = %d, want %d", tc.column, got, tc.want)
				}
				if diff := cmp.Diff(want, typ); diff != "" {
					t.Errorf("ClassOf(%+v) type = %+v, want %+v", tc.column, typ, want)
				}
			}
		})
	}
}

func TestClassOfErrors(t *testing.T) {
	tests := []struct {
		name   string
		column Column
	}{
		{"unknown type", Column{Type: "vector(3)"}},
		{"malformed type", Column{Type: "int(11"}},
		{"empty type", Column{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 {
				got, _, err := ClassOf(tc.column)
				if err == nil {
					t.Errorf("ClassOf(%+v) = %d, want an error", tc.column, got)
				}
			}
		})
	}
}
