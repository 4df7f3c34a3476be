package store

// OBJECT ENCODING of the collection kinds, at Redis 7.0's default
// thresholds (the variables in hash.go, set.go and zset.go). Lists are
// always "quicklist" in Redis 7.0; the listpack list came in 7.2.
func init() {
	objectEncodings[KindList] = func(any) string { return "quicklist" }
	objectEncodings[KindHash] = func(v any) string { return v.(*hash).encoding() }
	objectEncodings[KindSet] = func(v any) string { return v.(*set).encoding() }
	objectEncodings[KindZSet] = func(v any) string { return v.(*zset).encoding() }
}
