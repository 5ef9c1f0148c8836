-- bench/xff.lua: each request comes "from" one of KEYS client addresses
-- (X-Forwarded-For through a trusted proxy), so the IP throttling level
-- sees that many distinct keys.
local keys = tonumber(os.getenv("KEYS") or "10000")
local n = 0
request = function()
	n = n + 1
	local k = n % keys
	local ip = string.format("10.%d.%d.%d", math.floor(k / 65536) % 256,
		math.floor(k / 256) % 256, k % 256)
	return wrk.format("GET", "/", { ["X-Forwarded-For"] = ip })
end
