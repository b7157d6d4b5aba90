--
-- clients: CRUD, email normalization and uniqueness, passwords (bcrypt,
-- never returned), guests, login, delete rules.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

SELECT pg_temp.try('api_clients_create', '{"name": "Ann", "lastname": "Lee", "email": "Ann.Lee@Example.COM", "telephone": "+34 600 000 000", "password": "s3cret!", "is_admin": true}');
SELECT pg_temp.try('api_clients_create', '{"name": "Bob", "lastname": "Ray", "email": "bob@example.com"}');
-- the domain is case-insensitive: same address, 409
SELECT pg_temp.try('api_clients_create', '{"name": "Ann", "lastname": "Twin", "email": "Ann.Lee@EXAMPLE.com"}');
SELECT pg_temp.try('api_clients_list', NULL, NULL);
SELECT pg_temp.try('api_clients_get', '2');
SELECT pg_temp.try('api_clients_get', '3');

-- the password is stored only as a bcrypt hash; guests have none
SELECT id_key, password ~ '^\$2a\$08\$' AS bcrypt, password = crypt('s3cret!', password) AS matches FROM clients ORDER BY id_key;

-- login(body): the login answer with its token (a fresh JWT each time, see
-- auth.sql) shown as <jwt> when it has a JWT's three base64url parts
CREATE FUNCTION pg_temp.login(body text) RETURNS text
LANGUAGE sql AS $f$
    SELECT regexp_replace(pg_temp.try('api_clients_login', body),
                          '"token" : "[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"', '"token" : "<jwt>"')
$f$;

-- login: the normalized email and the right password
SELECT pg_temp.login('{"email": "Ann.Lee@example.com", "password": "s3cret!"}');
SELECT pg_temp.login('{"email": "ann.lee@example.com", "password": "s3cret!"}');
SELECT pg_temp.login('{"email": "Ann.Lee@example.com", "password": "wrong"}');
SELECT pg_temp.login('{"email": "nobody@example.com", "password": "s3cret!"}');
-- a guest can never log in
SELECT pg_temp.login('{"email": "bob@example.com", "password": ""}');
SELECT pg_temp.login('{"email": "bob@example.com", "password": "anything"}');

-- PUT: full body; no password keeps the current one, a password replaces it
SELECT pg_temp.try('api_clients_update', '1', '{"name": "Ann", "lastname": "Lee-Smith", "email": "ann.lee@example.com"}');
SELECT pg_temp.login('{"email": "ann.lee@example.com", "password": "s3cret!"}');
SELECT pg_temp.try('api_clients_update', '1', '{"name": "Ann", "lastname": "Lee-Smith", "email": "ann.lee@example.com", "password": null, "telephone": null}');
SELECT pg_temp.login('{"email": "ann.lee@example.com", "password": "s3cret!"}');
SELECT pg_temp.try('api_clients_update', '2', '{"name": "Bob", "lastname": "Ray", "email": "bob@example.com", "password": "new pass"}');
SELECT pg_temp.login('{"email": "BOB@example.com", "password": "new pass"}');
SELECT pg_temp.login('{"email": "bob@Example.com", "password": "new pass"}');
-- taking another client's email: 409
SELECT pg_temp.try('api_clients_update', '2', '{"name": "Bob", "lastname": "Ray", "email": "ann.lee@EXAMPLE.com"}');
SELECT pg_temp.try('api_clients_update', '9', '{"name": "Bob", "lastname": "Ray", "email": "x@example.com"}');
-- is_admin never comes from a body
SELECT pg_temp.try('api_clients_update', '2', '{"name": "Bob", "lastname": "Ray", "email": "bob@example.com", "is_admin": true}');

-- Delete: addresses go with the client; orders or bills keep it.
INSERT INTO addresses (street, city, client_id) VALUES ('Main St', 'Springfield', 2), ('Elm St', 'Salem', 2);
SELECT pg_temp.try('api_clients_delete', '2');
SELECT count(*) AS addresses_left FROM addresses;
INSERT INTO bills (bill_number, date, total, payment_type, client_id) VALUES ('B-1', '2024-01-01', 10, 1, 1);
SELECT pg_temp.try('api_clients_delete', '1');
DELETE FROM bills;
-- (ids are not reused: the refused duplicate above consumed id 3)
SELECT pg_temp.try('api_clients_create', '{"name": "Cid", "lastname": "Roe", "email": "cid@example.com"}');
INSERT INTO bills (bill_number, date, total, payment_type, client_id) VALUES ('B-2', '2024-01-01', 10, 1, 4);
-- client 1 has an order (on Cid's bill), Cid has a bill
INSERT INTO orders (total, delivery_method, client_id, bill_id) VALUES (10, 1, 1, 2);
SELECT pg_temp.try('api_clients_delete', '1');
SELECT pg_temp.try('api_clients_delete', '4');
DELETE FROM orders;
SELECT pg_temp.try('api_clients_delete', '1');
SELECT pg_temp.try('api_clients_delete', '1');
SELECT pg_temp.try('api_clients_list', NULL, NULL);
