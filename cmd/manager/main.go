// Command manager is the baton manager: the sequencing controllers with the built-in steps.
package main

import (
	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/steps"
)

func main() {
	app.Main(steps.NewRegistry())
}
