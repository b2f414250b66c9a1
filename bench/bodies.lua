-- wrk script: POST the bodies of a file (one JSON document per line), each once, in order.
-- Run with one thread (-t1) so a single counter walks the list.
local bodies = {}
local next_body = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
end

function request()
  next_body = next_body + 1
  local body = bodies[((next_body - 1) % #bodies) + 1]
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
