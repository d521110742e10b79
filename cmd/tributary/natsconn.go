package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// defaultNATSURL is where tail and status look when neither --nats nor the
// data directory's nats.url names a server.
const defaultNATSURL = "nats://127.0.0.1:4222"

// natsURLFor picks the URL for commands that read the stream: --nats, or
// the embedded server's URL from the data directory, or the default port.
// A data directory named explicitly without a running embedded server is
// an error rather than a silent fall back to whatever listens on 4222.
func natsURLFor(c *Config) (string, error) {
	if c.NATS != "" {
		return c.NATS, nil
	}
	path := filepath.Join(c.DataDir, urlFileName)
	if b, err := os.ReadFile(path); err == nil {
		if u := strings.TrimSpace(string(b)); u != "" {
			return u, nil
		}
	}
	if c.DataDir != defaultConfig().DataDir {
		return "", usageError("no --nats given and no embedded NATS server is running for data directory %s (%s is missing): start tributary there, or pass --nats URL", c.DataDir, path)
	}
	return defaultNATSURL, nil
}

// dialNATS connects to the server a reading command is configured for
// (natsURLFor).
func dialNATS(c *Config, log *slog.Logger) (*nats.Conn, error) {
	url, err := natsURLFor(c)
	if err != nil {
		return nil, err
	}
	return connectNATS(url, log)
}

// ErrNATSUnreachable means no NATS server answered.
var errNATSUnreachable = errors.New("NATS server unreachable")

// connectNATS connects with settings that suit an exactly-once writer:
// reconnect forever, but never buffer publishes while disconnected (a
// buffered publish would be sent after the writer has moved on).
func connectNATS(url string, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(url,
		nats.Name("tributary"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS connection lost", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS connection restored", "url", nc.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w: %w (is the server running? pass --nats URL, or omit it to run one embedded)", redactURL(url), errNATSUnreachable, err)
	}
	return nc, nil
}

// redactURL hides the credentials of every URL in a comma-separated server
// list, as nats.go accepts it (scheme optional).
func redactURL(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		raw := p
		if !strings.Contains(p, "://") {
			raw = "nats://" + p
		}
		u, err := url.Parse(raw)
		if err != nil {
			if strings.Contains(p, "@") {
				parts[i] = "<unparsable URL with credentials>"
			}
			continue
		}
		if u.User == nil {
			continue
		}
		host := u.Host + u.Path
		if strings.Contains(p, "://") {
			parts[i] = u.Scheme + "://***@" + host
		} else {
			parts[i] = "***@" + host
		}
	}
	return strings.Join(parts, ",")
}
