package serve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture lays out two mounts and a secret file beside them that no request
// may reach.
func fixture(t *testing.T) http.Handler {
	t.Helper()
	base := t.TempDir()
	files := map[string]string{
		"site/index.html":         "<h1>demo</h1>",
		"site/app.js":             "console.log(1)",
		"site/mod.mjs":            "export {}",
		"site/sub/index.html":     "sub",
		"site/nodir/plain.txt":    "plain",
		"dist/tabsync.wasm":       "RAW",
		"dist/tabsync.wasm.br":    "BROTLI",
		"dist/tabsync.wasm.gz":    "GZIP",
		"dist/gzonly.wasm":        "RAW2",
		"dist/gzonly.wasm.gz":     "GZIP2",
		"dist/wasm_exec.js":       "// glue",
		"secret.txt":              "SECRET",
		"dist/unknown.weirdext42": "x",
	}
	for name, body := range files {
		p := filepath.Join(base, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	// A symlink out of the mount must not be followed.
	require.NoError(t, os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(base, "site", "leak.txt")))
	return Handler(map[string]string{
		"/":         filepath.Join(base, "site"),
		"/tabsync/": filepath.Join(base, "dist"),
		"/missing/": filepath.Join(base, "does-not-exist"),
	})
}

func get(t *testing.T, h http.Handler, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestContentTypes(t *testing.T) {
	h := fixture(t)
	tests := []struct {
		path, contentType, body string
	}{
		{"/tabsync/tabsync.wasm", "application/wasm", "RAW"},
		{"/tabsync/wasm_exec.js", "text/javascript; charset=utf-8", "// glue"},
		{"/mod.mjs", "text/javascript; charset=utf-8", "export {}"},
		{"/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
		{"/", "text/html; charset=utf-8", "<h1>demo</h1>"},
		{"/index.html", "text/html; charset=utf-8", "<h1>demo</h1>"},
		{"/sub/", "text/html; charset=utf-8", "sub"},
		{"/tabsync/unknown.weirdext42", "application/octet-stream", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := get(t, h, tt.path, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.contentType, rec.Header().Get("Content-Type"))
			assert.Equal(t, tt.body, rec.Body.String())
			assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
			assert.Empty(t, rec.Header().Get("Content-Encoding"))
		})
	}
}

func TestPrecompressed(t *testing.T) {
	h := fixture(t)
	tests := []struct {
		name, path, acceptEncoding, encoding, body string
	}{
		{"br preferred", "/tabsync/tabsync.wasm", "gzip, deflate, br, zstd", "br", "BROTLI"},
		{"br only", "/tabsync/tabsync.wasm", "br", "br", "BROTLI"},
		{"gzip only", "/tabsync/tabsync.wasm", "gzip", "gzip", "GZIP"},
		{"br refused by q=0", "/tabsync/tabsync.wasm", "br;q=0, gzip;q=0.5", "gzip", "GZIP"},
		{"no br variant", "/tabsync/gzonly.wasm", "br, gzip", "gzip", "GZIP2"},
		{"no header", "/tabsync/tabsync.wasm", "", "", "RAW"},
		{"identity only", "/tabsync/tabsync.wasm", "identity", "", "RAW"},
		{"star is not expanded", "/tabsync/tabsync.wasm", "*", "", "RAW"},
		{"no variant at all", "/tabsync/wasm_exec.js", "br, gzip", "", "// glue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.path, map[string]string{"Accept-Encoding": tt.acceptEncoding})
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.encoding, rec.Header().Get("Content-Encoding"))
			assert.Equal(t, tt.body, rec.Body.String())
			assert.Equal(t, ContentType(tt.path), rec.Header().Get("Content-Type"),
				"a compressed variant keeps the type of the file it stands for")
			assert.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"))
			assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
		})
	}
}

func TestNotFound(t *testing.T) {
	h := fixture(t)
	for _, p := range []string{
		"/nope.html",
		"/tabsync/nope.wasm",
		"/missing/x.js",    // mount whose directory does not exist
		"/nodir/",          // directory without index.html: no listing
		"/tabsyncx/app.js", // prefix matches only whole segments
		"/leak.txt",        // symlink out of the mount
		"/tabsync/.." + "/secret.txt",
	} {
		t.Run(p, func(t *testing.T) {
			rec := get(t, h, p, nil)
			assert.Equal(t, http.StatusNotFound, rec.Code)
			assert.NotContains(t, rec.Body.String(), "SECRET")
		})
	}
}

func TestNoTraversal(t *testing.T) {
	h := fixture(t)
	for _, target := range []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/tabsync/../../secret.txt",
		"/tabsync/%2e%2e/%2e%2e/secret.txt",
		"/sub/../../secret.txt",
		"/..%2fsecret.txt",
	} {
		t.Run(target, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.RawPath = ""
			req.URL.Path = mustUnescape(t, target)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.NotEqual(t, http.StatusOK, rec.Code)
			assert.NotContains(t, rec.Body.String(), "SECRET")
		})
	}
}

func TestRedirects(t *testing.T) {
	h := fixture(t)
	rec := get(t, h, "/tabsync", nil)
	assert.Equal(t, http.StatusMovedPermanently, rec.Code)
	assert.Equal(t, "/tabsync/", rec.Header().Get("Location"))

	rec = get(t, h, "/sub?x=1", nil)
	assert.Equal(t, http.StatusMovedPermanently, rec.Code)
	assert.Equal(t, "/sub/?x=1", rec.Header().Get("Location"))
}

func TestMethods(t *testing.T) {
	h := fixture(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/index.html", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/tabsync/tabsync.wasm", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/wasm", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Body.String())
}

func TestAcceptedEncodings(t *testing.T) {
	got := acceptedEncodings("gzip;q=0.8, BR ; q=1.0, deflate;q=0, , zstd")
	assert.Equal(t, map[string]bool{"gzip": true, "br": true, "deflate": false, "zstd": true}, got)
	assert.Empty(t, acceptedEncodings(""))
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://x"+s, nil)
	require.NoError(t, err)
	return req.URL.Path
}
