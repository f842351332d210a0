-- wrk script for the soak run (scripts/faults.sh soak): cycles through MCP calls, server-function calls of
-- the web app and one provoked failure (a wrong secret for a real Key ID). Answers are told apart by what
-- they say: the provoked request is the only one that can be refused as `invalid_key` or
-- `too_many_attempts`; everything else must succeed.
local root_key = os.getenv("SOAK_ROOT_KEY")
local caregiver_key = os.getenv("SOAK_CAREGIVER_KEY")
local wrong_key = os.getenv("SOAK_WRONG_KEY")
local cookie = os.getenv("SOAK_COOKIE")

local function mcp(key, tool)
  return { path = "/api/mcp", auth = "Bearer " .. key, type = "application/json",
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{}}}' }
end
local function server_fn(path, body)
  return { path = path, cookie = cookie, type = "application/json", body = body }
end

local kinds = {
  mcp(root_key, "whoami"),
  mcp(caregiver_key, "list_visits"),
  mcp(root_key, "list_activity"),
  server_fn("/api/care/visits", ""),
  server_fn("/api/keys/list", '{"filter":{"user_id":null,"status":null,"search":null,"page":1,"per_page":20}}'),
  server_fn("/api/activity/list", '{"filter":{"user_id":null,"key_id":null,"page":1,"per_page":50}}'),
  mcp(wrong_key, "whoami"),
}

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

init = function()
  next_kind = 0
  ok = 0
  provoked_refusals = 0
  unexpected = 0
end

request = function()
  next_kind = next_kind % #kinds + 1
  local kind = kinds[next_kind]
  local headers = { ["Accept"] = "application/json, text/event-stream", ["MCP-Protocol-Version"] = "2025-06-18" }
  if kind.auth then headers["Authorization"] = kind.auth end
  if kind.cookie then headers["Cookie"] = kind.cookie end
  local body = kind.body
  if kind.path == "/api/care/visits" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  else
    headers["Content-Type"] = kind.type
  end
  return wrk.format("POST", kind.path, headers, body)
end

response = function(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif (status == 401 and string.find(body, '"invalid_key"', 1, true)) or (status == 429 and string.find(body, '"too_many_attempts"', 1, true)) then
    provoked_refusals = provoked_refusals + 1
  else
    unexpected = unexpected + 1
    if unexpected <= 3 then io.stderr:write("unexpected " .. status .. ": " .. string.sub(body, 1, 200) .. "\n") end
  end
end

done = function(summary, latency, requests)
  local totals = { ok = 0, provoked = 0, unexpected = 0 }
  for _, thread in ipairs(threads) do
    totals.ok = totals.ok + thread:get("ok")
    totals.provoked = totals.provoked + thread:get("provoked_refusals")
    totals.unexpected = totals.unexpected + thread:get("unexpected")
  end
  io.write(string.format("SOAK requests=%d ok=%d provoked=%d unexpected=%d socket_errors=%d p99_ms=%.2f\n",
    summary.requests, totals.ok, totals.provoked, totals.unexpected,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(99.0) / 1000))
end
