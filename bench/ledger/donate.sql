-- pgbench script of bench/ledger/run (run with -M prepared; -D stream_id, streamer, first_donor,
-- donors): the statements one POST /live/donate makes Reelhub run, in the same transactions and
-- order, for a donation of 1.00 USD with the 10 % fee. Copied from src/modules/streams/repo.cpp
-- (streams.find), src/modules/payments/idempotency.cpp and repo.cpp (the donation), and
-- src/modules/notifications/repo.cpp (the streamer's notification). Not reproduced: the WebSocket
-- fan-out's pg_notify of the `donation` and `notification.new` events, which the server batches
-- on its one fan-out connection. Client c donates from donor first_donor + c mod donors.
\set donor :first_donor + :client_id % :donors
\set key random(1, 1000000000000000)

-- StreamService::live_owner: is the stream live, and whose is it (its own transaction).
BEGIN;
SELECT id::text, user_id, name, title, description, status, passphrase, start_time, stopped_at, status_reason,
  COALESCE(EXTRACT(epoch FROM COALESCE(stopped_at, now()) - start_time)::bigint, 0), created_at, updated_at,
  recording_requested
FROM streams WHERE id = :stream_id::uuid;
COMMIT;

-- run_once: claim the key, run the donation under a savepoint, store the answer; one transaction.
BEGIN;
SET LOCAL lock_timeout = 5000;
INSERT INTO idempotency_keys (user_id, key, request_hash, status, response)
VALUES (:donor, 'pg-' || :key::text, 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff', 0, '')
ON CONFLICT (user_id, key) DO NOTHING;
SET LOCAL lock_timeout = 0;
SAVEPOINT operation;
INSERT INTO payment_transactions (id, kind, payer_id, payee_id, currency, amount, fee, stream_id, message, reverses)
VALUES (COALESCE(NULL::uuid, gen_random_uuid()), 'donation', :donor, :streamer, 'USD', 100, 10, :stream_id::uuid,
        'bench', NULL::uuid)
ON CONFLICT (id) DO NOTHING
RETURNING id::text AS transaction_id, kind, payer_id, payee_id, currency, amount, fee, stream_id::text, message,
  reverses::text, refunded, created_at
\gset
-- ledger::post: resolve the accounts (the wallet once per transfer), lock them in id order, then
-- per transfer payments.post_transfer: the conditional debit, the credit and the posting.
SELECT id AS wallet FROM ledger_accounts WHERE kind = 'wallet' AND owner_id = :donor AND provider IS NULL AND currency = 'USD'
\gset
SELECT id AS earnings FROM ledger_accounts WHERE kind = 'earnings' AND owner_id = :streamer AND provider IS NULL AND currency = 'USD'
\gset
SELECT id AS wallet FROM ledger_accounts WHERE kind = 'wallet' AND owner_id = :donor AND provider IS NULL AND currency = 'USD'
\gset
SELECT id AS fees FROM ledger_accounts
WHERE kind = 'platform_fees' AND owner_id IS NULL AND provider IS NOT DISTINCT FROM NULL AND currency = 'USD'
\gset
SELECT id FROM ledger_accounts WHERE id = ANY (ARRAY[:wallet, :earnings, :fees]::bigint[]) ORDER BY id FOR UPDATE;
WITH debited AS (
  UPDATE ledger_accounts SET balance = balance - 90
  WHERE id = :wallet AND (kind = 'provider_clearing' OR balance >= 90) RETURNING id
), credited AS (
  UPDATE ledger_accounts SET balance = balance + 90 WHERE id = :earnings AND EXISTS (SELECT FROM debited) RETURNING id
)
INSERT INTO ledger_transfers (transaction_id, kind, debit_account, credit_account, amount)
SELECT :transaction_id::uuid, 'donation', debited.id, credited.id, 90 FROM debited, credited;
WITH debited AS (
  UPDATE ledger_accounts SET balance = balance - 10
  WHERE id = :wallet AND (kind = 'provider_clearing' OR balance >= 10) RETURNING id
), credited AS (
  UPDATE ledger_accounts SET balance = balance + 10 WHERE id = :fees AND EXISTS (SELECT FROM debited) RETURNING id
)
INSERT INTO ledger_transfers (transaction_id, kind, debit_account, credit_account, amount)
SELECT :transaction_id::uuid, 'fee', debited.id, credited.id, 10 FROM debited, credited;
-- The answer as the server stores it (transaction_json, serialised).
UPDATE idempotency_keys
SET status = 201,
    response = json_build_object('amount', 100, 'created_at', :created_at::text, 'currency', 'USD', 'direction', 'out',
                                 'fee', 10, 'id', :transaction_id::text, 'kind', 'donation', 'message', 'bench',
                                 'payee_id', :streamer::bigint, 'payer_id', :donor::bigint, 'refunded', 0,
                                 'reverses', NULL, 'stream_id', :stream_id::text)::text
WHERE user_id = :donor AND key = 'pg-' || :key::text;
COMMIT;

-- NotificationService::notify: the streamer's `donation` notification (its own transaction).
BEGIN;
SELECT COALESCE((SELECT enabled FROM notification_settings WHERE user_id = :streamer AND type = 'donation'), true);
INSERT INTO notifications (user_id, type, data)
VALUES (:streamer, 'donation',
        jsonb_build_object('amount', 100, 'currency', 'USD', 'donor_id', :donor::bigint, 'donor_username', 'bench_donor',
                           'message', 'bench', 'stream_id', :stream_id::text, 'transaction_id', :transaction_id::text))
RETURNING id::text, type, data::text, read_at IS NOT NULL AS is_read, created_at;
COMMIT;
