-- wrk script: full form submissions. Each request sends one contact form fetched beforehand
-- by bench-forms-prefetch.py (its own cookie and single-use CSRF token), for a new person
-- (a new email each time), with the newsletter box ticked: validation, CSRF check, a new
-- subject with its own key, the sealed submission, one ledger event, one webhook row and
-- the spent token, in one durable transaction. Anything but a 303 counts as an error.
-- Usage: wrk -s bench-forms.lua URL -- FORMS_FILE THREADS

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local forms = {}
next_form = 1
errors = 0
local message = "Bonjour%2C+je+voudrais+savoir+si+votre+offre+convient+%C3%A0+une+PME+de+vingt+personnes.+Pouvez-vous+me+rappeler+%3F+Merci+d%27avance."

function init(args)
  local path, count = args[1], tonumber(args[2])
  local i = 0
  for line in io.lines(path) do
    if i % count == id then
      local cookie, token, version = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
      forms[#forms + 1] = { cookie, token, version }
    end
    i = i + 1
  end
end

function request()
  local form = forms[next_form] or forms[1]
  local person = id .. "-" .. next_form
  next_form = next_form + 1
  local body = "csrf_token=" .. form[2] .. "&notice_version=" .. form[3] .. "&lang=fr&website=&name=Jeanne+Banc&email=banc-" .. person
    .. "%40example.org&message=" .. message .. "&consent.newsletter=yes"
  return wrk.format("POST", "/f/contact", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "registre_form=" .. form[1],
  }, body)
end

function response(status, headers, body)
  if status ~= 303 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed, used = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
    used = used + thread:get("next_form") - 1
  end
  io.write(string.format("forms sent: %d, answers other than 303: %d\n", used, failed))
  io.write(string.format("submissions/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
