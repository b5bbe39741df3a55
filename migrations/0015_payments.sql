-- Payments (issue 11): a double-entry ledger, Idempotency-Key results, top-ups through providers,
-- their webhook events, and streamers' payout accounts. Amounts are integer minor units.

-- One account per (kind, owner, provider, currency). Wallets and earnings belong to a user; the
-- platform's fee account and each provider's clearing account belong to nobody.
CREATE TABLE ledger_accounts (
  id       bigserial PRIMARY KEY,
  kind     text      NOT NULL CHECK (kind IN ('wallet', 'earnings', 'platform_fees', 'provider_clearing')),
  owner_id bigint    REFERENCES users (id),
  provider text,
  currency text      NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- Kept by the same statement that inserts each transfer; equals the sum of the account's postings.
  balance  bigint    NOT NULL DEFAULT 0,
  CHECK ((kind IN ('wallet', 'earnings')) = (owner_id IS NOT NULL)),
  CHECK ((kind = 'provider_clearing') = (provider IS NOT NULL)),
  -- Money that came in from outside leaves the provider's clearing account negative; every
  -- other account holds only what was moved into it. The service's conditional update refuses
  -- first; this is the last line.
  CHECK (kind = 'provider_clearing' OR balance >= 0),
  UNIQUE NULLS NOT DISTINCT (kind, owner_id, provider, currency)
);

-- A money movement as users see it (a donation, a top-up, a refund); its ledger transfers
-- follow. The id is client-visible: a client may choose it (`transfer_id`) so that a retry is
-- recognised even without Idempotency-Key.
CREATE TABLE payment_transactions (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  n          bigserial   NOT NULL UNIQUE,  -- keyset order of history pages
  kind       text        NOT NULL CHECK (kind IN ('donation', 'topup', 'refund')),
  payer_id   bigint      REFERENCES users (id),  -- NULL for a top-up (the provider pays)
  payee_id   bigint      NOT NULL REFERENCES users (id),
  currency   text        NOT NULL,
  amount     bigint      NOT NULL CHECK (amount > 0),
  fee        bigint      NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= amount),
  stream_id  uuid,
  message    text,
  reverses   uuid        REFERENCES payment_transactions (id),
  refunded   bigint      NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'refund') = (reverses IS NOT NULL))
);
CREATE INDEX payment_transactions_payer_idx ON payment_transactions (payer_id, n DESC);
CREATE INDEX payment_transactions_payee_idx ON payment_transactions (payee_id, n DESC);
CREATE INDEX payment_transactions_reverses_idx ON payment_transactions (reverses) WHERE reverses IS NOT NULL;

-- Immutable postings: each moves `amount` from the debit account to the credit account, so per
-- currency the ledger sums to zero by construction.
CREATE TABLE ledger_transfers (
  id             bigserial   PRIMARY KEY,
  transaction_id uuid        NOT NULL REFERENCES payment_transactions (id),
  kind           text        NOT NULL,  -- donation, fee, topup, refund, fee_refund
  debit_account  bigint      NOT NULL REFERENCES ledger_accounts (id),
  credit_account bigint      NOT NULL REFERENCES ledger_accounts (id),
  amount         bigint      NOT NULL CHECK (amount > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_transaction_idx ON ledger_transfers (transaction_id);
CREATE INDEX ledger_transfers_debit_idx ON ledger_transfers (debit_account);
CREATE INDEX ledger_transfers_credit_idx ON ledger_transfers (credit_account);

-- Corrections are new transfers (a refund reverses); changing or removing one is an error.
CREATE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger transfers are immutable; post a reversing transfer instead';
END
$$;
CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable();

-- Idempotency-Key results, scoped per user. The row is inserted, the money moved and the
-- response stored in one transaction: a crash leaves either all of it or none of it.
CREATE TABLE idempotency_keys (
  user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key          text        NOT NULL,
  request_hash text        NOT NULL,  -- SHA-256 of method, path and canonical body
  status       integer     NOT NULL,
  response     text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Top-ups: created pending with the provider's checkout, settled only by its webhook.
CREATE TABLE payment_topups (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        bigint      NOT NULL REFERENCES users (id),
  provider       text        NOT NULL,
  currency       text        NOT NULL,
  amount         bigint      NOT NULL CHECK (amount > 0),
  status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider_ref   text,  -- the provider's id of the checkout
  checkout_url   text,
  transaction_id uuid        REFERENCES payment_transactions (id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Each provider event is processed once, however often it is delivered.
CREATE TABLE provider_events (
  provider    text        NOT NULL,
  event_id    text        NOT NULL,
  type        text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);

-- A streamer's payout account per provider.
CREATE TABLE payout_accounts (
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider   text        NOT NULL,
  account    text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, provider)
);
