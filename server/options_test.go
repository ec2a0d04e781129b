//go:build !js

package server_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server"
)

func TestDefaultOptions(t *testing.T) {
	s, err := server.New(nil)
	require.NoError(t, err)
	o := s.Options()
	assert.NotNil(t, o.Logger)
	o.Logger = nil
	assert.Equal(t, server.Options{
		Listen: "127.0.0.1:8081", DataDir: "tabsync-data", Replicas: 1, History: 64, ResumeLog: 10000,
		DedupeWindow: 24 * time.Hour, MaxMessageBytes: 1 << 20, MaxValueBytes: 512 << 10, MaxTables: 100,
		OpsPerSecond: 1000, MaxConnections: 10000, MaxQueueBytes: 8 << 20, HelloTimeout: 5 * time.Second,
		IdleTimeout: 90 * time.Second, ShutdownTimeout: 10 * time.Second,
	}, o)
}

func TestConfigureOptions(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("abcdefgh1 read-only tables=pub_,x\n\n# c\nabcdefgh2\n"), 0o600))
	bad := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.WriteFile(bad, []byte("abcdefgh1 admin\n"), 0o600))
	cases := []struct {
		args []string
		env  string
		want func(*server.Options)
		err  string
	}{
		{args: nil, want: func(o *server.Options) {}},
		{args: []string{"--listen", "0.0.0.0:9000", "--data", "/tmp/d", "--dedupe-window", "48h", "--sync-always"},
			want: func(o *server.Options) {
				o.Listen, o.DataDir, o.DedupeWindow, o.SyncAlways = "0.0.0.0:9000", "/tmp/d", 48*time.Hour, true
			}},
		{args: []string{"--nats", "nats://a:4222, nats://b:4222", "--replicas", "3"},
			want: func(o *server.Options) { o.NATSURLs, o.Replicas = []string{"nats://a:4222", "nats://b:4222"}, 3 }},
		{args: []string{"--allow-origin", "a.example.com", "--allow-origin", "*.b.example.com"},
			want: func(o *server.Options) { o.AllowOrigins = []string{"a.example.com", "*.b.example.com"} }},
		{args: []string{"--token-file", tokens}, env: "abcdefgh0",
			want: func(o *server.Options) {
				o.TokenFile = tokens
				o.Tokens = []server.Token{{Secret: "abcdefgh0"}, {Secret: "abcdefgh1", ReadOnly: true, Prefixes: []string{"pub_", "x"}}, {Secret: "abcdefgh2"}}
			}},
		{args: []string{"--max-message-bytes", "65536", "--max-value-bytes", "32768", "--max-tables", "3", "--ops-per-second", "7",
			"--max-connections", "9", "--hello-timeout", "1s", "--idle-timeout", "30s", "--history", "8", "--resume-log", "5"},
			want: func(o *server.Options) {
				o.MaxMessageBytes, o.MaxValueBytes, o.MaxTables, o.OpsPerSecond, o.MaxConnections = 65536, 32768, 3, 7, 9
				o.HelloTimeout, o.IdleTimeout, o.History, o.ResumeLog = time.Second, 30*time.Second, 8, 5
			}},
		{args: []string{"--listen", "8081"}, err: "--listen"},
		{args: []string{"--replicas", "2"}, err: "--replicas"},
		{args: []string{"--replicas", "3"}, err: "--nats"},
		{args: []string{"--history", "65"}, err: "--history"},
		{args: []string{"--tls-cert", "c.pem"}, err: "--tls-key"},
		{args: []string{"--max-value-bytes", "2000000"}, err: "--max-value-bytes"},
		{args: []string{"--max-message-bytes", "100"}, err: "--max-message-bytes"},
		{args: []string{"--dedupe-window", "10s"}, err: "--dedupe-window"},
		{args: []string{"--token-file", bad}, err: "neither read-only"},
		{args: []string{"--token-file", "/nonexistent"}, err: "--token-file"},
		{env: "short", err: "shorter than 8"},
		{args: []string{"stray"}, err: "unexpected argument"},
		{args: []string{"--no-such-flag"}, err: "not defined"},
	}
	for _, c := range cases {
		t.Setenv("TOKEN", c.env)
		fs := flag.NewFlagSet("tabsync-server", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		got, err := server.ConfigureOptions(fs, c.args)
		if c.err != "" {
			require.Error(t, err, "%v", c.args)
			assert.Contains(t, err.Error(), c.err, "%v", c.args)
			continue
		}
		require.NoError(t, err, "%v", c.args)
		want := server.Options{Listen: server.DefaultListen, DataDir: server.DefaultDataDir, Replicas: 1, History: 64,
			ResumeLog: 10000, DedupeWindow: 24 * time.Hour, MaxMessageBytes: 1 << 20, MaxValueBytes: 512 << 10,
			MaxTables: 100, OpsPerSecond: 1000, MaxConnections: 10000, MaxQueueBytes: 8 << 20,
			HelloTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second, ShutdownTimeout: 10 * time.Second}
		c.want(&want)
		assert.Equal(t, want, *got, "%v", c.args)
	}
}
