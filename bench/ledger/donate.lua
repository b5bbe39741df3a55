-- wrk script of bench/ledger/run: POST /live/donate, each request with its own Idempotency-Key.
-- wrk -tT -s donate.lua URL -- STREAM_ID TOKEN1,TOKEN2,... KEY_PREFIX T
-- Thread t of T donates from the wallets of tokens t+1, t+1+T, ... in turn, so the threads'
-- requests spread over all donors the way pgbench's clients do.

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local body, prefix
local tokens = {}
local sent = 0

function init(args)
  local stream_id, token_list = args[1], args[2]
  prefix = args[3] .. "-" .. thread_index .. "-"
  body = '{"stream_id":"' .. stream_id .. '","amount":100,"currency":"USD","message":"bench"}'
  local all = {}
  for token in string.gmatch(token_list, "[^,]+") do table.insert(all, token) end
  for i = thread_index + 1, #all, tonumber(args[4]) do table.insert(tokens, all[i]) end
end

function request()
  sent = sent + 1
  local token = tokens[(sent % #tokens) + 1]
  return wrk.format("POST", "/live/donate", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. sent,
  }, body)
end
