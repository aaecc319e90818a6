package main

import (
	"fmt"
	"slices"
	"strings"
)

// A managerFlag is a manager flag (cmd/manager/app BindFlags) an operator tunes through a
// chart value. Unset (null or, for a list, empty) leaves the manager's own default.
type managerFlag struct {
	flag  string
	value string // path under .Values
	kind  string // "string", "int", "float" or "list"
}

// managerFlags are the manager's flags the chart exposes, in the order they are rendered.
var managerFlags = []managerFlag{
	{"default-ttl", "manager.defaultTTL", "string"},
	{"assembly-timeout", "manager.assemblyTimeout", "string"},
	{"max-payload-bytes", "manager.maxPayloadBytes", "int"},
	{"report-max-bytes", "manager.reportMaxBytes", "int"},
	{"finished-retention", "manager.finishedRetention", "string"},
	{"max-concurrent-steps", "manager.maxConcurrentSteps", "int"},
	{"max-concurrent-reconciles", "manager.maxConcurrentReconciles", "int"},
	{"claim-after", "manager.claimAfter", "string"},
	{"http-allow", "manager.httpAllow", "list"},
	{"external-max-age", "manager.externalMaxAge", "string"},
	{"command-events", "manager.commandEvents", "string"},
	{"kube-api-qps", "manager.kubeAPIQPS", "float"},
	{"kube-api-burst", "manager.kubeAPIBurst", "int"},
}

// fixedFlags are rendered from other values or from config/manager's arguments.
var fixedFlags = []string{"leader-elect", "namespace", "metrics-bind-address", "health-probe-bind-address"}

// untunedFlags are left to manager.extraArgs: debugging aids and what the pod sets itself.
var untunedFlags = []string{
	"pprof-bind-address",        // a debugging aid
	"leader-election-namespace", // the pod's namespace, where the chart's Role grants the lease
}

// configArgs are the arguments config/manager gives the manager; the chart renders each of
// them from a value.
var configArgs = []string{"--leader-elect", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"}

// flagArgs renders the manager flags of the chart's values, one argument a line, indented.
func flagArgs(in *config, indent string) (string, error) {
	var missing []string
	for _, name := range in.managerFlags {
		if !slices.Contains(fixedFlags, name) && !slices.Contains(untunedFlags, name) &&
			!slices.ContainsFunc(managerFlags, func(f managerFlag) bool { return f.flag == name }) {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("manager flags %s have no chart value: add each to managerFlags (hack/chartgen/deployment.go), values.yaml and values.schema.json, or to untunedFlags", strings.Join(missing, ", "))
	}
	if !slices.Equal(in.container.Args, configArgs) {
		return "", fmt.Errorf("config/manager's manager arguments are %q; hack/chartgen renders %q: teach it the new ones", in.container.Args, configArgs)
	}
	var b strings.Builder
	for _, f := range managerFlags {
		if !slices.Contains(in.managerFlags, f.flag) {
			continue // not in this manager yet; its value stays unused
		}
		v := ".Values." + f.value
		switch f.kind {
		case "list":
			fmt.Fprintf(&b, "%s{{- range %s }}\n%s- --%s={{ . }}\n%s{{- end }}\n", indent, v, indent, f.flag, indent)
		case "int":
			fmt.Fprintf(&b, "%s{{- if not (kindIs \"invalid\" %s) }}\n%s- --%s={{ int64 %s }}\n%s{{- end }}\n", indent, v, indent, f.flag, v, indent)
		default:
			fmt.Fprintf(&b, "%s{{- if not (kindIs \"invalid\" %s) }}\n%s- --%s={{ %s }}\n%s{{- end }}\n", indent, v, indent, f.flag, v, indent)
		}
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// deploymentTemplate is config/manager's Deployment with the values of the chart.
func deploymentTemplate(in *config) ([]byte, error) {
	args, err := flagArgs(in, "            ")
	if err != nil {
		return nil, err
	}
	c := in.container
	pieces := map[string]any{"Args": args}
	for name, v := range map[string]any{"Env": c.Env, "Liveness": c.LivenessProbe, "Readiness": c.ReadinessProbe} {
		text, err := toYAML(v, 12)
		if err != nil {
			return nil, fmt.Errorf("marshalling the Deployment's %s: %w", name, err)
		}
		pieces[name] = text
	}
	pieces["Grace"] = *in.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds
	if pieces["Strategy"], err = toYAML(in.deployment.Spec.Strategy, 4); err != nil {
		return nil, fmt.Errorf("marshalling the Deployment's strategy: %w", err)
	}
	return render("deployment", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "baton.fullname" . }}-manager
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "baton.labels" . | nindent 4 }}
spec:
  # One active manager per scope (leader election); a second replica only stands by.
  replicas: {{ .Values.replicas }}
  # Recreate: a new pod whose --namespace scope differs from the old one's would refuse to
  # start while the old pod still holds its lease (docs/deploy.md).
  strategy:
[[ .Strategy ]]
  selector:
    matchLabels:
      {{- include "baton.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "baton.selectorLabels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "baton.serviceAccountName" . }}
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: [[ .Grace ]]
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: manager
          image: {{ include "baton.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args:
            {{- if .Values.leaderElection.enabled }}
            - --leader-elect
            {{- end }}
            - --metrics-bind-address=:{{ .Values.metrics.port }}
            - --health-probe-bind-address=:8081
            {{- range .Values.namespaces }}
            - --namespace={{ . }}
            {{- end }}
[[ .Args ]]
            {{- with .Values.manager.logLevel }}
            - --zap-log-level={{ . }}
            {{- end }}
            {{- range .Values.manager.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          env:
[[ .Env ]]
          ports:
            - name: metrics
              containerPort: {{ .Values.metrics.port }}
            - name: health
              containerPort: 8081
          livenessProbe:
[[ .Liveness ]]
          readinessProbe:
[[ .Readiness ]]
          {{- with .Values.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
`, pieces)
}
