//go:build tools

package tools

import _ "github.com/inngest/inngest/cmd"
