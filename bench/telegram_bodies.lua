-- wrk script: POST the bodies of a file (one Telegram update as JSON per line), each once,
-- in order, with the webhook's secret token header. Run with one thread (-t1) so a single
-- counter walks the list. Arguments: the file, the secret.
local bodies = {}
local next_body = 0
local headers = {}

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  headers["Content-Type"] = "application/json"
  headers["X-Telegram-Bot-Api-Secret-Token"] = args[2]
end

function request()
  next_body = next_body + 1
  local body = bodies[((next_body - 1) % #bodies) + 1]
  return wrk.format("POST", nil, headers, body)
end
