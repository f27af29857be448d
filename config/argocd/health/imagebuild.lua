-- Argo CD health of kiln.dev/ImageBuild: Healthy when it Succeeded (and is not revoked),
-- Degraded when it Failed or is revoked, Suspended when cancelled, else Progressing.
local hs = { status = "Progressing", message = "Waiting for the build to start" }
if obj.status == nil then
  return hs
end
local st = obj.status
if st.revoked ~= nil then
  hs.status = "Degraded"
  hs.message = "Revoked: " .. (st.revoked.reason or "")
  return hs
end
local conds = {}
for _, c in ipairs(st.conditions or {}) do
  conds[c.type] = c
end
local phase = st.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = "Succeeded" .. (st.sourcesSummary and (" (" .. st.sourcesSummary .. " sources)") or "")
elseif phase == "Failed" then
  hs.status = "Degraded"
  local c = conds.Stalled or conds.Ready
  hs.message = (c and c.message) or "Build failed"
elseif phase == "Cancelled" then
  hs.status = "Suspended"
  hs.message = "Cancelled"
elseif conds.Stalled ~= nil and conds.Stalled.status == "True" then
  -- Rejected before it ran (for example a missing variable).
  hs.status = "Degraded"
  hs.message = conds.Stalled.message or conds.Stalled.reason or "Stalled"
else
  local c = conds.Reconciling
  hs.message = (phase or "Pending") .. ((c and c.message and c.message ~= "") and (": " .. c.message) or "")
end
return hs
