// Command custom-handler is baton with one more step type: "greet". It is the whole
// program a team ships to run its own handlers in the full baton manager, with the same
// flags as bin/manager and the built-in steps beside its own.
package main

import (
	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/steps"
)

func main() {
	registry := steps.NewRegistry()
	registry.MustRegister("greet", "", Greet{})
	app.Main(registry)
}
