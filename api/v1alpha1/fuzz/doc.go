// Package fuzz holds the fuzz targets of the API's decoders (spec.ttl, spec.args and the
// command around them), apart from the package's envtest suite so that `go test -fuzz`
// (make fuzz) instruments only the API's own dependencies. It must not import a client.
package fuzz
