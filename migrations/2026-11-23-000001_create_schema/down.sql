DROP TABLE server_secrets;
DROP TABLE idempotency_keys;
DROP TABLE order_line_items;
DROP TABLE orders;
DROP TABLE products;
