package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary"
)

// Values too large for one message (docs/EVENTS.md, Large values): the
// largest column values of an event that would not fit the server's
// max_payload are stored in a JetStream object store, and the event names
// them in data.external instead of holding them.

// externalMargin is room left under max_payload for the headers.
const externalMargin = 16 << 10

// minExternal is the smallest value worth moving out.
const minExternal = 256

// ValuesBucket is the object store bucket holding the large values of a
// stream's events.
func ValuesBucket(stream string) string { return stream + "_VALUES" }

// externalRef is what data.external says of one value.
type externalRef struct {
	Bucket string `json:"bucket"`
	Name   string `json:"name"`
	Size   int    `json:"size"`
	Digest string `json:"digest"`
}

// values is the object store, opened on first use. A failure to open it
// is not kept: the next large event tries again.
type values struct {
	mu    sync.Mutex
	store jetstream.ObjectStore
}

func (s *Store) objectStore(ctx context.Context) (jetstream.ObjectStore, error) {
	s.values.mu.Lock()
	defer s.values.mu.Unlock()
	if s.values.store != nil {
		return s.values.store, nil
	}
	os, err := s.bucket(ctx, ValuesBucket(s.cfg.Stream), "column values too large for one event of stream "+s.cfg.Stream)
	if err != nil {
		return nil, err
	}
	s.values.store = os
	return os, nil
}

// bucket creates (or opens) an object store of the stream's, stored and
// replicated as the stream is.
func (s *Store) bucket(ctx context.Context, name, what string) (jetstream.ObjectStore, error) {
	os, err := s.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      name,
		Description: "Tributary: " + what,
		Storage:     jetstream.FileStorage,
		Replicas:    s.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", name, err)
	}
	return os, nil
}

// fit makes ev small enough for one message, moving its largest values to
// the object store. The object names derive from the event id, so that an
// event appended again after a crash puts the same objects again.
func (s *Store) fit(ctx context.Context, ev *tributary.Event) error {
	limit := int(s.nc.MaxPayload()) - externalMargin
	if len(ev.Body) <= limit {
		return nil
	}
	body, err := externalize(ev.Body, limit, func(image, column string, value []byte) (externalRef, error) {
		os, err := s.objectStore(ctx)
		if err != nil {
			return externalRef{}, err
		}
		name := ev.ID + "/" + image + "/" + column
		info, err := os.PutBytes(ctx, name, value)
		if err != nil {
			return externalRef{}, fmt.Errorf("store the %s value of column %s of event %s in object store %s: %w", image, column, ev.ID, ValuesBucket(s.cfg.Stream), err)
		}
		return externalRef{Bucket: info.Bucket, Name: name, Size: len(value), Digest: info.Digest}, nil
	})
	if err != nil {
		return err
	}
	ev.Body = body
	return nil
}

// errStillTooLarge means moving every large value out was not enough.
var errStillTooLarge = fmt.Errorf("too large even without its large values")

type member struct {
	key   []byte // the key as written, quotes included
	value json.RawMessage
}

// externalize moves the largest column values of the row images out of a
// body, largest first, until it is at most limit bytes, putting each with
// put; the images hold null for them, and data.external names them.
func externalize(body []byte, limit int, put func(image, column string, value []byte) (externalRef, error)) ([]byte, error) {
	top, di, data, err := splitData(body)
	if err != nil {
		return nil, err
	}
	if di < 0 {
		return nil, fmt.Errorf("event body has no data")
	}
	type candidate struct {
		image  int // index in data
		column int // index in the image
		size   int
	}
	images := map[int][]member{}
	var cands []candidate
	for i, m := range data {
		if (string(m.key) != `"before"` && string(m.key) != `"after"`) || string(m.value) == "null" {
			continue
		}
		row, err := splitObject(m.value)
		if err != nil {
			return nil, fmt.Errorf("event data %s: %w", m.key, err)
		}
		images[i] = row
		for j, c := range row {
			if len(c.value) >= minExternal {
				cands = append(cands, candidate{i, j, len(c.value)})
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return b.size - a.size })
	external := map[string]map[string]externalRef{}
	var refs []byte // data.external's value, once something is moved
	removed := 0    // bytes of values taken out
	fits := func() bool {
		size := len(body) - removed
		if refs != nil {
			size += len(`,"external":`) + len(refs)
		}
		return size <= limit
	}
	for _, c := range cands {
		if fits() {
			break
		}
		image, col := unquote(data[c.image].key), unquote(images[c.image][c.column].key)
		ref, err := put(image, col, images[c.image][c.column].value)
		if err != nil {
			return nil, err
		}
		if external[image] == nil {
			external[image] = map[string]externalRef{}
		}
		external[image][col] = ref
		images[c.image][c.column].value = json.RawMessage("null")
		removed += c.size - len("null")
		if refs, err = json.Marshal(external); err != nil {
			return nil, err
		}
	}
	if refs == nil || !fits() {
		return nil, errStillTooLarge
	}
	for i, row := range images {
		data[i].value = joinObject(row)
	}
	data = append(data, member{key: []byte(`"external"`), value: refs})
	top[di].value = joinObject(data)
	return joinObject(top), nil
}

// splitObject splits a JSON object into its members, in order, keeping the
// bytes of keys and values as written.
func splitObject(raw []byte) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for d.More() {
		from := d.InputOffset()
		if _, err := d.Token(); err != nil {
			return nil, err
		}
		key := bytes.TrimLeft(raw[from:d.InputOffset()], ", \t\r\n")
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, value: v})
	}
	return out, nil
}

