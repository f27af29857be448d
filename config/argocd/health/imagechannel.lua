-- Argo CD health of kiln.dev/ImageChannel: Healthy when it points at a verified successful
-- build (Ready), Degraded when its target is failed, revoked or missing (Stalled, with the
-- reason), else Progressing (for example a following channel with no matching build yet).
local hs = { status = "Progressing", message = "Waiting for the operator to verify the channel" }
if obj.status == nil then
  return hs
end
local gen = obj.metadata and obj.metadata.generation
if gen ~= nil and obj.status.observedGeneration ~= nil and obj.status.observedGeneration < gen then
  hs.message = "Waiting for the operator to observe generation " .. gen
  return hs
end
local conds = {}
for _, c in ipairs(obj.status.conditions or {}) do
  conds[c.type] = c
end
if conds.Stalled ~= nil and conds.Stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = (conds.Stalled.reason or "Stalled") .. ": " .. (conds.Stalled.message or "")
  return hs
end
if conds.Ready ~= nil and conds.Ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "At build " .. (obj.status.currentBuild or "?")
  return hs
end
local c = conds.Reconciling or conds.Ready
if c ~= nil and c.message ~= nil and c.message ~= "" then
  hs.message = c.message
end
return hs
