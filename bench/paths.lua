-- bench/paths.lua - wrk script: rotate over request paths read from a file, one path per line,
-- and print a machine-readable summary line at the end.
--
--   wrk -t2 -c64 -d20s --latency -s bench/paths.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- Each wrk thread starts at a different offset in the list, so the threads do not ask for the
-- same path at the same moment. Headers given with -H (e.g. Accept-Encoding: gzip) are sent
-- with every request (wrk.format uses wrk.headers). The last line printed is
--   ZSRESULT {"requests":N,"duration_us":N,...,"p50_us":N,"p99_us":N,...}
-- which bench/run.sh collects.

local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

local paths = {}
local i = 0

function init(args)
   local file = args[1]
   if file == nil then
      error("paths.lua: give the paths file after --")
   end
   for line in io.lines(file) do
      if #line > 0 and string.sub(line, 1, 1) == "/" then
         paths[#paths + 1] = line
      end
   end
   if #paths == 0 then
      error("paths.lua: no paths in " .. file)
   end
   local t = tid or 0
   i = (t * 7919) % #paths
end

function request()
   i = i % #paths + 1
   return wrk.format(nil, paths[i])
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