func joinObject(ms []member) []byte {
	n := 2
	for _, m := range ms {
		n += len(m.key) + len(m.value) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.key...)
		b = append(b, ':')
		b = append(b, m.value...)
	}
	return append(b, '}')
}

func unquote(key []byte) string {
	var s string
	_ = json.Unmarshal(key, &s) // a key splitObject read is a valid JSON string
	return s
}

// splitData splits an event body into its members and those of its data
// (di is data's index among them, -1 if there is none).
func splitData(body []byte) (top []member, di int, data []member, err error) {
	if top, err = splitObject(body); err != nil {
		return nil, -1, nil, fmt.Errorf("event body: %w", err)
	}
	di = slices.IndexFunc(top, func(m member) bool { return string(m.key) == `"data"` })
	if di < 0 {
		return top, di, nil, nil
	}
	if data, err = splitObject(top[di].value); err != nil {
		return nil, -1, nil, fmt.Errorf("event data: %w", err)
	}
	return top, di, data, nil
}

// Inliner puts large values back into event bodies, keeping the object
// stores it has opened for the next body.
type Inliner struct {
	js     jetstream.JetStream
	stores map[string]jetstream.ObjectStore
}

// NewInliner returns an Inliner that reads object stores through js.
func NewInliner(js jetstream.JetStream) *Inliner {
	return &Inliner{js: js, stores: map[string]jetstream.ObjectStore{}}
}

// Inline gives back the body an event would have had without its large
// values moved out: each value named in data.external is fetched from its
// object store and put back in its image, and data.external is removed.
// A body without data.external is returned as it is.
func (in *Inliner) Inline(ctx context.Context, body []byte) ([]byte, error) {
	if !bytes.Contains(body, []byte(`"external":`)) {
		return body, nil
	}
	top, di, data, err := splitData(body)
	if err != nil || di < 0 {
		return body, err
	}
	xi := slices.IndexFunc(data, func(m member) bool { return string(m.key) == `"external"` })
	if xi < 0 {
		return body, nil
	}
	var refs map[string]map[string]externalRef
	if err := json.Unmarshal(data[xi].value, &refs); err != nil {
		return nil, fmt.Errorf("event data.external: %w", err)
	}
	for i, m := range data {
		image := unquote(m.key)
		if refs[image] == nil {
			continue
		}
		row, err := splitObject(m.value)
		if err != nil {
			return nil, fmt.Errorf("event data %s: %w", m.key, err)
		}
		for j, c := range row {
			ref, ok := refs[image][unquote(c.key)]
			if !ok {
				continue
			}
			os, ok := in.stores[ref.Bucket]
			if !ok {
				if os, err = in.js.ObjectStore(ctx, ref.Bucket); err != nil {
					return nil, fmt.Errorf("open object store %s: %w", ref.Bucket, err)
				}
				in.stores[ref.Bucket] = os
			}
			value, err := os.GetBytes(ctx, ref.Name)
			if err != nil {
				return nil, fmt.Errorf("get %s from object store %s: %w", ref.Name, ref.Bucket, err)
			}
			row[j].value = value
		}
		data[i].value = joinObject(row)
	}
	data = slices.Delete(data, xi, xi+1)
	top[di].value = joinObject(data)
	return joinObject(top), nil
}
