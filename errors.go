package tributary

import "errors"

// Errors shared across packages. Check them with errors.Is.
var (
	// ErrConflict means another writer appended to the event log since this
	// one last read it: two pipelines are running for one source. Retrying
	// would interleave their events, so it is never retried.
	ErrConflict = errors.New("another writer appended to the event log")

	// ErrBinlogPurged means the binlog needed to continue no longer exists
	// on the source. Continuing would silently skip changes.
	ErrBinlogPurged = errors.New("the binlog needed to continue has been purged")

	// ErrPreflight means the source or the event log is configured in a way
	// that cannot give Tributary's guarantees.
	ErrPreflight = errors.New("preflight check failed")
)
