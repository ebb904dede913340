package workflow_test

import (
	"os"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/extract"
)

// TestMain lets this test binary read report documents as helpdeskd
// does: in a child process of itself (package extract).
func TestMain(m *testing.M) {
	extract.ServeIfChild()
	os.Exit(m.Run())
}
