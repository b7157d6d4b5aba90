-- POST /orders/checkout of one product (id 1..P, P = 1st argument), with an
-- Idempotency-Key unique to each request when the 2nd argument is "keys",
-- without one otherwise: the same requests, so the difference is the cost of
-- claiming the key and storing the answer (bench/replication.sh).
local counter = 0
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   products = tonumber(args[1]) or 100
   with_keys = args[2] == "keys"
   local f = io.open("/dev/urandom", "rb")
   tag = (f:read(6):gsub(".", function(c) return string.format("%02x", c:byte()) end))
   f:close()
   math.randomseed(tonumber(tag:sub(1, 8), 16) + (tid or 0))
end

function request()
   counter = counter + 1
   local headers = { ["Content-Type"] = "application/json" }
   if with_keys then
      headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", tag, tid or 0, counter)
   end
   return wrk.format("POST", "/orders/checkout", headers, string.format(
      '{"client_id":1,"delivery_method":1,"payment_type":1,"items":[{"product_id":%d,"quantity":1}]}',
      math.random(1, products)))
end
