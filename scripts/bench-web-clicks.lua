-- wrk script for scripts/bench-web: readers clicking the item links of one mailed digest. Each request is
-- the next of the digest's /r/TOKEN paths (the file named by BENCH_WEB_CLICK_PATHS, one path a line), so
-- the clicks spread over the edition's items as a morning's do.
local paths = {}
for line in io.lines(os.getenv("BENCH_WEB_CLICK_PATHS")) do
    if line ~= "" then table.insert(paths, line) end
end
local next_path = 0

function request()
    next_path = next_path % #paths + 1
    return wrk.format("GET", paths[next_path])
end
