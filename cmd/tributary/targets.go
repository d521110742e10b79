package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/kv"
	"github.com/tributary-cdc/tributary/sink/mysql"
	"github.com/tributary-cdc/tributary/sink/postgres"
)

// openOtherTarget opens the targets other than SQLite.
func openOtherTarget(ctx context.Context, s SinkConfig, nc *nats.Conn) (sink.Target, error) {
	var tg sink.Target
	var err error
	switch s.Kind {
	case "postgres":
		tg, err = postgres.Open(ctx, s.DSN, s.Name)
	case "mysql":
		tg, err = mysql.Open(ctx, s.DSN, s.Name)
	case "kv":
		tg, err = kv.Open(ctx, nc, s.Name)
	default:
		return nil, fmt.Errorf("sink %s: kind %s is not available in this build", s.Name, s.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", s.Name, err)
	}
	return tg, nil
}
