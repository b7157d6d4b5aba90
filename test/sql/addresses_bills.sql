--
-- addresses and bills: CRUD, referenced client, filters by client,
-- bill numbers unique, a bill used by orders cannot be deleted.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

INSERT INTO clients (name, lastname, email) VALUES ('Ann', 'Lee', 'ann@example.com'), ('Bob', 'Ray', 'bob@example.com');

-- addresses
SELECT pg_temp.try('api_addresses_create', '{"street": "Main St", "number": "12B", "city": "Springfield", "client_id": 1}');
SELECT pg_temp.try('api_addresses_create', '{"client_id": "2"}');
SELECT pg_temp.try('api_addresses_create', '{"street": "Elm St", "city": "Salem", "client_id": 2}');
SELECT pg_temp.try('api_addresses_create', '{"street": "Elm St", "client_id": 3}');
SELECT pg_temp.try('api_addresses_create', '{"street": "", "number": "123456789012345678901", "city": "", "client_id": 1}');
SELECT pg_temp.try('api_addresses_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_addresses_list', NULL, NULL, '2');
SELECT pg_temp.try('api_addresses_list', '1', '1', '2');
SELECT pg_temp.try('api_addresses_list', NULL, NULL, '3');
SELECT pg_temp.try('api_addresses_get', '1');
SELECT pg_temp.try('api_addresses_update', '2', '{"street": "Oak Ave", "client_id": 1}');
SELECT pg_temp.try('api_addresses_update', '2', '{"city": null, "client_id": 1}');
SELECT pg_temp.try('api_addresses_update', '2', '{"city": "Dover", "client_id": 5}');
SELECT pg_temp.try('api_addresses_update', '8', '{"city": "Dover", "client_id": 1}');
SELECT pg_temp.try('api_addresses_delete', '3');
SELECT pg_temp.try('api_addresses_delete', '3');
SELECT pg_temp.try('api_addresses_list', NULL, NULL, NULL);

-- bills
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-1", "discount": 2.5, "date": "2024-03-01", "total": 97.5, "payment_type": 2, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-2", "date": "2024-03-02T00:00:00", "total": "0", "payment_type": "5", "client_id": 2}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-1", "date": "2024-03-03", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-3", "date": "2024-03-03", "total": 1, "payment_type": 1, "client_id": 7}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-3", "discount": -1, "date": "2024-03-03", "total": -0.01, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_bills_list', NULL, NULL, '2');
SELECT pg_temp.try('api_bills_get', '2');
SELECT pg_temp.try('api_bills_update', '2', '{"bill_number": "INV-2b", "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 2}');
SELECT pg_temp.try('api_bills_update', '2', '{"bill_number": "INV-1", "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 2}');
SELECT pg_temp.try('api_bills_update', '2', '{"bill_number": "INV-2b", "discount": null, "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 9}');
SELECT pg_temp.try('api_bills_update', '5', '{"bill_number": "INV-5", "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 2}');
INSERT INTO orders (total, delivery_method, client_id, bill_id) VALUES (97.5, 1, 1, 1);
SELECT pg_temp.try('api_bills_delete', '1');
SELECT pg_temp.try('api_bills_delete', '2');
SELECT pg_temp.try('api_bills_delete', '2');
SELECT pg_temp.try('api_bills_list', NULL, NULL, NULL);
