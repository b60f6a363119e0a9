-- CreateOrder as the service sends it (captured from PostgreSQL's statement
-- log): one statement, `place_order(...)` in a CTE that writes the audit
-- row (which is also the outbox event, with a payload of the size the
-- service encodes), which is also the fewest round trips this work can take. 3 lines of
-- distinct seeded products (ids are md5 of the SKU, prices follow from the
-- number: see orders-seed), 1-3 units each, a request_id, and a response of
-- the size the service stores. The service binds the order id and time
-- twice (once for the order, once for its audit row); pgbench cannot make a
-- uuid variable, so `ids` computes them once and both places read it.
-- place_order refuses a line whose name differs from the product's (the
-- service's cached name would be stale), and seeded names cannot be
-- computed here, so each product's name is read by its id: three index
-- lookups that the service, which caches names, does not pay.
-- Run with -D products=N -D customers=N matching the seeded database.
\set third :products / 3
\set p1 random(0, :third - 1)
\set p2 :p1 + :third
\set p3 :p2 + :third
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
\set c random(0, :customers - 1)
\set u1 1 + :p1 % 50
\set u2 1 + :p2 % 50
\set u3 1 + :p3 % 50
\set n1 (:p1 % 4) * 250000000
\set n2 (:p2 % 4) * 250000000
\set n3 (:p3 % 4) * 250000000
\set t1 (1000000000 * :u1 + :n1) * :q1
\set t2 (1000000000 * :u2 + :n2) * :q2
\set t3 (1000000000 * :u3 + :n3) * :q3
\set total :t1 + :t2 + :t3
\set tu :total / 1000000000
\set tn :total % 1000000000
\set lu1 :t1 / 1000000000
\set lu2 :t2 / 1000000000
\set lu3 :t3 / 1000000000
\set ln1 :t1 % 1000000000
\set ln2 :t2 % 1000000000
\set ln3 :t3 % 1000000000
WITH ids AS (
    -- a time-ordered id, like the service's UUIDv7
    SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
            || substr(md5(random()::text), 1, 20))::uuid AS id, now() AS t
), placed AS (SELECT p.* FROM ids, place_order(
    ids.id,
    'cust-' || lpad(:c::text, 6, '0'), 'EUR'::text, :tu::bigint, :tn::integer,
    'Ada Lovelace'::text, '12 St James''s Square'::text, 'Flat 2'::text, 'London'::text,
    'Greater London'::text, 'SW1Y 4JH'::text, 'GB'::text, ids.t,
    ARRAY[md5('load-' || lpad(:p1::text, 6, '0'))::uuid, md5('load-' || lpad(:p2::text, 6, '0'))::uuid,
          md5('load-' || lpad(:p3::text, 6, '0'))::uuid],
    ARRAY[:q1::integer, :q2::integer, :q3::integer],
    ARRAY['load-' || lpad(:p1::text, 6, '0'), 'load-' || lpad(:p2::text, 6, '0'), 'load-' || lpad(:p3::text, 6, '0')],
    ARRAY[(SELECT name FROM products WHERE id = md5('load-' || lpad(:p1::text, 6, '0'))::uuid),
          (SELECT name FROM products WHERE id = md5('load-' || lpad(:p2::text, 6, '0'))::uuid),
          (SELECT name FROM products WHERE id = md5('load-' || lpad(:p3::text, 6, '0'))::uuid)],
    ARRAY[:u1::bigint, :u2::bigint, :u3::bigint],
    ARRAY[:n1::integer, :n2::integer, :n3::integer],
    ARRAY[:lu1::bigint, :lu2::bigint, :lu3::bigint],
    ARRAY[:ln1::integer, :ln2::integer, :ln3::integer],
    'CreateOrder/cust-' || lpad(:c::text, 6, '0'), gen_random_uuid(), sha256(random()::text::bytea),
    decode(repeat('0a', 420), 'hex'), 'cust-' || lpad(:c::text, 6, '0') || '@example.com') p
), audit AS (
    INSERT INTO audit_events (event_time, actor_subject, actor_role, request_id, action, resource_type,
                              resource_id, to_state, event_id, event_payload)
    SELECT ids.t, 'cust-' || lpad(:c::text, 6, '0'), 'customer', gen_random_uuid()::text, 'ORDER_CREATED',
           'orders.v1.Order', ids.id, 'PLACED', gen_random_uuid(), decode(repeat('0a', 480), 'hex')
    FROM placed, ids WHERE placed.outcome = 'placed'
)
SELECT outcome, prior_hash, prior_response, found_ids, found_stock FROM placed;
