{{/* Chart name. */}}
{{- define "kiln.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "kiln.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kiln.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kiln.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kiln.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kiln.labels" -}}
helm.sh/chart: {{ include "kiln.chart" . }}
{{ include "kiln.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kiln
{{- end }}

{{- define "kiln.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kiln.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kiln.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if eq $tag "latest" }}{{ fail "image.tag must not be latest (kubelet would always pull)" }}{{ end }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{/*
The operator's permissions on namespaced objects, shared by the ClusterRole (all
namespaces) and the per-namespace Roles (watchNamespaces). The same rules as
config/rbac/role.yaml (owned by the operator); keep both in step with operator/src/controller/.
*/}}
{{- define "kiln.rules" -}}
# ImageTemplate controller: watches templates (list/watch), reads them when a build
# snapshots one (get); ImageBuild controller reads spec.limits of a template.
- apiGroups: ["kiln.dev"]
  resources: ["imagetemplates"]
  verbs: ["get", "list", "watch"]
# ImageTemplate controller: writes status (conditions, parsed variables, diagnostics)
# with server-side apply.
- apiGroups: ["kiln.dev"]
  resources: ["imagetemplates/status"]
  verbs: ["get", "patch"]
# ImageBuild controller: watches builds; deletes the oldest finished builds beyond the
# template's history limit. ImageChannel controller: lists builds of a template to pick
# the channel's build. get+patch are also what each runner's Role grants, and RBAC only
# lets the operator create a Role with permissions it holds itself (no `escalate`).
# HCP Packer registry: patch labels a build as a version (metadata only, field manager
# kiln-registry); list reads a bucket's builds for hcp-packer-* data sources, resume and
# dedupe.
# Rebuild controller: creates one ImageBuild per parent move of a template with
# spec.rebuildOnParentChange (never updates one).
- apiGroups: ["kiln.dev"]
  resources: ["imagebuilds"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# ImageBuild controller: writes status (phase, conditions, job); the runner Role it
# creates grants get/patch here, so the operator must hold them too.
- apiGroups: ["kiln.dev"]
  resources: ["imagebuilds/status"]
  verbs: ["get", "patch"]
# ImageChannel controller: watches channels (ImageBuild controller lists them to keep
# builds that channels point at, and a bucket's channels for hcp-packer-* data sources).
- apiGroups: ["kiln.dev"]
  resources: ["imagechannels"]
  verbs: ["get", "list", "watch"]
# ImageChannel controller: writes status (current build, history, conditions).
- apiGroups: ["kiln.dev"]
  resources: ["imagechannels/status"]
  verbs: ["get", "patch"]
# ImageBuild controller: creates each build's Indexed Job, watches the Jobs it owns
# (label app.kubernetes.io/managed-by=kiln-operator), suspends a Job to cancel a build.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch"]
# ImageBuild controller: creates the immutable snapshot ConfigMap of a build (what the
# runner pods read); runner Roles grant get on it.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create"]
# ImageBuild controller: a ServiceAccount per build for its runner pods (server-side apply:
# create + patch).
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "create", "patch"]
# ImageBuild controller: the runner's Role (get/patch of its own ImageBuild, get of its
# snapshot) and its RoleBinding (server-side apply: create + patch; get: checked once after
# a restart). No `escalate` or `bind`: the API server checks that the operator holds every
# rule it grants (about 100 ms per object, applied off the Job's path).
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "create", "patch"]
# ImageBuild controller: why a runner pod never started. Runner pods (the operator's label)
# are watched without their specs (image pull, unschedulable, container config); the core
# Events of a Job whose pods do not start (FailedCreate: quota, admission) and of its
# pending pods (FailedMount) are listed. Read only.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["list"]
# All controllers: an Event on every transition (kube-runtime's recorder, events.k8s.io/v1:
# creates, then patches series).
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
