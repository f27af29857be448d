-- Argo CD health of kiln.dev/ImageTemplate: Healthy when the template is valid (Ready),
-- Degraded when it is invalid (Stalled, with the first diagnostic), else Progressing.
local hs = { status = "Progressing", message = "Waiting for the operator to validate the template" }
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
  hs.message = conds.Stalled.message or conds.Stalled.reason or "Invalid template"
  return hs
end
if conds.Ready ~= nil and conds.Ready.status == "True" then
  hs.status = "Healthy"
  hs.message = conds.Ready.message ~= "" and conds.Ready.message or "Template is valid"
  return hs
end
if conds.Reconciling ~= nil and conds.Reconciling.status == "True" then
  hs.message = conds.Reconciling.message or hs.message
end
return hs
