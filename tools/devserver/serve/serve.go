// Package serve implements the static file handler of the tabsync development
// server. The e2e tests use it in-process; tools/devserver wraps it in a
// command.
//
// It differs from http.FileServer in the ways that matter for shipping Go
// WebAssembly: .wasm is served as application/wasm (which
// WebAssembly.instantiateStreaming requires), JavaScript modules as
// text/javascript, precompressed X.br and X.gz siblings are served in place
// of X to clients that accept them, every response says Cache-Control:
// no-cache so that a rebuilt module is never taken from a stale cache, and
// no file outside a mounted directory can be reached, not even through a
// symbolic link.
package serve

import (
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// contentTypes fixes the types of the files a tabsync page loads, rather than
// trusting the host's MIME database, which on some systems lacks .wasm or
// maps .js to application/javascript variants.
var contentTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".map":  "application/json; charset=utf-8",
	".json": "application/json; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// encodings lists the precompressed variants looked for, in order of
// preference: brotli is smaller than gzip for wasm by about a quarter.
var encodings = []struct {
	name, suffix string
}{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// ContentType returns the Content-Type served for a file name.
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

type mount struct {
	prefix string // URL path prefix, starting and ending with "/"
	dir    string // directory on disk
}

type handler struct {
	mounts []mount // longest prefix first
}

// Handler returns a handler serving files from directories on disk. mounts
// maps URL path prefixes to directories, for example
//
//	serve.Handler(map[string]string{"/": "examples", "/tabsync/": "npm/dist"})
//
// A request is served from the mount with the longest matching prefix; a
// prefix is matched as a whole path segment, so "/tabsync/" does not match
// "/tabsyncx". A directory is served by its index.html; there are no
// directory listings. Directories are opened at each request, so a mount
// may name a directory that a build creates later.
func Handler(mounts map[string]string) http.Handler {
	h := &handler{}
	for prefix, dir := range mounts {
		prefix = path.Clean("/" + prefix)
		if prefix != "/" {
			prefix += "/"
		}
		h.mounts = append(h.mounts, mount{prefix: prefix, dir: dir})
	}
	sort.Slice(h.mounts, func(i, j int) bool {
		return len(h.mounts[i].prefix) > len(h.mounts[j].prefix)
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Revalidate every time: a dev server that lets a browser keep an old
	// tabsync.wasm makes a rebuild look like it changed nothing.
	w.Header().Set("Cache-Control", "no-cache")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}

	// Cleaning a rooted path removes every "..", so upath cannot climb
	// above the mount; os.Root below also refuses symlinks that leave it.
	upath := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") && upath != "/" {
		upath += "/"
	}
	m, rel, ok := h.match(upath)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if upath+"/" == m.prefix {
		// "/tabsync" for mount "/tabsync/": redirect so that relative
		// URLs in the index page resolve inside the mount.
		redirect(w, r, m.prefix)
		return
	}

	root, err := os.OpenRoot(m.dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()

	name := strings.TrimSuffix(rel, "/")
	if name == "" {
		name = "."
	}
	fi, err := root.Stat(name)
	if err != nil {
		notFoundOrError(w, r, err)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(upath, "/") {
			redirect(w, r, path.Base(upath)+"/")
			return
		}
		name = path.Join(name, "index.html")
	}
	h.serveFile(w, r, root, name)
}

// match returns the mount serving upath and the path relative to it.
func (h *handler) match(upath string) (mount, string, bool) {
	for _, m := range h.mounts {
		if strings.HasPrefix(upath, m.prefix) {
			return m, strings.TrimPrefix(upath, m.prefix), true
		}
		if upath+"/" == m.prefix {
			return m, "", true
		}
	}
	return mount{}, "", false
}

// serveFile serves name from root, or its best precompressed variant that
// the client accepts.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, root *os.Root, name string) {
	w.Header().Set("Content-Type", ContentType(name))
	// The response depends on Accept-Encoding whenever a variant could
	// exist; saying so always is simpler and never wrong.
	w.Header().Add("Vary", "Accept-Encoding")

	accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
	for _, enc := range encodings {
		if !accepted[enc.name] {
			continue
		}
		f, fi, err := openFile(root, name+enc.suffix)
		if err != nil {
			continue
		}
		defer f.Close()
		w.Header().Set("Content-Encoding", enc.name)
		http.ServeContent(w, r, name, fi.ModTime(), f)
		return
	}

	f, fi, err := openFile(root, name)
	if err != nil {
		notFoundOrError(w, r, err)
		return
	}
	defer f.Close()
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// openFile opens a regular file in root.
func openFile(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, fi, nil
}

// acceptedEncodings parses an Accept-Encoding header into the set of
// codings with a non-zero quality. "*" is not expanded: a client that
// only says "*" gets the identity encoding, which it accepts too.
func acceptedEncodings(header string) map[string]bool {
	set := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		set[coding] = q > 0
	}
	return set
}

func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if q := r.URL.RawQuery; q != "" {
		target += "?" + q
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// notFoundOrError answers 404 for files that do not exist or that os.Root
// refuses to open (a path escaping the mount), and 500 otherwise.
func notFoundOrError(w http.ResponseWriter, r *http.Request, err error) {
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.As(err, &pathErr) && strings.Contains(pathErr.Err.Error(), "escapes"):
		http.NotFound(w, r)
	default:
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
	}
}

// RepoMounts returns the layout of the demo for the repository at root: the
// examples at / and the built npm package at /tabsync/, so that a page
// loads the library as /tabsync/tabsync.js or /tabsync/tabsync.mjs and the
// module as /tabsync/tabsync.wasm. The devserver and the e2e tests share it.
func RepoMounts(root string) map[string]string {
	return map[string]string{
		"/":         filepath.Join(root, "examples"),
		"/tabsync/": filepath.Join(root, "npm", "dist"),
	}
}

// DirExists reports whether dir is an existing directory. The command uses it
// to warn about mounts that a build has not created yet.
func DirExists(dir string) bool {
	fi, err := os.Stat(filepath.Clean(dir))
	return err == nil && fi.IsDir()
}
