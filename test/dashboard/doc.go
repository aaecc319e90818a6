// Package dashboard tests config/grafana/baton-dashboard.json, the Grafana dashboard the
// chart ships behind grafana.dashboard.enabled: every metric a panel's query names must be
// one the manager serves on /metrics, scraped from a manager that has run a sequence.
package dashboard
