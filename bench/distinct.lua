-- bench/distinct.lua: every request has a path and a client address
-- (X-Forwarded-For through a trusted proxy) never seen before, so a
-- metrics store keyed by either would grow without bound.
local n = 0
request = function()
	n = n + 1
	local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
		math.floor(n / 256) % 256, n % 256)
	return wrk.format("GET", "/item/" .. n .. "/" .. math.random(1e9),
		{ ["X-Forwarded-For"] = ip, ["User-Agent"] = "bench-" .. n })
end
