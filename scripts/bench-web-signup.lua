-- wrk script for scripts/bench-web: readers signing up. Each connection alternates between
-- GET /subscribe (a fresh question) and POST /subscribe answering one of the questions read so far,
-- for a new address each time, from its own client address (X-Forwarded-For; the bench config
-- trusts 127.0.0.1 as a proxy, so the per-client limit applies per reader, as behind nginx).
local questions = {}
local counter = 0
local thread_id = 0
-- Globals, so done() can read them from each thread with thread:get.
signups, refused = 0, 0
threads = {}

function setup(thread)
    thread:set("id", thread_id)
    thread_id = thread_id + 1
    table.insert(threads, thread)
end

function init(args)
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
    counter = counter + 1
    local forwarded = string.format("10.%d.%d.%d", id or 0, math.floor(counter / 250) % 250, counter % 250 + 1)
    if #questions > 0 then
        local q = table.remove(questions)
        local body = string.format("email=r%d-%d%%40example.com&answer=%d&token=%s", id or 0, counter, q.answer, q.token)
        return wrk.format("POST", "/subscribe", {["X-Forwarded-For"] = forwarded}, body)
    end
    return wrk.format("GET", "/subscribe", {["X-Forwarded-For"] = forwarded})
end

function response(status, headers, body)
    local a, b = string.match(body, 'id="question">(%d+) %+ (%d+) =<')
    local token = string.match(body, 'name="token" value="([^"]+)"')
    if string.find(body, "Check your inbox", 1, true) then
        signups = signups + 1
    elseif status ~= 200 then
        refused = refused + 1
    end
    if a and token then table.insert(questions, {answer = tonumber(a) + tonumber(b), token = token}) end
end

function done(summary, latency, requests)
    local total_signups, total_refused = 0, 0
    for _, thread in ipairs(threads) do
        total_signups = total_signups + (thread:get("signups") or 0)
        total_refused = total_refused + (thread:get("refused") or 0)
    end
    io.write(string.format("SIGNUPS %d REFUSED %d SECONDS %.3f\n", total_signups, total_refused,
        summary.duration / 1e6))
end
