package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
)

func bigBody(before, after string) []byte {
	img := func(v string) string {
		if v == "" {
			return "null"
		}
		return `{"id":7,"small":"s","big":"` + v + `","k\"ey":"` + strings.Repeat("y", 300) + `"}`
	}
	return []byte(`{"specversion":"1.0","id":"src:0-1-5:0","data":{"op":"u","key":{"id":7},"before":` + img(before) + `,"after":` + img(after) + `,"jsonnull":{"after":["j"]}},"txlast":true}`)
}

// TestExternalize: the largest values go first, only as many as needed;
// the rest of the body is byte for byte as it was; putting the stored
// values back gives the original body.
func TestExternalize(t *testing.T) {
	body := bigBody(strings.Repeat("b", 5000), strings.Repeat("a", 6000))
	stored := map[string][]byte{}
	put := func(image, column string, value []byte) (externalRef, error) {
		name := image + "/" + column
		stored[name] = bytes.Clone(value)
		return externalRef{Bucket: "B", Name: name, Size: len(value), Digest: "SHA-256=x"}, nil
	}
	// Room for everything but the after image's big value.
	got, err := externalize(body, len(body)-5000, put)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(body), `"`+strings.Repeat("a", 6000)+`"`, "null", 1)
	want = strings.Replace(want, `,"jsonnull":{"after":["j"]}}`, `,"jsonnull":{"after":["j"]},"external":{"after":{"big":{"bucket":"B","name":"after/big","size":6002,"digest":"SHA-256=x"}}}}`, 1)
	if string(got) != want {
		t.Fatalf("externalize:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("not valid JSON")
	}
	if diff := cmp.Diff([]string{"after/big"}, keys(stored)); diff != "" {
		t.Fatalf("stored (-want +got):\n%s", diff)
	}
	if back := strings.Replace(string(got), `"big":null`, `"big":`+string(stored["after/big"]), 1); !strings.HasPrefix(back, string(body[:len(body)-len(`}},"txlast":true}`)])) {
		t.Fatalf("putting the value back gives\n%s", back)
	}

	// Tight: both big values, then the 300-byte ones (one key quoted).
	stored = map[string][]byte{}
	if got, err = externalize(body, 700, put); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"after/big", "after/k\"ey", "before/big", "before/k\"ey"}, keys(stored)); diff != "" {
		t.Fatalf("stored (-want +got):\n%s", diff)
	}
	var parsed struct {
		Data struct {
			Before, After map[string]any
			External      map[string]map[string]externalRef
		}
	}
	if err := json.Unmarshal(got, &parsed); err != nil {
		t.Fatal(err)
	}
	if len(got) > 700 || parsed.Data.After["k\"ey"] != nil || parsed.Data.After["small"] != "s" || parsed.Data.External["before"]["k\"ey"].Size != 302 {
		t.Fatalf("externalized body %s", got)
	}

	// Not enough to move: an error, and nothing put.
	stored = map[string][]byte{}
	if _, err := externalize(body, 100, put); !errors.Is(err, errStillTooLarge) {
		t.Fatalf("externalize to 100 bytes: %v, want errStillTooLarge", err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestAppendLargeValue: an event over the server's max_payload is stored
// with its large value in the object store, where it reads back exactly.
func TestAppendLargeValue(t *testing.T) {
	nc := startServer(t)
	ctx := context.Background()
	s, err := Open(ctx, nc, Config{Stream: "LARGE", Prefix: "cdc"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := strings.Repeat("z", int(nc.MaxPayload())+1000)
	b := testEvents("0-1-5", 2, true)
	b.Events[1].Body = bigBody("", big)
	b.Events[1].ID = "src:0-1-5:1"
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(ctx, "LARGE")
	msg, err := st.GetMsg(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Data struct {
			After    map[string]any
			External map[string]map[string]externalRef
		}
	}
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		t.Fatal(err)
	}
	ref := ev.Data.External["after"]["big"]
	want := externalRef{Bucket: "LARGE_VALUES", Name: "src:0-1-5:1/after/big", Size: len(big) + 2}
	if ref.Bucket != want.Bucket || ref.Name != want.Name || ref.Size != want.Size || !strings.HasPrefix(ref.Digest, "SHA-256=") || ev.Data.After["big"] != nil {
		t.Fatalf("stored event %s: reference %+v, want %+v", msg.Data, ref, want)
	}
	os, err := js.ObjectStore(ctx, "LARGE_VALUES")
	if err != nil {
		t.Fatal(err)
	}
	value, err := os.GetBytes(ctx, ref.Name)
	if err != nil {
		t.Fatal(err)
	}
	if string(value) != fmt.Sprintf("%q", big) {
		t.Fatalf("object %s holds %d bytes, want the value's JSON text (%d bytes)", ref.Name, len(value), len(big)+2)
	}

	// Inline gives back the body as it was before the value moved out,
	// byte for byte, and leaves other bodies alone.
	inliner := NewInliner(js)
	inlined, err := inliner.Inline(ctx, msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	if want := bigBody("", big); !bytes.Equal(inlined, want) {
		t.Fatalf("Inline gave %d bytes, not the original body (%d bytes)", len(inlined), len(want))
	}
	first, err := st.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if same, err := inliner.Inline(ctx, first.Data); err != nil || !bytes.Equal(same, first.Data) {
		t.Fatalf("Inline of a body without external values = %s, %v; want it unchanged", same, err)
	}
}

// TestAppendTooLarge: an event that many small values make too large is
// refused with ErrTooLarge, and nothing of its batch is stored.
func TestAppendTooLarge(t *testing.T) {
	nc := startServer(t)
	ctx := context.Background()
	s, err := Open(ctx, nc, Config{Stream: "SMALLS", Prefix: "cdc"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var row strings.Builder
	row.WriteString(`{"id":1`)
	for i := range int(nc.MaxPayload()) / 200 {
		fmt.Fprintf(&row, `,"c%d":"%s"`, i, strings.Repeat("v", 200))
	}
	row.WriteString("}")
	b := testEvents("0-1-6", 2, true)
	b.Events[0].Body = []byte(`{"id":"src:0-1-6:0","data":{"op":"c","before":null,"after":` + row.String() + `}}`)
	err = s.Append(ctx, b)
	if err == nil {
		err = s.Sync(ctx)
	}
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "event src:0-1-6:0 (subject cdc.db.t.0)") {
		t.Fatalf("append = %v, want ErrTooLarge naming the event", err)
	}
	var size int
	if _, scanErr := fmt.Sscanf(err.Error()[strings.Index(err.Error(), ") is ")+len(") is "):], "%d bytes with its headers", &size); scanErr != nil || size <= int(nc.MaxPayload()) {
		t.Fatalf("append = %v: want the event's size with its headers, over max_payload %d (read %d, %v)", err, nc.MaxPayload(), size, scanErr)
	}
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, "SMALLS")
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 0 {
		t.Fatalf("the stream holds %d messages, want 0", n)
	}
}
