package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedNATS is nats-server running in this process: JetStream with file
// storage under the data directory, listening on loopback so that other
// tools, and tributary tail, can connect.
type embeddedNATS struct {
	srv     *server.Server
	urlFile string
}

// urlFileName, under the data directory, holds the embedded server's URL
// while it runs, so tail and status find it without --nats.
const urlFileName = "nats.url"

func startEmbeddedNATS(c *Config, log *slog.Logger) (*embeddedNATS, error) {
	host, portStr, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, usageError("listen %q: want HOST:PORT, e.g. 127.0.0.1:4222 (port 0 picks a free one)", c.Listen)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, usageError("listen %q: the port is not a number", c.Listen)
	}
	// nats-server reports a taken port only in its log; find out first and
	// say what to do.
	probe, err := net.Listen("tcp", c.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("embedded NATS server: %s is already in use (another NATS server?): pass --listen 127.0.0.1:0 to pick a free port, or --nats URL to use the server that is there", c.Listen)
		}
		return nil, fmt.Errorf("embedded NATS server: listen on %s: %w", c.Listen, err)
	}
	probe.Close()
	if port == 0 {
		port = server.RANDOM_PORT // to nats-server, 0 means its default, 4222
	}

	storeDir := filepath.Join(c.DataDir, "jetstream")
	if err := os.MkdirAll(storeDir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded NATS server: create data directory: %w", err)
	}
	opts := &server.Options{
		ServerName: "tributary-" + c.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true,
		NoLog:      true,
		// Acknowledged means on disk: fsync before every acknowledgement,
		// unless the user chose the faster periodic flush.
		SyncAlways: c.Sync == "always",
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS server did not become ready within 30s (data directory %s)", storeDir)
	}
	e := &embeddedNATS{srv: srv, urlFile: filepath.Join(c.DataDir, urlFileName)}
	if err := os.WriteFile(e.urlFile, []byte(srv.ClientURL()+"\n"), 0o640); err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS server: write %s: %w", e.urlFile, err)
	}
	log.Info("embedded NATS server started", "url", srv.ClientURL(), "store", storeDir, "sync", c.Sync)
	return e, nil
}

func (e *embeddedNATS) URL() string { return e.srv.ClientURL() }

func (e *embeddedNATS) Shutdown() {
	_ = os.Remove(e.urlFile)
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
