package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/eventlog/eventlogtest"
)

// startServer runs nats-server in-process with JetStream on a random
// loopback port.
func startServer(t *testing.T) *nats.Conn {
	t.Helper()
	_, nc := startServerProcess(t)
	return nc
}

func startServerProcess(t *testing.T) (*server.Server, *nats.Conn) {
	t.Helper()
	srv := eventlogtest.StartServer(t, func(o *server.Options) { o.SyncAlways = true })
	return srv, eventlogtest.Connect(t, srv)
}

func testEvents(txn string, n int, whole bool) tributary.Batch {
	b := tributary.Batch{Whole: whole}
	for i := range n {
		m := tributary.TxnMark{Source: "src", ID: txn, GTID: txn, Index: i, Last: i == n-1,
			Begin: tributary.Position{File: "binlog.000001", Offset: 400, GTIDSet: "0-1-9"}}
		if m.Last {
			m.End = tributary.Position{File: "binlog.000001", Offset: 900, GTIDSet: "0-1-10"}
		}
		b.Events = append(b.Events, tributary.Event{ID: fmt.Sprintf("src:%s:%d", txn, i), Subject: "cdc.db.t." + strconv.Itoa(i),
			Body: []byte(fmt.Sprintf(`{"id":"src:%s:%d"}`, txn, i)), Txn: m})
	}
	return b
}

func open(t *testing.T, nc *nats.Conn, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), nc, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestAppendAndLast(t *testing.T) {
	ctx := context.Background()
	nc := startServer(t)
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc"})
	if !s.Atomic() {
		t.Fatal("Atomic() = false on nats-server 2.15, want true")
	}
	if _, seq, found, err := s.Last(ctx); err != nil || found || seq != 0 {
		t.Fatalf("Last on an empty stream = %d, %v, %v", seq, found, err)
	}
	for _, b := range []tributary.Batch{testEvents("0-1-10", 3, true), testEvents("0-1-11", 2, false), testEvents("0-1-12", 1, true)} {
		if err := s.Append(ctx, b); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	mark, seq, found, err := s.Last(ctx)
	if err != nil || !found || seq != 6 {
		t.Fatalf("Last = seq %d, found %v, %v; want seq 6", seq, found, err)
	}
	if diff := cmp.Diff(testEvents("0-1-12", 1, true).Events[0].Txn, mark); diff != "" {
		t.Fatalf("Last mark (-want +got):\n%s", diff)
	}
	var ids []string
	err = Read(ctx, nc, "EV", ReadOptions{}, func(ev StoredEvent) error {
		ids = append(ids, string(ev.Body))
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := []string{`{"id":"src:0-1-10:0"}`, `{"id":"src:0-1-10:1"}`, `{"id":"src:0-1-10:2"}`, `{"id":"src:0-1-11:0"}`, `{"id":"src:0-1-11:1"}`, `{"id":"src:0-1-12:0"}`}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("Read (-want +got):\n%s", diff)
	}
}

// A whole batch within the atomic limit is one atomic publish: its
// messages carry the batch headers. A larger one is appended message by
// message, each fenced.
func TestAtomicBatchHeaders(t *testing.T) {
	ctx := context.Background()
	nc := startServer(t)
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc", MaxAtomic: 3})
	for _, b := range []tributary.Batch{testEvents("0-1-10", 3, true), testEvents("0-1-11", 4, true)} {
		if err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := storedHeaders(t, nc, 7, func(h nats.Header) string {
		return h.Get(headerBatchSeq) + "/" + h.Get(jetstream.ExpectedLastSeqHeader)
	})
	// Stored messages keep their headers: batch sequence, and the expected
	// last sequence on the first of a batch and on every single message.
	want := []string{"1/0", "2/", "3/", "/3", "/4", "/5", "/6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("batch-seq/expected-last headers (-want +got):\n%s", diff)
	}
}

// A message appended by anyone else makes the next append fail with
// ErrConflict instead of interleaving.
func TestAppendConflict(t *testing.T) {
	ctx := context.Background()
	nc := startServer(t)
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc"})
	if _, _, _, err := s.Last(ctx); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if _, err := js.Publish(ctx, "cdc.intruder", []byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = s.Append(ctx, testEvents("0-1-10", 2, true))
	_ = s.Append(ctx, testEvents("0-1-11", 1, false))
	if err := s.Sync(ctx); !errors.Is(err, tributary.ErrConflict) {
		t.Fatalf("Sync after a foreign append = %v, want ErrConflict", err)
	}
	if n := streamLen(t, js); n != 1 {
		t.Fatalf("stream holds %d messages, want only the foreign one", n)
	}
	if _, _, _, err := s.Last(ctx); !errors.Is(err, ErrNotAnEvent) {
		t.Fatalf("Last with a foreign last message = %v, want ErrNotAnEvent", err)
	}
}

func streamLen(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), "EV")
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

func TestWaitQuiet(t *testing.T) {
	ctx := context.Background()
	nc := startServer(t)
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc"})
	if err := s.WaitQuiet(ctx, 100*time.Millisecond, time.Second); err != nil {
		t.Fatalf("WaitQuiet on an idle stream = %v", err)
	}
	js, _ := jetstream.New(nc)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				_, _ = js.Publish(ctx, "cdc.other", []byte("x"))
			}
		}
	}()
	err := s.WaitQuiet(ctx, 300*time.Millisecond, time.Second)
	close(stop)
	<-done
	if !errors.Is(err, tributary.ErrConflict) {
		t.Fatalf("WaitQuiet on a growing stream = %v, want ErrConflict", err)
	}
}

