# The baton manager image: the static manager that `make build` leaves in bin/manager
# (CGO_ENABLED=0) and the CA certificates the http step needs, on an empty base. No builder
# image: `make image` builds the binary on the host, copies the host's CA bundle to
# bin/ca-certificates.crt, and runs `podman build`. Elsewhere the same works with docker:
#   make build && cp /etc/ssl/certs/ca-certificates.crt bin/ && docker build -t baton .
FROM scratch
COPY bin/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY bin/manager /manager
# The numeric non-root user of distroless images; config/manager runs it with
# runAsNonRoot, a read-only root filesystem and no capabilities.
USER 65532:65532
ENTRYPOINT ["/manager"]
