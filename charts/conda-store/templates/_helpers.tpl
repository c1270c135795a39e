{{- define "conda-store.labels" -}}
app.kubernetes.io/name: conda-store
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "conda-store.image" -}}
{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "conda-store.tokenSecret" -}}
{{ .Values.serviceToken.existingSecret | default (printf "%s-service-token" .Release.Name) }}
{{- end }}

{{/* Environment and volumes shared by the server and the worker. */}}
{{- define "conda-store.env" -}}
- name: CONDA_STORE_TOKEN
  valueFrom: {secretKeyRef: {name: {{ include "conda-store.tokenSecret" . }}, key: token}}
- name: CONDA_STORE_SIGNING_KEY
  valueFrom: {secretKeyRef: {name: {{ .Release.Name }}-service-token, key: signing-key}}
{{- with .Values.database.existingSecret }}
- name: CONDA_STORE_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ . }}, key: database-url}}
- name: CONDA_STORE_REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ . }}, key: redis-url, optional: true}}
{{- end }}
{{- if .Values.auth.keycloak.enabled }}
- name: CONDA_STORE_OIDC_CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ .Values.auth.keycloak.existingSecret }}, key: client-secret}}
{{- end }}
{{- end }}

{{- define "conda-store.volumes" -}}
- name: config
  configMap: {name: {{ .Release.Name }}-config}
- name: store
  persistentVolumeClaim: {claimName: {{ .Values.storage.existingClaim | default (printf "%s-store" .Release.Name) }}}
{{- end }}

{{- define "conda-store.mounts" -}}
- {name: config, mountPath: /etc/conda-store, readOnly: true}
- name: store
  mountPath: /home/conda
  {{- with .Values.storage.subPath }}
  subPath: {{ . | quote }}
  {{- end }}
{{- end }}
