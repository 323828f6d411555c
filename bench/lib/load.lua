-- wrk script for ticket desk benchmarks.
--   wrk ... http://127.0.0.1:PORT/create_ticket -- create <run-id> <api-key|->
--       POSTs a ticket JSON body with a unique Idempotency-Key per request.
--   wrk ... http://127.0.0.1:PORT/api/v1/tickets?limit=50 -- read <run-id> <api-key|->
--       GETs the URL as given.
-- An api-key other than "-" is sent as "Authorization: Bearer <api-key>".
-- Each thread counts requests written, 201s, other 2xx and non-2xx; done()
-- prints one line "BENCH_JSON {...}" that bench/lib/wrk.ts parses.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "create"
  run_id = args[2] or "run"
  headers = { ["Accept"] = "application/json" }
  if args[3] and args[3] ~= "-" then
    headers["Authorization"] = "Bearer " .. args[3]
  end
  sent = 0
  created = 0
  ok_other = 0
  non2xx = 0
  if mode == "read" then
    fixed = wrk.format("GET", nil, headers)
  end
end

function request()
  sent = sent + 1
  if mode == "read" then
    return fixed
  end
  -- Unique per run, thread and request: a replay would answer 201 without storing.
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, tid, sent)
  headers["Content-Type"] = "application/json"
  local body = string.format(
    '{"user_id":"bench_user_%d","pdf_link":"https://example.com/guides/%d.pdf",' ..
    '"product_id":"PROD%d","other_ids":["ORDER-%d","DEVICE-7"]}',
    sent % 1000, sent, sent % 50, sent)
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status >= 200 and status < 300 then
    ok_other = ok_other + 1
  else
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local t = { sent = 0, created = 0, ok_other = 0, non2xx = 0 }
  for _, thread in ipairs(threads) do
    t.sent = t.sent + thread:get("sent")
    t.created = t.created + thread:get("created")
    t.ok_other = t.ok_other + thread:get("ok_other")
    t.non2xx = t.non2xx + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"sent":%d,"created":%d,"ok_other":%d,"non2xx":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    t.sent, t.created, t.ok_other, t.non2xx,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
