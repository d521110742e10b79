package mysql_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tributary-cdc/tributary/sink"
)

// TestValueOutOfType: a value no column of its type holds, which the
// server would clamp or round with only a warning (sql_mode is not
// strict), stops the write with a sink.ErrValue naming it.
func TestValueOutOfType(t *testing.T) {
	tests := []struct {
		typ   string
		value string
	}{
		{"tinyint(4)", "128"},
		{"tinyint(3) unsigned", "-1"},
		{"smallint(6)", "-32769"},
		{"mediumint(8) unsigned", "16777216"},
		{"int(11)", "2147483648"},
		{"year(4)", "1900"},
		{"year(4)", "69"},
		{"bit(7)", "128"},
		{"decimal(7,3)", `"1.2345"`},
		{"decimal(7,3)", `"12345.000"`},
		{"decimal(7,3) unsigned", `"-1.000"`},
	}
	ctx := context.Background()
	tg := open(t, newDatabase(t), "range")
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.value, func(t *testing.T) {
			tb := sink.Table{
				Name:    sink.TableName{Database: "shop", Table: "r"},
				Columns: []sink.Column{{Name: "id", Type: "int(11)"}, {Name: "c", Type: tt.typ, Nullable: true}},
				Key:     []string{"id"},
			}
			tx := begin(t, tg)
			if err := tx.CreateTable(ctx, tb); err != nil {
				t.Fatalf("CreateTable(%s): %v", tt.typ, err)
			}
			err := tx.Upsert(ctx, tb, []sink.Row{{"id": json.RawMessage("1"), "c": json.RawMessage(tt.value)}})
			if !errors.Is(err, sink.ErrValue) || !strings.Contains(err.Error(), tt.value) {
				t.Errorf("Upsert(%s %s) = %v, want a sink.ErrValue naming the value", tt.typ, tt.value, err)
			}
		})
	}
}
