-- Shared by bench/run.sh's wrk scripts (loaded with dofile from each one).
--
-- Every script reports through bench_done(): one line "BENCHJSON {...}" that
-- bench/report.py reads.  Per-status counts are kept only by scripts that
-- define response() (it costs wrk some speed), through count_status().

local threads = {}
local thread_count = 0

-- main state: remember the threads, give each an id (seeds its random numbers)
function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_id", thread_count)
   table.insert(threads, thread)
end

-- thread states
-- 8 random bytes as hex: emails and names stay unique across threads and runs
local function urandom_hex()
   local f = io.open("/dev/urandom", "rb")
   local bytes = f:read(8)
   f:close()
   return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function bench_init(args)
   run_tag = urandom_hex()
   math.randomseed(tonumber(run_tag:sub(1, 8), 16) + (thread_id or 0))
   seq = 0
   status_counts = {}
   -- ids and page sizes drawn as the reference drew them, unless told otherwise
   product_ids = tonumber(args[1]) or 100
   client_ids = tonumber(args[2]) or 50
   category_ids = tonumber(args[3]) or 1
end

function count_status(status)
   status_counts[status] = (status_counts[status] or 0) + 1
end

-- wrk's thread:get() returns plain values only: pass the counts as a string
function bench_export()
   local parts = {}
   for code, n in pairs(status_counts) do
      table.insert(parts, string.format('"%d":%d', code, n))
   end
   return table.concat(parts, ",")
end

function bench_done(summary, latency, requests)
   local codes = {}
   for _, t in ipairs(threads) do
      local s = t:get("status_export")
      if s ~= nil and s ~= "" then
         for code, n in string.gmatch(s, '"(%d+)":(%d+)') do
            codes[code] = (codes[code] or 0) + tonumber(n)
         end
      end
   end
   local parts = {}
   for code, n in pairs(codes) do
      table.insert(parts, string.format('"%s":%d', code, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"tool":"wrk","duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
      '"p50_ms":%.3f,"p90_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,' ..
      '"max_ms":%.3f,"mean_ms":%.3f,"codes":{%s}}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000, latency.mean / 1000,
      table.concat(parts, ",")))
end

function json_headers()
   return { ["Content-Type"] = "application/json" }
end
