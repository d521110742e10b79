package tributary

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTxnMarkResume(t *testing.T) {
	begin := Position{File: "binlog.000003", Offset: 400, GTIDSet: "0-1-41"}
	end := Position{File: "binlog.000003", Offset: 900, GTIDSet: "0-1-42"}
	tests := []struct {
		name     string
		mark     TxnMark
		wantFrom Position
		wantSkip int
	}{
		{"after the last row", TxnMark{Begin: begin, End: end, Index: 4, Last: true}, end, 0},
		{"inside a transaction", TxnMark{Begin: begin, Index: 4}, begin, 5},
		{"after its first row", TxnMark{Begin: begin, Index: 0}, begin, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, skip := tc.mark.Resume()
			if diff := cmp.Diff(tc.wantFrom, from); diff != "" || skip != tc.wantSkip {
				t.Fatalf("Resume() = %v, %d; want %v, %d", from, skip, tc.wantFrom, tc.wantSkip)
			}
		})
	}
}

func TestParseFileOffset(t *testing.T) {
	tests := []struct {
		in      string
		file    string
		offset  uint64
		wantErr bool
	}{
		{"binlog.000001:4", "binlog.000001", 4, false},
		{"host:3306-bin.000002:18446744073709551615", "host:3306-bin.000002", 18446744073709551615, false},
		{"binlog.000001", "", 0, true},
		{":4", "", 0, true},
		{"binlog.000001:", "", 0, true},
		{"binlog.000001:-1", "", 0, true},
	}
	for _, tc := range tests {
		file, offset, err := ParseFileOffset(tc.in)
		if (err != nil) != tc.wantErr || file != tc.file || offset != tc.offset {
			t.Errorf("ParseFileOffset(%q) = %q, %d, %v; want %q, %d, error %v", tc.in, file, offset, err, tc.file, tc.offset, tc.wantErr)
		}
	}
}

// FuzzPosition: ParseFileOffset reverses FileOffset.
func FuzzPosition(f *testing.F) {
	f.Add("binlog.000001", uint64(4))
	f.Add("a:b", uint64(0))
	f.Fuzz(func(t *testing.T, file string, offset uint64) {
		if file == "" {
			return
		}
		p := Position{File: file, Offset: offset}
		gotFile, gotOffset, err := ParseFileOffset(p.FileOffset())
		if err != nil || gotFile != file || gotOffset != offset {
			t.Fatalf("ParseFileOffset(%q) = %q, %d, %v", p.FileOffset(), gotFile, gotOffset, err)
		}
	})
}