func TestOpenValidates(t *testing.T) {
	ctx := context.Background()
	nc := startServer(t)
	if _, err := Open(ctx, nc, Config{Stream: "EV", Prefix: "cdc", MustExist: true}); !errors.Is(err, ErrNoStream) {
		t.Fatalf("Open(MustExist) of a missing stream = %v, want ErrNoStream", err)
	}
	open(t, nc, Config{Stream: "EV", Prefix: "cdc"})
	if _, err := Open(ctx, nc, Config{Stream: "EV", Prefix: "other"}); err == nil {
		t.Fatal("Open with another prefix than the stream's = nil, want an error")
	}
	if _, err := Open(ctx, nc, Config{Stream: "EV2", Prefix: "cdc"}); err == nil {
		t.Fatal("Open of a second stream over the same subjects = nil, want an error")
	}
}

func TestHeadersRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark tributary.TxnMark
		want string // the Tributary-Mark header
	}{{
		name: "first row",
		mark: testEvents("0-1-10", 2, true).Events[0].Txn,
		want: "src=src&gtid=0-1-10&i=0&begin=binlog.000001:400&begin-gtids=0-1-9",
	}, {
		name: "last row",
		mark: testEvents("0-1-10", 2, true).Events[1].Txn,
		want: "src=src&gtid=0-1-10&i=1&begin=binlog.000001:400&begin-gtids=0-1-9&last=1&end=binlog.000001:900&end-gtids=0-1-10",
	}, {
		name: "no GTIDs",
		mark: tributary.TxnMark{Source: "s", ID: "binlog.000002:4", Begin: tributary.Position{File: "binlog.000002", Offset: 4}, Index: 7},
		want: "src=s&i=7&begin=binlog.000002:4",
	}, {
		name: "MySQL GTID set at the end only",
		mark: tributary.TxnMark{Source: "s", ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23",
			Begin: tributary.Position{GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-22,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"}, Last: true,
			End: tributary.Position{GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"}},
		want: "src=s&gtid=3e11fa47-71ca-11e1-9e33-c80aa9429562:23&i=0" +
			"&begin-gtids=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-22,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-5&last=1" +
			"&end-gtids=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-5",
	}, {
		name: "an id that is neither the GTID nor where the transaction begins",
		mark: tributary.TxnMark{Source: "s", ID: "other", GTID: "0-1-10", Begin: tributary.Position{File: "binlog.000001", Offset: 4}},
		want: "src=s&tx=other&gtid=0-1-10&i=0&begin=binlog.000001:4",
	}, {
		name: "file name with separators",
		mark: tributary.TxnMark{Source: "s", ID: "a&b=c d%.000001:4", Begin: tributary.Position{File: "a&b=c d%.000001", Offset: 4}},
		want: "src=s&i=0&begin=a%26b%3Dc%20d%25.000001:4",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := Headers(tc.mark)
			if got := h.Get(HeaderMark); got != tc.want {
				t.Errorf("%s = %s, want %s", HeaderMark, got, tc.want)
			}
			if got := h.Get(HeaderContentType); got != "application/cloudevents+json" {
				t.Errorf("%s = %s, want application/cloudevents+json", HeaderContentType, got)
			}
			if len(h) != 2 {
				t.Errorf("%d headers, want 2: %v", len(h), h)
			}
			got, err := decodeHeaders(h)
			if err != nil {
				t.Fatalf("decodeHeaders(Headers(%+v)): %v", tc.mark, err)
			}
			if diff := cmp.Diff(tc.mark, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// A stream written by event format 1 (one header per field) still resumes.
func TestLegacyHeaders(t *testing.T) {
	h := nats.Header{"Tributary-Source": {"s"}, "Tributary-Txn": {"0-1-10"}, "Tributary-Gtid": {"0-1-10"},
		"Tributary-Begin": {"binlog.000001:4"}, "Tributary-Begin-Gtid-Set": {"0-1-9"}, "Tributary-Index": {"3"},
		"Tributary-Last": {"true"}, "Tributary-End": {"binlog.000001:900"}, "Tributary-End-Gtid-Set": {"0-1-10"}}
	want := tributary.TxnMark{Source: "s", ID: "0-1-10", GTID: "0-1-10", Index: 3, Last: true,
		Begin: tributary.Position{File: "binlog.000001", Offset: 4, GTIDSet: "0-1-9"},
		End:   tributary.Position{File: "binlog.000001", Offset: 900, GTIDSet: "0-1-10"}}
	got, err := decodeHeaders(h)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decodeHeaders(format 1) (-want +got):\n%s", diff)
	}
}

func TestBadMark(t *testing.T) {
	for _, tc := range []struct{ mark, want string }{
		{"", "not a Tributary event"},
		{"tx=t&i=0&begin=b:4", "no src field"},
		{"src=s&tx=t&i=x&begin=b:4", `field i: "x" is not a row index`},
		{"src=s&tx=t&i=-1&begin=b:4", `field i: "-1" is not a row index`},
		{"src=s&tx=t&i=0", "field begin: no position"},
		{"src=s&tx=t&i=0&begin=b", `field begin: parse binlog position "b": want FILE:OFFSET`},
		{"src=s&tx=t&i=0&begin=b:4&last=true", `field last: "true", want 1`},
		{"src=s&tx=t&i=0&begin=b:4&last=1", "field end: no position"},
		{"src=s&tx=t&tx=u&i=0&begin=b:4", "field tx appears twice"},
		{"src=s&tx&i=0&begin=b:4", `field "tx" is not key=value`},
		{"src=s&tx=t%2&i=0&begin=b:4", `field tx: "t%2": '%' not followed by two hex digits`},
	} {
		h := nats.Header{}
		if tc.mark != "" {
			h.Set(HeaderMark, tc.mark)
		}
		_, err := decodeHeaders(h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decodeHeaders(%q) = %v, want an error containing %q", tc.mark, err, tc.want)
		}
	}
}

// FuzzHeaders: decode(encode(mark)) is the identity for every mark the
// tailer can produce, whatever the binlog file is called.
func FuzzHeaders(f *testing.F) {
	f.Add("src", "0-1-42", "binlog.000001", uint64(4), "0-1-41", 3, true, uint64(900), "0-1-42")
	f.Add("s", "uuid:1-5", "mysql-bin.000010", uint64(123456), "", 0, false, uint64(0), "")
	f.Add("s", "t", "a&b=c%d e", uint64(1), "", 0, true, uint64(2), "")
	f.Fuzz(func(t *testing.T, source, txn, file string, off uint64, gset string, idx int, last bool, end uint64, endSet string) {
		if source == "" || txn == "" || file == "" || idx < 0 {
			return
		}
		m := tributary.TxnMark{Source: source, ID: txn, GTID: txn, Index: idx, Last: last,
			Begin: tributary.Position{File: file, Offset: off, GTIDSet: gset}}
		if last {
			m.End = tributary.Position{File: file, Offset: end, GTIDSet: endSet}
		}
		v := encodeMark(m)
		if !validHeaderValue(v) {
			t.Fatalf("encodeMark(%+v) = %q: not a valid header value", m, v)
		}
		got, err := decodeMark(v)
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", m, err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

// validHeaderValue: NATS header values are single-line text without
// leading or trailing white space.
func validHeaderValue(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

func TestServerVersions(t *testing.T) {
	for _, tc := range []struct {
		version           string
		supported, atomic bool
	}{
		{"2.15.2", true, true}, {"v2.12.0", true, true}, {"2.11.9", true, false},
		{"2.10.0", true, false}, {"2.9.25", false, false}, {"3.0.0", true, true}, {"", false, false},
	} {
		if got := Supported(tc.version); got != tc.supported {
			t.Errorf("Supported(%q) = %v, want %v", tc.version, got, tc.supported)
		}
		if got := SupportsAtomic(tc.version); got != tc.atomic {
			t.Errorf("SupportsAtomic(%q) = %v, want %v", tc.version, got, tc.atomic)
		}
	}
}

// Consecutive whole transactions are appended as one atomic batch, up to
// MaxAtomic messages; a transaction never straddles two batches.
func TestGroupedTransactions(t *testing.T) {
	ctx := context.Background()
	nc := startServer(t)
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc", MaxAtomic: 5})
	for i, n := range []int{2, 2, 2, 1} {
		if err := s.Append(ctx, testEvents(fmt.Sprintf("0-1-%d", 10+i), n, true)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	batchOf := map[string]string{}
	got := storedHeaders(t, nc, 7, func(h nats.Header) string {
		id := h.Get(headerBatchID)
		if len(id) > 14 {
			t.Errorf("batch id %q: %d bytes, want at most 14 (it is stored with every message)", id, len(id))
		}
		if _, ok := batchOf[id]; !ok {
			batchOf[id] = fmt.Sprintf("b%d", len(batchOf)+1)
		}
		m, err := decodeHeaders(h)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID + "@" + batchOf[id] + "/" + h.Get(headerBatchSeq)
	})
	// 2+2 fit in 5; the third transaction would not, so it starts a new
	// batch with the fourth.
	want := []string{"0-1-10@b1/1", "0-1-10@b1/2", "0-1-11@b1/3", "0-1-11@b1/4", "0-1-12@b2/1", "0-1-12@b2/2", "0-1-13@b2/3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("txn@batch/seq (-want +got):\n%s", diff)
	}
}

// fakeAck is an acknowledgement that arrives only if the test sends it.
type fakeAck struct {
	ok  chan *jetstream.PubAck
	err chan error
}

func (f fakeAck) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f fakeAck) Err() <-chan error            { return f.err }
func (f fakeAck) Msg() *nats.Msg               { return nil }

// An acknowledgement pending when the connection drops fails at once with
// ErrConnectionLost; one that arrived before the loss still counts.
func TestCheckFailsOnLostConnection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arrived bool
		want    error
	}{
		{"pending", false, ErrConnectionLost},
		{"arrived before the loss", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{}
			ack := fakeAck{ok: make(chan *jetstream.PubAck, 1), err: make(chan error)}
			if tc.arrived {
				ack.ok <- &jetstream.PubAck{Sequence: 7}
			}
			lost := make(chan struct{})
			close(lost)
			s.check(pendingAck{fut: ack, want: 7, load: load{msgs: 1}, lost: lost})
			if err := s.failure(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("failure after check = %v, want %v", err, tc.want)
			}
		})
	}
}

// The store learns of a dropped connection from nats.go's status events.
func TestLostSignalledOnDisconnect(t *testing.T) {
	srv, nc := startServerProcess(t)
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc"})
	lost := *s.lost.Load()
	srv.Shutdown()
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the store's lost channel was not closed within 10s of the server shutting down")
	}
}

// storedHeaders describes the headers of stream EV's messages 1..n.
func storedHeaders(t *testing.T, nc *nats.Conn, n uint64, describe func(nats.Header) string) []string {
	t.Helper()
	ctx := context.Background()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, "EV")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := uint64(1); seq <= n; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		out = append(out, describe(m.Header))
	}
	return out
}

// The bytes in flight stay under MaxInFlightBytes, however many messages
// the message bound would let through.
func TestInFlightBytesBound(t *testing.T) {
	nc := startServer(t)
	ctx := context.Background()
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc", MaxInFlight: 4096, MaxInFlightBytes: 40 << 10})
	body := []byte(`{"v":"` + strings.Repeat("x", 4000) + `"}`)
	for i := range 200 {
		b := testEvents("0-1-"+strconv.Itoa(i+10), 5, false) // appended message by message
		for j := range b.Events {
			b.Events[j].Body = body
		}
		if err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if n := streamLen(t, js); n != 1000 {
		t.Fatalf("stream holds %d events, want 1000", n)
	}
	if s.peakBytes > 40<<10 || s.peakBytes < 4000 {
		t.Fatalf("peak bytes in flight %d, want at most %d (and at least one message's)", s.peakBytes, 40<<10)
	}
	t.Logf("peak %d bytes in flight", s.peakBytes)
}
