-- Each request from an address of its own, as a proxy in front of the portal
-- says (X-Forwarded-For): pages throttled per address are measured as many
-- visitors reach them, not as one address going over its limit.
local sent = 0

request = function()
  sent = sent + 1
  wrk.headers["X-Forwarded-For"] = string.format(
    "10.%d.%d.%d", math.floor(sent / 65536) % 256, math.floor(sent / 256) % 256, sent % 256)
  return wrk.format()
end
