-- bench/tokens.lua: every request carries the next bearer token of the
-- file named by $TOKENS (one per line), so with more tokens than the
-- token cache holds every request is a cache miss.  Each wrk thread
-- starts at its own offset so that threads do not warm each other.
local toks = {}
local i = 0
local nthreads = 0

function setup(thread)
	thread:set("id", nthreads)
	nthreads = nthreads + 1
end

function init(args)
	for line in io.lines(os.getenv("TOKENS")) do
		toks[#toks + 1] = line
	end
	i = (id or 0) * math.floor(#toks / 2)
end

request = function()
	i = i % #toks + 1
	return wrk.format("GET", os.getenv("TPATH") or "/jwt/x",
		{ ["Authorization"] = "Bearer " .. toks[i] })
end
