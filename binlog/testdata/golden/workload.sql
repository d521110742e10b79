-- The workload recorded in mariadb-10.11.binlog by scripts/record-golden.sh.
-- Every type family, edge values, multi-row statements, updates, deletes,
-- DDL mid-stream and a table without a primary key.
SET SESSION sql_mode = '';
SET SESSION time_zone = '+05:30';
CREATE DATABASE g;
CREATE TABLE g.nums (id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, d65 DECIMAL(65,30), d10 DECIMAL(10,2), f FLOAT, d DOUBLE,
  b1 BIT(1), b64 BIT(64), yr YEAR);
INSERT INTO g.nums (id) VALUES (1);
INSERT INTO g.nums VALUES
  (2, -128, 0, -32768, 0, -2147483648, 0, -9223372036854775808, 0,
   '-99999999999999999999999999999999999.999999999999999999999999999999', -99999999.99, -3.40282e38, -1.7976931348623157e308, b'0', 0, 1901),
  (3, 127, 255, 32767, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
   '0.000000000000000000000000000001', 1.10, 1.1, 0.1, b'1', 18446744073709551615, 2155);
CREATE TABLE g.times (id INT PRIMARY KEY, dt DATE, dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL,
  tm TIME, tm2 TIME(2));
INSERT INTO g.times (id) VALUES (1);
INSERT INTO g.times VALUES
  (2, '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 05:30:01', '2038-01-19 08:44:07.999', '-838:59:59', '-00:00:00.5'),
  (3, '0000-00-00', '0000-00-00 00:00:00', '2024-02-00 00:00:00.000001', '0000-00-00 00:00:00', '2024-10-27 03:00:00.001', '838:59:59', '100:00:00.01');
CREATE TABLE g.texts (id INT PRIMARY KEY, c CHAR(4), vc VARCHAR(20), l1 VARCHAR(10) CHARACTER SET latin1, tx TEXT,
  bn BINARY(4), vb VARBINARY(8), bl BLOB, en ENUM('a','😀',''), enl ENUM('é','x') CHARACTER SET latin1, st SET('x','y','z'),
  js JSON, uu UUID, ip4 INET4, ip6 INET6, g GEOMETRY);
INSERT INTO g.texts (id) VALUES (1);
INSERT INTO g.texts VALUES
  (2, 'a  ', '😀 "q"\\\t', X'80E9FF', 'multi\nline', X'01000000', X'', X'00FF', '😀', 'é', 'x,z', '{"a":[1,2.50,null]}',
   '6ccd780c-baba-1026-9564-5b8c656024db', '192.168.1.10', '::ffff:192.0.2.1', ST_GeomFromText('POINT(1 2)')),
  (3, '', '', '', '', X'', X'00', X'', '', 'x', '', 'null', '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::', ST_GeomFromText('LINESTRING(0 0,1 1)'));
UPDATE g.texts SET vc = 'changed', js = '[]' WHERE id = 2;
DELETE FROM g.texts WHERE id = 3;
CREATE TABLE g.nokey (v INT, w VARCHAR(10));
INSERT INTO g.nokey VALUES (1, 'one'), (1, 'one');
DELETE FROM g.nokey LIMIT 1;
CREATE TABLE g.uniq (a INT NULL UNIQUE, b VARCHAR(10) NOT NULL, c INT NOT NULL, UNIQUE KEY (b, c));
INSERT INTO g.uniq VALUES (NULL, 'b.1', 2);
BEGIN;
INSERT INTO g.nums (id, i) VALUES (10, 1), (11, 2), (12, 3);
UPDATE g.nums SET i = i + 1 WHERE id >= 10;
DELETE FROM g.nums WHERE id = 11;
COMMIT;
ALTER TABLE g.nums ADD COLUMN extra VARCHAR(5) DEFAULT 'new' AFTER id, DROP COLUMN ti;
UPDATE g.nums SET extra = 'upd' WHERE id = 10;
ALTER TABLE g.texts RENAME COLUMN vc TO vc2;
UPDATE g.texts SET vc2 = 'again' WHERE id = 2;
