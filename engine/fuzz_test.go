package engine

import (
	"testing"
)

// FuzzDecide feeds Decide snapshots built from the fuzzer's bytes (members, indexes,
// counts, TTLs, annotations, statuses) and its strings (a when condition, an annotation
// value), and checks that it never panics and that every property holds.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{}, "", "")
	f.Add([]byte{0, 3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "true", `{"kubescape.io/app-name":"operator"}`)
	f.Add([]byte("\x00\x05\x00\x07sequence of five with batches"), `steps["0"].phase == "Succeeded"`, "true")
	f.Add([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0"), "1 +", "{")
	f.Fuzz(func(t *testing.T, data []byte, expression, annotation string) {
		s, opts, now := genCase(&byteChooser{data: data}, genInput{expression: expression, annotation: annotation})
		checkProperties(t, s, opts, now)
	})
}
