package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateSinks(t *testing.T) {
	name32 := strings.Repeat("a", 32)
	name33 := strings.Repeat("a", 33)
	for _, tc := range []struct {
		name  string
		sinks []SinkConfig
		want  []string // the errors, in order
	}{
		{"good", []SinkConfig{{Name: "orders"}, {Name: name32, Kind: "postgres", DSN: "postgres://x"}, {Name: "kv1", Kind: "kv", Tables: []string{"shop.orders"}}}, nil},
		{"bad names", []SinkConfig{{Name: "Orders"}, {Name: "1st"}, {Name: ""}, {Name: name33, Kind: "mysql", DSN: "u@tcp(h)/d"}}, []string{
			`sinks[0] (Orders): name "Orders": want lower-case letters, digits and '_', starting with a letter, at most 32 (e.g. orders_pg)`,
			`sinks[1] (1st): name "1st": want lower-case letters, digits and '_', starting with a letter, at most 32 (e.g. orders_pg)`,
			`sinks[2]: name "": want lower-case letters, digits and '_', starting with a letter, at most 32 (e.g. orders_pg)`,
			fmt.Sprintf(`sinks[3] (%s): name %q: want lower-case letters, digits and '_', starting with a letter, at most 32 (e.g. orders_pg)`, name33, name33),
		}},
		{"the same name twice", []SinkConfig{{Name: "a"}, {Name: "a", Kind: "kv"}}, []string{`sinks[1] (a): name "a" is used twice`}},
		{"kinds and their fields", []SinkConfig{
			{Name: "a", Kind: "redis"},
			{Name: "b", Kind: "postgres"},
			{Name: "c", DSN: "x"},
			{Name: "d", Kind: "kv", Path: "d.db"},
			{Name: "e", Batch: -1},
			{Name: "f", Tables: []string{"orders"}},
		}, []string{
			`sinks[0] (a): kind "redis": want sqlite, postgres, mysql or kv`,
			`sinks[1] (b): kind postgres needs dsn (e.g. postgres://user:secret@127.0.0.1:5432/readmodels?sslmode=disable)`,
			`sinks[2] (c): dsn is for kind postgres or mysql, not sqlite`,
			`sinks[3] (d): path is for kind sqlite only`,
			`sinks[4] (e): batch -1: want 1 or more (or 0 for the default)`,
			`sinks[5] (f): table "orders": want database.table (e.g. shop.orders)`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Sinks: tc.sinks}
			var got []string
			for _, err := range c.validateSinks() {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("validateSinks (-want +got):\n%s", diff)
			}
		})
	}
}
