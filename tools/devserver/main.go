// Command devserver serves the tabsync examples and the built npm package to
// a browser, for trying the library in several tabs by hand:
//
//	go run ./tools/devserver [-addr 127.0.0.1:8080] [-dir examples] [-mount /tabsync/=npm/dist]...
//
// By default it serves the repository's examples/ directory at / and the
// built package, npm/dist/ (made by `make build`), at /tabsync/, so an
// example page loads the library as /tabsync/tabsync.wasm and
// /tabsync/wasm_exec.js. Relative -dir and -mount directories are taken from
// the repository root, found by walking up from the working directory to
// the go.mod of github.com/tabsync/tabsync. The port comes from -addr, else
// from $PORT, else 8080.
//
// See package serve for what it does differently from http.FileServer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/tabsync/tabsync/tools/devserver/serve"
)

// mountFlags collects repeated -mount PREFIX=DIR flags.
type mountFlags map[string]string

func (m mountFlags) String() string {
	var parts []string
	for p, d := range m {
		parts = append(parts, p+"="+d)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (m mountFlags) Set(v string) error {
	prefix, dir, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(prefix, "/") || dir == "" {
		return fmt.Errorf("want -mount /PREFIX/=DIR, got %q", v)
	}
	m[prefix] = dir
	return nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("devserver: ")

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	addr := flag.String("addr", net.JoinHostPort("127.0.0.1", port), "`host:port` to listen on (port 0 picks a free one)")
	dir := flag.String("dir", "", "`directory` served at / (default examples)")
	mounts := mountFlags{}
	flag.Var(mounts, "mount", "serve `/PREFIX/=DIR` as well; repeatable (default /tabsync/=npm/dist)")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments %q; see -help", flag.Args())
	}
	root := repoRoot()
	defaults := serve.RepoMounts(root)
	if len(mounts) == 0 {
		mounts["/tabsync/"] = defaults["/tabsync/"]
	}
	if *dir != "" {
		mounts["/"] = *dir
	}
	if _, ok := mounts["/"]; !ok {
		mounts["/"] = defaults["/"]
	}
	for prefix, d := range mounts {
		if !filepath.IsAbs(d) {
			d = filepath.Join(root, d)
			mounts[prefix] = d
		}
		if !serve.DirExists(d) {
			log.Printf("warning: %s (for %s) does not exist yet; run `make build` or `make demo` to create it", d, prefix)
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("cannot listen on %s: %v (set -addr or PORT to a free port)", *addr, err)
	}
	srv := &http.Server{
		Handler:           serve.Handler(mounts),
		ReadHeaderTimeout: 10 * time.Second,
	}

	url := "http://" + displayAddr(ln.Addr().(*net.TCPAddr)) + "/"
	fmt.Printf("tabsync demo: open %s in several tabs\n", url)
	for _, p := range sortedKeys(mounts) {
		fmt.Printf("  %s -> %s\n", p, mounts[p])
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// displayAddr returns addr as a browser should use it: an unspecified host
// (":8080", "0.0.0.0") becomes 127.0.0.1, a secure origin for Web Locks
// and the other APIs tabsync needs.
func displayAddr(addr *net.TCPAddr) string {
	host := addr.IP.String()
	if addr.IP == nil || addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// repoRoot returns the directory of the tabsync go.mod at or above the
// working directory, or the working directory if there is none.
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/tabsync/tabsync\n") {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return wd
		}
		d = parent
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
