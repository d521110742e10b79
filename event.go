package tributary

import "time"

// Event is one committed row change, already encoded as the CloudEvents JSON
// body that is stored in the event log. It is immutable once built: the
// event log may hold on to Body until the append is acknowledged.
type Event struct {
	// ID is the CloudEvents id: deterministic from the source name and the
	// binlog coordinates, so replaying the same binlog yields the same ids.
	ID string
	// Subject is the full NATS subject, prefix included.
	Subject string
	// Time is the source commit time carried in the body.
	Time time.Time
	// Body is the CloudEvents 1.0 structured JSON object.
	Body []byte
	// Txn places the event in its source transaction.
	Txn TxnMark
}

// TxnMark places one event inside its source transaction. The event log
// stores it next to the body, and resuming reads it back from the last
// stored event, so it must say everything needed to continue exactly after
// that event.
type TxnMark struct {
	// Source is the configured source name; one stream holds one source.
	Source string
	// ID identifies the transaction: its GTID where the source has GTIDs,
	// otherwise the binlog file:offset of its first event.
	ID string
	// GTID is the transaction's own GTID; empty without GTIDs.
	GTID string
	// Begin is where the transaction starts: its first event's file:offset,
	// and the executed GTID set before it.
	Begin Position
	// Index is the row's index in the transaction, from 0.
	Index int
	// Last marks the transaction's final row.
	Last bool
	// End is the position just after the transaction's commit; set only on
	// the last row, because a large transaction's earlier rows are stored
	// before its end is known.
	End Position
}

// Resume returns where reading must restart to continue exactly after this
// event, and how many rows of the transaction found there have already been
// stored and must be skipped.
//
// After the last row of a transaction, reading continues at End with
// nothing to skip. After any other row, the transaction is read again from
// Begin, and its first Index+1 rows are skipped.
func (m TxnMark) Resume() (from Position, skip int) {
	if m.Last {
		return m.End, 0
	}
	return m.Begin, m.Index + 1
}

// Batch is a run of consecutive events of one source transaction, in
// order. When Whole is set it is the entire transaction and must be stored
// atomically; otherwise it is part of a transaction too large to hold, and
// the transaction's end is marked by the Last flag of its final event.
type Batch struct {
	Events []Event
	Whole  bool
}
