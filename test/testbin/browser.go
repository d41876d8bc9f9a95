package testbin

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserLifetime bounds a test's browser: it is stopped then even if the test hangs.
const BrowserLifetime = 3 * time.Minute

// Browser starts Debian's headless Chromium for a test (installed by `make bootstrap`) and
// returns its chromedp context. The browser is stopped (its process killed) when the test
// ends or after BrowserLifetime.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make bootstrap` (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	watchdog := time.AfterFunc(BrowserLifetime, func() { cancel(); cancelAlloc() })
	t.Cleanup(func() {
		watchdog.Stop()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser with no deadline of its own
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Steps runs browser actions with a deadline, failing the test with what failed.
func Steps(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
