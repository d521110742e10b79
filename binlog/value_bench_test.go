package binlog

import "testing"

// BenchmarkAppendText: text values, as go-mysql hands them over (string for
// VARCHAR, []byte for TEXT), are not copied on their way into the body:
// 0 allocations per value.
func BenchmarkAppendText(b *testing.B) {
	c := &column{kind: kindText}
	text := "customer-00012345 lorem ipsum dolor sit amet, consectetur adipiscing"
	var s, bs any = text, []byte(text) // boxed, as go-mysql hands them over
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendValue(buf[:0], c, s)
		buf, _ = appendValue(buf[:0], c, bs)
	}
}
