package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sinktest"
	"github.com/tributary-cdc/tributary/sink/sqlite"
)

func TestContract(t *testing.T) {
	readers := map[sink.Target]*sql.DB{}
	sinktest.Run(t, sinktest.Harness{
		Open: func(t *testing.T, name string) sink.Target {
			path := filepath.Join(t.TempDir(), name+".db")
			tg, err := sqlite.Open(context.Background(), path, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tg.Close() })
			reader, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reader.Close() })
			readers[tg] = reader
			return tg
		},
		Rows: func(t *testing.T, tg sink.Target, m sink.Model, table sink.TableName) ([][]string, bool) {
			return sinktest.SQLRows(t, readers[tg], tg, m, table)
		},
	})
}
