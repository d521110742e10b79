package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary/eventlog"
	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/kv"
	"github.com/tributary-cdc/tributary/sink/mysql"
	"github.com/tributary-cdc/tributary/sink/postgres"
	"github.com/tributary-cdc/tributary/sink/sqlite"
)

// openTarget opens a sink's target.
func openTarget(ctx context.Context, c *Config, s SinkConfig, nc *nats.Conn) (sink.Target, error) {
	var tg sink.Target
	var err error
	switch kindOf(s) {
	case "sqlite":
		path := s.Path
		if path == "" {
			path = filepath.Join(c.DataDir, "sinks", s.Name+".db")
		}
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			tg, err = sqlite.Open(ctx, path, s.Name)
		}
	case "postgres":
		tg, err = postgres.Open(ctx, s.DSN, s.Name)
	case "mysql":
		tg, err = mysql.Open(ctx, s.DSN, s.Name)
	case "kv":
		tg, err = kv.Open(ctx, nc, s.Name)
	default:
		err = fmt.Errorf("unknown kind %q", s.Kind) // Config.validate refuses it first
	}
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", s.Name, err)
	}
	return tg, nil
}

// streamKeys reads the key columns the stream records for the tables whose
// events are not keyed by their primary key (start --keys), once for every
// sink of a command.
func streamKeys(ctx context.Context, c *Config, nc *nats.Conn) (map[sink.TableName][]string, error) {
	info, err := eventlog.StreamInfo(ctx, nc, c.Stream)
	if err != nil {
		if errors.Is(err, eventlog.ErrNoStream) {
			return nil, fmt.Errorf("%w (check --stream, or start tributary first)", err)
		}
		return nil, err
	}
	keyed := Config{Keys: info.Metadata["keys"]}
	recorded, err := keyed.keys()
	if err != nil {
		return nil, fmt.Errorf("stream %s records keys %q: %w", c.Stream, keyed.Keys, err)
	}
	keys := map[sink.TableName][]string{}
	for t, cols := range recorded {
		n, err := sink.ParseTableName(t)
		if err != nil {
			return nil, fmt.Errorf("stream %s records keys: %w", c.Stream, err)
		}
		keys[n] = cols
	}
	return keys, nil
}

// newRunner builds the Runner of one sink.
func newRunner(c *Config, s SinkConfig, nc *nats.Conn, tg sink.Target, keys map[sink.TableName][]string, log *slog.Logger) *sink.Runner {
	var tables []sink.TableName
	for _, t := range s.Tables {
		n, _ := sink.ParseTableName(t) // validated
		tables = append(tables, n)
	}
	return sink.NewRunner(nc, tg, sink.Options{Name: s.Name, Stream: c.Stream, Tables: tables, Keys: keys, Batch: s.Batch,
		Logger: log})
}
