{{/* Names and labels. */}}
{{- define "holdfast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "holdfast.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "holdfast.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "holdfast.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "holdfast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "holdfast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "holdfast.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "holdfast.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding cookie.password, the Redis password and OAuth secrets. */}}
{{- define "holdfast.secretName" -}}
{{- default (include "holdfast.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Bundled Redis names. */}}
{{- define "holdfast.redis.fullname" -}}
{{- printf "%s-redis" (include "holdfast.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "holdfast.redis.headless" -}}
{{- printf "%s-redis-headless" (include "holdfast.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "holdfast.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "holdfast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "holdfast.redis.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "holdfast.redis.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "holdfast.redis.replicas" -}}
{{- mul .Values.redis.cluster.masters (add 1 .Values.redis.cluster.replicasPerMaster) -}}
{{- end -}}

{{/* Stable DNS name of the headless service: Holdfast discovers the seed nodes from it. */}}
{{- define "holdfast.redis.dnsName" -}}
{{- printf "%s.%s.svc.%s" (include "holdfast.redis.headless" .) .Release.Namespace .Values.redis.clusterDomain -}}
{{- end -}}

{{/* Whether a Redis password is set: bundled with auth, or any password/existing secret given. */}}
{{- define "holdfast.redis.hasPassword" -}}
{{- if and .Values.redis.enabled .Values.redis.auth -}}true
{{- else if and (not .Values.redis.enabled) .Values.redis.auth (or .Values.secrets.redisPassword .Values.secrets.existingSecret) -}}true
{{- end -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds from the same numbers Holdfast is given: the preStop pause, then
drainDelay (readiness false, still serving), then timeout (in-flight requests), plus a margin.
*/}}
{{- define "holdfast.gracePeriod" -}}
{{- $s := .Values.shutdown -}}
{{- add $s.preStopSeconds $s.drainDelaySeconds $s.timeoutSeconds $s.marginSeconds -}}
{{- end -}}

{{/* Startup probe failures allowed: the store wait plus preflight, in probe periods. */}}
{{- define "holdfast.startupFailureThreshold" -}}
{{- $p := .Values.startup.probePeriodSeconds -}}
{{- $total := add .Values.startup.storeWaitSeconds .Values.startup.preflightSeconds -}}
{{- max 1 (div (add $total (sub $p 1)) $p) -}}
{{- end -}}

{{- define "holdfast.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Fails the render with a message naming the value when the chart cannot work. */}}
{{- define "holdfast.validate" -}}
{{- if gt (int .Values.shutdown.drainDelaySeconds) (int .Values.shutdown.timeoutSeconds) -}}
{{- fail (printf "shutdown.drainDelaySeconds (%v) must be at most shutdown.timeoutSeconds (%v): Holdfast rejects a drain delay longer than its timeout" .Values.shutdown.drainDelaySeconds .Values.shutdown.timeoutSeconds) -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (not .Values.redis.external.nodes) (not .Values.redis.external.dns.name) -}}
{{- fail "redis.external.nodes or redis.external.dns.name is required when redis.enabled is false (or set redis.enabled: true for the bundled Redis Cluster)" -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (eq .Values.redis.external.mode "sentinel") .Values.redis.external.dns.name -}}
{{- fail "redis.external.dns.name cannot be used with redis.external.mode sentinel: list the sentinels in redis.external.nodes" -}}
{{- end -}}
{{- if and .Values.redis.enabled (gt (int .Values.redis.require.replicasPerMaster) (int .Values.redis.cluster.replicasPerMaster)) -}}
{{- fail (printf "redis.require.replicasPerMaster (%v) is more than the bundled cluster has (redis.cluster.replicasPerMaster %v): preflight would never pass" .Values.redis.require.replicasPerMaster .Values.redis.cluster.replicasPerMaster) -}}
{{- end -}}
{{- if and .Values.redis.enabled (gt (int .Values.redis.durability.replicas) (int .Values.redis.cluster.replicasPerMaster)) -}}
{{- fail (printf "redis.durability.replicas (%v) is more than redis.cluster.replicasPerMaster (%v): every write would report too few acknowledgements" .Values.redis.durability.replicas .Values.redis.cluster.replicasPerMaster) -}}
{{- end -}}
{{- end -}}
