-- wrk script: POST /api/{supplier}/ship-sale with a different menzzo_order_id
-- per request, taken from a file of ids (one a line).
--
--   wrk -tT ... -s bench/ship.lua URL -- TOKEN IDS_FILE OFFSET T
--
-- Thread t of T sends ids OFFSET + t, OFFSET + t + T, ...; past the end of
-- the file it wraps around (those requests are repeats: 200, "changed":
-- false).  At the end it prints one line per thread:
--   thread T issued N changed C unchanged U other S
-- so that the caller knows which ids were used and how many were real changes.

local threads = {}

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

function init(args)
	token, ids_file, offset = args[1], args[2], tonumber(args[3])
	nthreads = tonumber(args[4])
	ids = {}
	for line in io.lines(ids_file) do
		ids[#ids + 1] = line
	end
	issued, changed, unchanged, other = 0, 0, 0, 0
	headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

function request()
	local i = offset + tid + issued * nthreads
	issued = issued + 1
	local body = '{"menzzo_order_id":"' .. ids[(i % #ids) + 1] .. '"}'
	return wrk.format("POST", wrk.path, headers, body)
end

function response(status, hdrs, body)
	if status ~= 200 then
		other = other + 1
	elseif body:find('"changed":true', 1, true) then
		changed = changed + 1
	else
		unchanged = unchanged + 1
	end
end

function done(summary, latency, requests)
	for _, t in ipairs(threads) do
		io.write(string.format("thread %d issued %d changed %d unchanged %d other %d\n",
			t:get("tid"), t:get("issued"), t:get("changed"), t:get("unchanged"), t:get("other")))
	end
end
