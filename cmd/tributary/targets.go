package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary/sink"
)

// openOtherTarget opens the targets other than SQLite.
func openOtherTarget(ctx context.Context, s SinkConfig, nc *nats.Conn) (sink.Target, error) {
	return nil, fmt.Errorf("sink %s: kind %s is not available in this build", s.Name, s.Kind)
}
