// Package integration holds black-box tests of the built tributary binary,
// driven as a user would drive it, against real MariaDB instances started
// by scripts/mariadb-sandbox.sh and real nats-server processes built from
// the nats-server module version Tributary embeds.
//
// A test that cannot get MariaDB or NATS fails; it never skips.
package integration
