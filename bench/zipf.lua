-- bench/zipf.lua - wrk script: request paths drawn from a Zipf law over a ranked path list, and
-- print the same machine-readable summary line as paths.lua.
--
--   wrk -t2 -c64 -d20s --latency -s bench/zipf.lua http://127.0.0.1:PORT -- RANKED_FILE [S] [SEED]
--
-- RANKED_FILE has one path per line, the most asked first (bench/zipf.py writes it: hospitals
-- first, GP practices and paramedics last). The path of rank k (1-based) is asked with
-- probability (1/k^S) / sum_j (1/j^S), S defaulting to 1.1. Each wrk thread draws from its own
-- deterministic stream: math.randomseed(SEED * 1000 + thread number), SEED defaulting to 1, so
-- a run with the same file, S, SEED and thread count asks the same sequence per thread (how far
-- each thread gets in the duration depends on the server). Drawing is a binary search in the
-- cumulative distribution (about 17 steps for 80,000 paths). Headers given with -H are sent.
-- The last line printed is ZSRESULT {...} (see paths.lua).

local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

local paths = {}
local cdf = {}
local n = 0

function init(args)
   local file = args[1]
   if file == nil then
      error("zipf.lua: give the ranked paths file after --")
   end
   local s = tonumber(args[2] or "1.1")
   local seed = tonumber(args[3] or "1")
   for line in io.lines(file) do
      if #line > 0 and string.sub(line, 1, 1) == "/" then
         paths[#paths + 1] = line
      end
   end
   n = #paths
   if n == 0 then
      error("zipf.lua: no paths in " .. file)
   end
   local acc = 0
   for k = 1, n do
      acc = acc + 1 / (k ^ s)
      cdf[k] = acc
   end
   for k = 1, n do
      cdf[k] = cdf[k] / acc
   end
   cdf[n] = 1.0
   math.randomseed(seed * 1000 + (tid or 0))
end

local function draw()
   local u = math.random()
   local lo, hi = 1, n
   while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] < u then
         lo = mid + 1
      else
         hi = mid
      end
   end
   return paths[lo]
end

function request()
   return wrk.format(nil, draw())
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'ZSRESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
      '"write_errors":%d,"status_errors":%d,"timeouts":%d,"lat_mean_us":%.1f,"lat_stdev_us":%.1f,' ..
      '"lat_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, latency.mean, latency.stdev, latency.max, latency:percentile(50),
      latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
