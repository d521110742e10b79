// Package tributary holds the domain vocabulary shared by every part of
// Tributary: the Event a committed row change becomes, the Position of a
// transaction in a source's binlog, and the errors several packages report.
//
// It imports the standard library only. The binlog package produces Events,
// the eventlog package stores them, and cmd/tributary wires the two; neither
// knows the other.
package tributary
