package eventlog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BaselineBucket is the object store that keeps a stream's baseline: what
// its source described when the stream began (for tributary, the table
// definitions its schema history starts from). It is written once, before
// the first event, and never changed while the stream holds events.
func BaselineBucket(stream string) string { return stream + "_BASELINE" }

const baselineObject = "baseline"

// PutBaseline stores the stream's baseline, replacing any earlier one. It
// refuses once the stream holds events: they were written against the
// baseline there is.
func (s *Store) PutBaseline(ctx context.Context, b []byte) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream %s: %w", s.cfg.Stream, err)
	}
	if info.State.Msgs > 0 {
		return fmt.Errorf("stream %s already holds events: its baseline cannot change", s.cfg.Stream)
	}
	os, err := s.bucket(ctx, BaselineBucket(s.cfg.Stream), "what the source described when stream "+s.cfg.Stream+" began")
	if err != nil {
		return err
	}
	if _, err := os.PutBytes(ctx, baselineObject, b); err != nil {
		return fmt.Errorf("store the baseline of stream %s: %w", s.cfg.Stream, err)
	}
	return nil
}

// DropBaseline removes a baseline left by an earlier stream of the same
// name, for a stream that begins without one.
func (s *Store) DropBaseline(ctx context.Context) error {
	err := s.js.DeleteObjectStore(ctx, BaselineBucket(s.cfg.Stream))
	if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("remove the old baseline of stream %s: %w", s.cfg.Stream, err)
	}
	return nil
}

// Baseline returns the stream's baseline, or nil if it has none.
func (s *Store) Baseline(ctx context.Context) ([]byte, error) {
	return baseline(ctx, s.js, s.cfg.Stream)
}

// ReadBaseline is Baseline for a reader of the stream, which has no Store.
func ReadBaseline(ctx context.Context, nc *nats.Conn, stream string) ([]byte, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	return baseline(ctx, js, stream)
}

func baseline(ctx context.Context, js jetstream.JetStream, stream string) ([]byte, error) {
	os, err := js.ObjectStore(ctx, BaselineBucket(stream))
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", BaselineBucket(stream), err)
	}
	b, err := os.GetBytes(ctx, baselineObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the baseline of stream %s: %w", stream, err)
	}
	return b, nil
}

// LastPerSubject returns the bodies of the last message of each subject
// that matches filter, as stored, read by subject (the stream's subject
// index), not by scanning the stream.
func (s *Store) LastPerSubject(ctx context.Context, filter string) ([][]byte, error) {
	info, err := s.stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("list subjects %s of stream %s: %w", filter, s.cfg.Stream, err)
	}
	subjects := slices.Sorted(maps.Keys(info.State.Subjects))
	out := make([][]byte, 0, len(subjects))
	for _, subj := range subjects {
		msg, err := s.stream.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			return nil, fmt.Errorf("read the last message of %s: %w", subj, err)
		}
		out = append(out, msg.Data)
	}
	return out, nil
}
