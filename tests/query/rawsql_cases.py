"""Raw SQL statements for the checker's tests and the HTTP proof that refusals never run.

``HOSTILE``: each must be refused on every vendor listed (both by default) without reaching the
database. ``LEGIT``: analytics SQL that must pass and, over the API fixtures' shop data, run.
The canary table ``api_canary`` exists in the API tests' database and is never exposed;
``shop_customer.api_token`` is a hidden column there (absent from the pure test catalog).
"""

from __future__ import annotations

#: Every vendor (the name is older than the MySQL dialect).
BOTH = ("postgresql", "sqlite", "mysql")
PG = ("postgresql",)
#: On MySQL (without ANSI_QUOTES) a double-quoted word is a string literal, not a name: such a
#: statement reads no column there, so it is not refused.
NOT_MYSQL = ("postgresql", "sqlite")
MYSQL = ("mysql",)

#: (statement, vendors on which it must be refused)
HOSTILE: list[tuple[str, tuple[str, ...]]] = [
    # unexposed, protected and system tables
    ("SELECT * FROM api_canary", BOTH),
    ("SELECT secret FROM api_canary", BOTH),
    ("TABLE api_canary", BOTH),
    ('SELECT * FROM "API_CANARY"', BOTH),
    ("SELECT * FROM public.api_canary", BOTH),
    ("SELECT * FROM auth_user", BOTH),
    ("SELECT password FROM auth_user", BOTH),
    ("SELECT * FROM django_session", BOTH),
    ("SELECT * FROM prismiq_django_savedquery", BOTH),
    ("SELECT * FROM pg_catalog.pg_user", BOTH),
    ("SELECT usename, passwd FROM pg_shadow", BOTH),
    ("SELECT * FROM pg_class", BOTH),
    ("SELECT * FROM information_schema.tables", BOTH),
    ("SELECT table_name, column_name FROM information_schema.columns", BOTH),
    ("SELECT * FROM sqlite_master", BOTH),
    ("SELECT sql FROM sqlite_schema", BOTH),
    ("SELECT * FROM other_schema.shop_order", BOTH),
    ("SELECT * FROM main.shop_order", BOTH),
    ("SELECT * FROM db.public.shop_order", BOTH),
    # several statements, comments
    ("SELECT * FROM shop_order; DROP TABLE api_canary", BOTH),
    ("SELECT 1; SELECT * FROM api_canary", BOTH),
    ("SELECT * FROM shop_order -- harmless\n; DELETE FROM shop_order", BOTH),
    ("SELECT * FROM shop_order /* ; */ ; DELETE FROM shop_order", BOTH),
    ("/* SELECT */ DELETE FROM shop_order", BOTH),
    ("SELECT id FROM shop_order WHERE status = :s; DROP TABLE shop_order", BOTH),
    # not a query
    ("DELETE FROM shop_order", BOTH),
    ("UPDATE shop_order SET total = 0", BOTH),
    ("INSERT INTO shop_order (id) VALUES (1)", BOTH),
    ("DROP TABLE shop_order", BOTH),
    ("CREATE TABLE stolen AS SELECT * FROM shop_order", BOTH),
    ("TRUNCATE shop_order", BOTH),
    ("ALTER TABLE shop_order ADD COLUMN x integer", BOTH),
    ("COPY shop_order TO '/tmp/x'", BOTH),
    ("COPY (SELECT * FROM api_canary) TO PROGRAM 'id'", BOTH),
    ("DO $$ BEGIN PERFORM pg_sleep(10); END $$", BOTH),
    ("CALL some_procedure()", BOTH),
    ("SET statement_timeout = 0", BOTH),
    ("SET ROLE postgres", BOTH),
    ("RESET ALL", BOTH),
    ("BEGIN", BOTH),
    ("COMMIT", BOTH),
    ("LISTEN channel", BOTH),
    ("NOTIFY channel", BOTH),
    ("PREPARE p AS SELECT * FROM api_canary", BOTH),
    ("EXPLAIN SELECT * FROM shop_order", BOTH),
    ("EXPLAIN ANALYZE DELETE FROM shop_order", BOTH),
    ("PRAGMA table_info(shop_customer)", BOTH),
    ("ATTACH DATABASE '/tmp/x.db' AS x", BOTH),
    ("VACUUM", BOTH),
    ("VALUES (1)", BOTH),
    # INTO, locking, writable CTEs
    ("SELECT * INTO stolen FROM shop_order", BOTH),
    ("SELECT * FROM shop_order FOR UPDATE", BOTH),
    ("SELECT * FROM shop_order FOR SHARE", BOTH),
    ("SELECT id FROM shop_order INTO OUTFILE '/tmp/x'", BOTH),
    ("WITH d AS (DELETE FROM shop_order RETURNING *) SELECT * FROM d", BOTH),
    ("WITH u AS (UPDATE shop_order SET total = 0 RETURNING id) SELECT id FROM u", BOTH),
    ("WITH i AS (INSERT INTO shop_order (id) VALUES (1) RETURNING id) SELECT id FROM i", BOTH),
    (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        BOTH,
    ),
    # functions with side effects, files, network, sleep, configuration, large objects
    ("SELECT pg_sleep(10)", BOTH),
    ("SELECT pg_catalog.pg_sleep(1)", BOTH),
    ("SELECT id FROM shop_order WHERE pg_sleep(1) IS NULL", BOTH),
    ("SELECT pg_read_file('/etc/passwd')", BOTH),
    ("SELECT pg_ls_dir('.')", BOTH),
    ("SELECT lo_import('/etc/passwd')", BOTH),
    ("SELECT lo_export(1, '/tmp/x')", BOTH),
    ("SELECT dblink('host=evil', 'SELECT 1')", BOTH),
    ("SELECT set_config('app.tenant_id', '2', false)", BOTH),
    ("SELECT current_setting('app.tenant_id')", BOTH),
    ("SELECT pg_advisory_lock(1)", BOTH),
    ("SELECT nextval('shop_order_id_seq')", BOTH),
    ("SELECT txid_current()", BOTH),
    ("SELECT pg_terminate_backend(1)", BOTH),
    ("SELECT query_to_xml('SELECT * FROM api_canary', true, true, '')", BOTH),
    ("SELECT has_table_privilege('api_canary', 'select')", BOTH),
    ("SELECT to_regclass('api_canary')", BOTH),
    ("SELECT 'api_canary'::regclass", BOTH),
    ("SELECT CAST('api_canary' AS regclass)", BOTH),
    ("SELECT version()", BOTH),
    ("SELECT current_user", BOTH),
    ("SELECT inet_server_addr()", BOTH),
    ("SELECT load_extension('evil')", BOTH),
    ("SELECT readfile('/etc/passwd')", BOTH),
    ("SELECT writefile('/tmp/x', 'y')", BOTH),
    ("SELECT zeroblob(1000000000)", BOTH),
    ("SELECT sleep(5)", BOTH),
    ("SELECT benchmark(100000000, md5('x'))", BOTH),
    ("SELECT load_file('/etc/passwd')", BOTH),
    ("SELECT * FROM generate_series(1, 100000000)", BOTH),
    # system columns
    ("SELECT ctid, id FROM shop_order", BOTH),
    ("SELECT xmin FROM shop_order", BOTH),
    ("SELECT oid FROM shop_order", BOTH),
    ("SELECT rowid FROM shop_order", BOTH),
    ("SELECT _rowid_ FROM shop_order", BOTH),
    ("SELECT id FROM shop_order o WHERE o.ctid = '(0,1)'", BOTH),
    # hidden columns, however spelled or reached
    ("SELECT api_token FROM shop_customer", BOTH),
    ("SELECT c.api_token FROM shop_customer c", BOTH),
    ('SELECT "shop_customer"."api_token" FROM "shop_customer"', BOTH),
    ('SELECT "API_TOKEN" FROM shop_customer', NOT_MYSQL),
    ("SELECT Api_Token FROM shop_customer", BOTH),
    ("SELECT id FROM shop_customer WHERE api_token = 'x'", BOTH),
    ("SELECT count(*) FROM shop_customer GROUP BY api_token", BOTH),
    ("SELECT name FROM shop_customer ORDER BY api_token", BOTH),
    ("SELECT (SELECT api_token FROM shop_customer LIMIT 1)", BOTH),
    ("SELECT * FROM (SELECT api_token FROM shop_customer) AS s", BOTH),
    ("SELECT o.id FROM shop_order o JOIN shop_customer c USING (api_token)", BOTH),
    ("SELECT * FROM shop_order NATURAL JOIN shop_customer", BOTH),
    # whole-row references
    ("SELECT c FROM shop_customer c", BOTH),
    ("SELECT row_to_json(c) FROM shop_customer c", BOTH),
    ("SELECT to_jsonb(c.*) FROM shop_customer c", BOTH),
    # unexposed tables through subqueries, CTEs, set operations, shadowing
    ("SELECT * FROM (SELECT * FROM api_canary) s", BOTH),
    ("WITH shop_order AS (SELECT * FROM api_canary) SELECT * FROM shop_order", BOTH),
    (
        "WITH x AS (SELECT secret FROM api_canary) "
        "SELECT id FROM shop_order WHERE status IN (SELECT secret FROM x)",
        BOTH,
    ),
    ("SELECT id FROM shop_order WHERE EXISTS (SELECT 1 FROM api_canary)", BOTH),
    ("SELECT name FROM shop_customer UNION SELECT secret FROM api_canary", BOTH),
    ("SELECT id FROM shop_order WHERE total > ALL (SELECT id FROM api_canary)", BOTH),
    ("SELECT o.*, c.* FROM shop_order o JOIN api_canary c ON true", BOTH),
    ("SELECT id FROM shop_order WHERE customer_id IN (SELECT id FROM auth_user)", BOTH),
    ("SELECT * FROM shop_order, LATERAL (SELECT * FROM api_canary) x", BOTH),
    ("SELECT id FROM shop_order WHERE total > (SELECT count(*) FROM pg_class)", BOTH),
    # quoting tricks, unicode escapes, dollar quoting, escape strings
    ('SELECT U&"api\\005Ftoken" FROM shop_customer', BOTH),
    ('SELECT * FROM U&"api\\005Fcanary"', BOTH),
    ("SELECT $$x$$ FROM shop_order", BOTH),
    ("SELECT $q$; DELETE FROM shop_order; $q$", BOTH),
    ("SELECT E'\\x41' FROM shop_order", BOTH),
    ("SELECT x'41' FROM shop_order", BOTH),
    ('SELECT "id" FROM "shop_order"" ; DROP TABLE x; --"', BOTH),
    ("SELECT 1 FROM shop_order WHERE status = 'paid'\x00; DROP TABLE api_canary", BOTH),
    # identifiers that differ only by case (PostgreSQL: a quoted name is exact)
    ('SELECT * FROM "Shop_Order"', PG),
    ('SELECT "Status" FROM shop_order', PG),
    # MySQL's and MariaDB's own spellings
    ("SELECT `api_token` FROM shop_customer", BOTH),
    ("SELECT `shop_customer`.`api_token` FROM `shop_customer`", BOTH),
    ("SELECT * FROM `API_CANARY`", BOTH),
    ("SELECT * FROM mysql.user", BOTH),
    ("SELECT * FROM information_schema.processlist", BOTH),
    ("SELECT * FROM test_prismiq.shop_order", BOTH),
    ("SELECT @@version", BOTH),
    ("SELECT @x := 1", MYSQL),
    ("SELECT id FROM shop_order INTO DUMPFILE '/tmp/x'", BOTH),
    ("SELECT * FROM shop_order LOCK IN SHARE MODE", BOTH),
    ("SELECT id FROM shop_order PROCEDURE ANALYSE()", BOTH),
    ("LOAD DATA INFILE '/etc/passwd' INTO TABLE shop_order", BOTH),
    ("HANDLER shop_order OPEN", BOTH),
    ("SHOW TABLES", BOTH),
    ("SELECT SQL_CALC_FOUND_ROWS id FROM shop_order", MYSQL),
    ("SELECT found_rows()", BOTH),
    ("SELECT get_lock('x', 1)", BOTH),
    ("SELECT release_all_locks()", BOTH),
    ("SELECT database()", BOTH),
    ("SELECT user()", BOTH),
    ("SELECT connection_id()", BOTH),
    ("SELECT last_insert_id()", BOTH),
    ("SELECT master_pos_wait('x', 1)", BOTH),
    ("SELECT sys_exec('id')", BOTH),
    ("SELECT _binary'x'", MYSQL),
    ("SELECT id FROM shop_order t1, shop_order t2 FORCE INDEX (PRIMARY)", MYSQL),
    # parameters other than :name
    ("SELECT id FROM shop_order WHERE id = ?", BOTH),
    ("SELECT id FROM shop_order WHERE id = $1", BOTH),
    ("SELECT id FROM shop_order WHERE id = %s", BOTH),
    ("SELECT id FROM shop_order WHERE id = %(x)s", BOTH),
    # sampling, sizes
    ("SELECT * FROM shop_order TABLESAMPLE SYSTEM (10)", BOTH),
    ("SELECT " + "(" * 3000 + "1" + ")" * 3000, BOTH),
    ("SELECT 1" + " " * 100_001, BOTH),
    ("", BOTH),
    ("   ;  ", BOTH),
]

