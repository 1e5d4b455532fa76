-- wrk 4.1 (Debian) script for bench/serve/run_serve_bench.py: POSTs card
-- events to sluice serve, paced to a fixed total rate, and prints wrk's
-- figures as one JSON line.
--
-- Set by the environment (wrk passes no arguments to a script before init,
-- and whether delay() exists has to be known when the script is loaded):
--   SERVE_BENCH_BODIES   file of request bodies, one JSON event per line
--                        (decide mode)
--   SERVE_BENCH_PATH     "/v1/decide" (POST the bodies) or another path,
--                        e.g. "/healthz" (GET, no body: the HTTP floor)
--   SERVE_BENCH_RATE     total requests/s to offer; 0 = closed loop (each
--                        connection sends its next request as soon as the
--                        answer is in)
--   SERVE_BENCH_THREADS  wrk's -t, so that each thread offers its share
--   SERVE_BENCH_RUN      a number unique to the wrk run (card id suffixes)
--
-- Pacing. wrk 4.1 has no fixed-rate mode (that is wrk2); what it has is
-- delay(), called after each answer, which makes that connection wait that
-- many milliseconds before its next request. Each wrk thread keeps a
-- schedule of send slots, one every 1/(its share of the rate) seconds, on
-- a monotonic clock (LuaJIT's ffi, clock_gettime), and gives each answered
-- connection the next free slot. The offered rate is thus the target as
-- long as the thread's connections are enough to cover the latency (each
-- holds one request or one slot); when the server falls behind, slots are
-- not saved up to be sent in a burst later, so the achieved rate drops
-- below the target instead. wrk's timers have a resolution of 1 ms, so
-- requests leave in clumps on millisecond ticks (at 10,000/s, about ten
-- per tick), a burstier arrival than an even spacing.
--
-- Latency is wrk's: from writing a request to reading its whole answer.
-- It is not corrected for coordinated omission (wrk2 does that): a request
-- that waits for a slow answer on its connection is not counted as late.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } sluice_timespec;
  int clock_gettime(int clock_id, sluice_timespec* tp);
  void* malloc(size_t size);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("sluice_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local path = os.getenv("SERVE_BENCH_PATH") or "/v1/decide"
local rate = tonumber(os.getenv("SERVE_BENCH_RATE") or "0")
local threads = tonumber(os.getenv("SERVE_BENCH_THREADS") or "1")
local run_tag = "~" .. (os.getenv("SERVE_BENCH_RUN") or "0") .. "."
-- A fixed population (SERVE_BENCH_POPULATION = K > 0): the cards are the
-- bodies' cards times K suffixes, visited in a cycle that continues across
-- runs from SERVE_BENCH_START (requests sent before this run), so that
-- after one cycle no new card appears and the state stops growing.
local population = tonumber(os.getenv("SERVE_BENCH_POPULATION") or "0")
local start = tonumber(os.getenv("SERVE_BENCH_START") or "0")

-- setup() runs in wrk's main Lua state, once per thread before they start:
-- each thread learns its index, which sets where it starts in the bodies.
local thread_index = 0
function setup(thread)
  thread:set("index", thread_index)
  thread_index = thread_index + 1
end

-- Decide mode: each body is kept as the text before and after the end of
-- its card_id value, and every request gets a card id suffix naming the
-- wrk run (SERVE_BENCH_RUN, set by the harness), the thread and the pass
-- over the bodies ("c003545" becomes "c003545~7.0.1"): each run and pass
-- replays the events on cards that have no history yet, so that a card's
-- windows do not pile up the events of every run (with --stamp-time all
-- runs fall within minutes, and a card seen again in each run would look
-- like a burst of card fraud). Other modes: one GET.
--
-- The bodies are kept outside Lua's heap, in one block from malloc, with
-- the offsets of each line and of the end of its card id in FFI arrays, and
-- each request's body is put together in a scratch block and made a string
-- once. The collector then has nothing large to look at and little garbage
-- to sweep. Kept as 200,000 Lua strings in two tables, the bodies made the
-- collector and the string table's resizing stop wrk's thread for 20-45 ms
-- at a time in mid-run (seen with perf: bursts of CPU in libluajit), and
-- every answer waiting to be read meanwhile was counted that much late: the
-- maxima of the decide runs were wrk's own.
local bodies = nil   -- char*: every line of the file
local scratch = nil  -- char*: one request's body
local line_start, card_end, line_end = nil, nil, nil  -- byte offsets in bodies
local n = 0
local cursor = 0
local pass = 0
local static_request = nil
local headers = {["Content-Type"] = "application/json"}

function init(args)
  if path == "/v1/decide" then
    local file = assert(os.getenv("SERVE_BENCH_BODIES"), "SERVE_BENCH_BODIES is not set")
    local f = assert(io.open(file, "rb"))
    local all = f:read("*a")
    f:close()
    local lines = 1  -- at most one more than the newlines
    local at = string.find(all, "\n", 1, true)
    while at do
      lines = lines + 1
      at = string.find(all, "\n", at + 1, true)
    end
    line_start = ffi.new("int32_t[?]", lines)
    card_end = ffi.new("int32_t[?]", lines)
    line_end = ffi.new("int32_t[?]", lines)
    local longest = 0
    local pos = 1
    while pos <= #all do
      local nl = string.find(all, "\n", pos, true) or (#all + 1)
      if nl > pos then
        local _, stop = string.find(all, '"card_id":"[^"]*', pos)
        assert(stop and stop < nl, "a body without card_id: " .. string.sub(all, pos, nl - 1))
        -- 0-based: the head is [start, card end), the tail [card end, end).
        line_start[n], card_end[n], line_end[n] = pos - 1, stop, nl - 1
        longest = math.max(longest, nl - pos)
        n = n + 1
      end
      pos = nl + 1
    end
    assert(n > 0, "no request bodies in " .. file)
    bodies = ffi.cast("char*", ffi.C.malloc(#all + 1))
    ffi.copy(bodies, all, #all)
    scratch = ffi.cast("char*", ffi.C.malloc(longest + 64))
    all = nil
    collectgarbage()
    -- Threads start at evenly spaced offsets.
    cursor = math.floor(index * n / threads) % n
    if population > 0 then
      -- Position in the cycle of n * population cards: this thread's share
      -- of the requests sent so far, plus its offset.
      local g = math.floor(start / threads) + math.floor(index * n * population / threads)
      cursor = g % n
      pass = math.floor(g / n) % population
    end
  else
    static_request = wrk.format("GET", path)
  end
end

-- The card id suffix of the current pass (it changes once per pass).
local suffix = nil
local function set_suffix()
  if population > 0 then
    suffix = "~" .. pass
  else
    suffix = run_tag .. index .. "." .. pass
  end
end

function request()
  if static_request then return static_request end
  if suffix == nil then set_suffix() end
  local s, c, e = line_start[cursor], card_end[cursor], line_end[cursor]
  ffi.copy(scratch, bodies + s, c - s)
  ffi.copy(scratch + (c - s), suffix, #suffix)
  ffi.copy(scratch + (c - s) + #suffix, bodies + c, e - c)
  local body = ffi.string(scratch, (c - s) + #suffix + (e - c))
  cursor = cursor + 1
  if cursor >= n then
    cursor = 0
    pass = pass + 1
    if population > 0 then pass = pass % population end
    set_suffix()
  end
  return wrk.format("POST", path, headers, body)
end

if rate > 0 then
  local interval_us = 1e6 * threads / rate  -- between two slots of this thread
  local next_slot = 0
  function delay()
    local now = now_us()
    if next_slot < now then next_slot = now end  -- behind: no catching up in a burst
    next_slot = next_slot + interval_us
    return math.floor((next_slot - now) / 1000)
  end
end

function done(summary, latency, _)
  local e = summary.errors
  local out = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"errors_connect":%d', e.connect),
    string.format('"errors_read":%d', e.read),
    string.format('"errors_write":%d', e.write),
    string.format('"errors_status":%d', e.status),
    string.format('"errors_timeout":%d', e.timeout),
    string.format('"latency_min_us":%d', latency.min),
    string.format('"latency_mean_us":%.1f', latency.mean),
    string.format('"latency_stdev_us":%.1f', latency.stdev),
    string.format('"latency_max_us":%d', latency.max),
  }
  for _, p in ipairs({50, 90, 99, 99.9, 99.99}) do
    out[#out + 1] = string.format('"latency_p%s_us":%d', tostring(p), latency:percentile(p))
  end
  io.write("SERVE_BENCH_RESULT {" .. table.concat(out, ",") .. "}\n")
end
