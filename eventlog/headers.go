package eventlog

import (
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary"
)

// Message headers. Every event carries its place in the source transaction,
// so that the last stored event alone says where to resume: the stream is
// the checkpoint. docs/EVENTS.md documents them; renaming one breaks resume
// of existing streams.
const (
	HeaderSource      = "Tributary-Source"
	HeaderTxn         = "Tributary-Txn"
	HeaderGTID        = "Tributary-Gtid"
	HeaderBegin       = "Tributary-Begin"
	HeaderBeginGTIDs  = "Tributary-Begin-Gtid-Set"
	HeaderIndex       = "Tributary-Index"
	HeaderLast        = "Tributary-Last"
	HeaderEnd         = "Tributary-End"
	HeaderEndGTIDs    = "Tributary-End-Gtid-Set"
	HeaderContentType = "Content-Type"

	contentType = "application/cloudevents+json; charset=utf-8"
)

func encodeHeaders(m tributary.TxnMark) nats.Header {
	h := make(nats.Header, 10)
	h[HeaderContentType] = []string{contentType}
	h[HeaderSource] = []string{m.Source}
	h[HeaderTxn] = []string{m.ID}
	if m.GTID != "" {
		h[HeaderGTID] = []string{m.GTID}
	}
	h[HeaderBegin] = []string{m.Begin.FileOffset()}
	if m.Begin.GTIDSet != "" {
		h[HeaderBeginGTIDs] = []string{m.Begin.GTIDSet}
	}
	h[HeaderIndex] = []string{strconv.Itoa(m.Index)}
	if m.Last {
		h[HeaderLast] = []string{"true"}
		h[HeaderEnd] = []string{m.End.FileOffset()}
		if m.End.GTIDSet != "" {
			h[HeaderEndGTIDs] = []string{m.End.GTIDSet}
		}
	}
	return h
}

// ErrNotAnEvent means a stored message lacks Tributary's headers: something
// else published into the stream's subjects.
var ErrNotAnEvent = fmt.Errorf("message is not a Tributary event")

func decodeHeaders(h nats.Header) (tributary.TxnMark, error) {
	var m tributary.TxnMark
	m.Source = h.Get(HeaderSource)
	m.ID = h.Get(HeaderTxn)
	if m.Source == "" || m.ID == "" {
		return m, ErrNotAnEvent
	}
	m.GTID = h.Get(HeaderGTID)
	var err error
	if m.Begin, err = decodePosition(h.Get(HeaderBegin), h.Get(HeaderBeginGTIDs)); err != nil {
		return m, fmt.Errorf("header %s: %w", HeaderBegin, err)
	}
	if m.Index, err = strconv.Atoi(h.Get(HeaderIndex)); err != nil {
		return m, fmt.Errorf("header %s: %w", HeaderIndex, err)
	}
	m.Last = h.Get(HeaderLast) == "true"
	if m.Last {
		if m.End, err = decodePosition(h.Get(HeaderEnd), h.Get(HeaderEndGTIDs)); err != nil {
			return m, fmt.Errorf("header %s: %w", HeaderEnd, err)
		}
	}
	return m, nil
}

func decodePosition(fileOffset, gtids string) (tributary.Position, error) {
	p := tributary.Position{GTIDSet: gtids}
	if fileOffset == "" {
		if gtids == "" {
			return p, fmt.Errorf("no position")
		}
		return p, nil
	}
	var err error
	p.File, p.Offset, err = tributary.ParseFileOffset(fileOffset)
	return p, err
}