#: (statement, params) of analytics SQL that must pass on every vendor (spelled for it by
#: :func:`spelled_for`).
LEGIT: list[tuple[str, dict[str, object]]] = [
    ("SELECT status, count(*) AS n FROM shop_order GROUP BY status ORDER BY n DESC, status", {}),
    ("SELECT * FROM shop_customer ORDER BY id", {}),
    (
        "select c.name, sum(o.total) as revenue from shop_order o join shop_customer c "
        "on c.id = o.customer_id group by c.name order by revenue desc limit 3",
        {},
    ),
    (
        "WITH per_customer AS (SELECT customer_id, sum(total) AS spent FROM shop_order "
        "GROUP BY customer_id) SELECT c.name, p.spent FROM per_customer p "
        "JOIN shop_customer c ON c.id = p.customer_id ORDER BY p.spent DESC",
        {},
    ),
    (
        "SELECT id, total, row_number() OVER (PARTITION BY customer_id ORDER BY ordered_at) AS rn,"
        " sum(total) OVER (ORDER BY ordered_at) AS running FROM shop_order ORDER BY id",
        {},
    ),
    ("SELECT name FROM shop_customer UNION SELECT name FROM shop_product ORDER BY 1", {}),
    (
        "SELECT city FROM shop_customer WHERE country = :country EXCEPT SELECT 'Paris' ORDER BY 1",
        {"country": "FR"},
    ),
    (
        "SELECT id FROM shop_order WHERE customer_id IN (SELECT id FROM shop_customer "
        "WHERE is_active) AND total >= :min ORDER BY id",
        {"min": 50},
    ),
    (
        "SELECT o.id FROM shop_order o WHERE EXISTS (SELECT 1 FROM shop_orderitem i "
        "WHERE i.order_id = o.id AND i.quantity > 2) ORDER BY o.id",
        {},
    ),
    (
        "SELECT category, avg(price) AS avg_price, min(price), max(price) FROM shop_product "
        "GROUP BY category HAVING count(*) >= 1 ORDER BY category",
        {},
    ),
    (
        "SELECT p.name, coalesce(sum(i.quantity), 0) AS units FROM shop_product p "
        "LEFT JOIN shop_orderitem i ON i.product_id = p.id GROUP BY p.name ORDER BY units DESC",
        {},
    ),
    (
        "SELECT s.status, s.n FROM (SELECT status, count(*) AS n FROM shop_order GROUP BY status) "
        "AS s WHERE s.n > 1 ORDER BY s.status",
        {},
    ),
    (
        "SELECT name, CASE WHEN total > 100 THEN 'big' ELSE 'small' END AS size FROM shop_order o "
        "JOIN shop_customer c ON c.id = o.customer_id ORDER BY o.id",
        {},
    ),
    (
        "SELECT status, rank() OVER (ORDER BY sum(total) DESC) AS r FROM shop_order "
        "GROUP BY status",
        {},
    ),
    ("SELECT '100%' AS label, count(*) FROM shop_product WHERE name LIKE '%cotton%'", {}),
    ('SELECT "shop_order"."id" FROM "shop_order" WHERE "status" = \'paid\' ORDER BY 1', {}),
    (
        "SELECT upper(country) AS cc, count(DISTINCT city) FROM shop_customer GROUP BY 1 "
        "ORDER BY 1",
        {},
    ),
    (
        "SELECT id FROM shop_order WHERE ordered_at >= :since ORDER BY id LIMIT 5",
        {"since": "2024-02-01"},
    ),
]


def spelled_for(vendor: str, sql: str) -> str:
    """``sql`` (a :data:`LEGIT` statement) as written for ``vendor``: MySQL quotes names with
    backticks (a double-quoted word is a string there)."""
    return sql.replace('"', "`") if vendor == "mysql" else sql
