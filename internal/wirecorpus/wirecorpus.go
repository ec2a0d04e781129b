// Package wirecorpus reads the wire-format corpus of testdata/wire (see
// testdata/README.md): golden BroadcastChannel messages of the current
// protocol version and hostile ones, each with what a receiving tab must do
// with it. The Go protocol tests, the jsbridge tests (in the browser) and
// the e2e tests read it through this package; the npm tests read the same
// files with their own few lines of JavaScript.
package wirecorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/tabsync/tabsync"
)

// Self stands in the messages for the id of the receiving tab; Load
// replaces it with the id given.
const Self = "{self}"

// File is one file of the corpus: a receiver's settings and the cases it
// is given, in order.
type File struct {
	Name        string   `json:"-"` // file name, such as "valid.json"
	Description string   `json:"description"`
	Receiver    Receiver `json:"receiver"`
	Cases       []Case   `json:"cases"`
}

// Receiver is the configuration of the receiving tab that matters to
// decoding; zero fields are the defaults.
type Receiver struct {
	AppVersion      string `json:"appVersion"`
	MaxMessageBytes int    `json:"maxMessageBytes"`
}

// Case is one message and what the receiver does with it.
type Case struct {
	Name string `json:"name"`
	// Expect is "accepted" or "rejected".
	Expect string `json:"expect"`
	// Reason, for a rejected message, is the protocol.Reason's name it is
	// counted under in getStats().droppedByReason.
	Reason string `json:"reason"`
	// Message is the message's JSON text, with Self replaced.
	Message json.RawMessage `json:"message"`
}

// Accepted reports whether the message must be accepted.
func (c Case) Accepted() bool { return c.Expect == "accepted" }

// Value returns the message as encoding/json decodes it (objects as
// map[string]any, numbers as float64): the values conflict.GoModel reads.
func (c Case) Value() any {
	var v any
	if err := json.Unmarshal(c.Message, &v); err != nil {
		panic("wirecorpus: " + c.Name + ": " + err.Error()) // Load checked it
	}
	return v
}

// Load reads every file of testdata/wire, in name order, with Self
// replaced by self in the messages. A file that does not follow the format
// (an unknown field, an expect other than accepted or rejected, a rejected
// case without a reason, two cases of one name) is an error.
func Load(self string) ([]File, error) {
	names, err := fs.Glob(tabsync.Testdata, "testdata/wire/*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("wirecorpus: no testdata/wire/*.json")
	}
	var files []File
	for _, name := range names {
		text, err := fs.ReadFile(tabsync.Testdata, name)
		if err != nil {
			return nil, err
		}
		text = bytes.ReplaceAll(text, []byte(Self), []byte(self))
		f := File{Name: path.Base(name)}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("wirecorpus: %s: %w", f.Name, err)
		}
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("wirecorpus: %s: %w", f.Name, err)
		}
		files = append(files, f)
	}
	return files, nil
}

func (f File) check() error {
	if len(f.Cases) == 0 {
		return fmt.Errorf("no cases")
	}
	seen := map[string]bool{}
	for i, c := range f.Cases {
		switch {
		case strings.TrimSpace(c.Name) == "":
			return fmt.Errorf("case %d has no name", i)
		case seen[c.Name]:
			return fmt.Errorf("two cases named %q", c.Name)
		case c.Expect != "accepted" && c.Expect != "rejected":
			return fmt.Errorf("%q: expect is %q, not accepted or rejected", c.Name, c.Expect)
		case c.Expect == "rejected" && c.Reason == "":
			return fmt.Errorf("%q: rejected without a reason", c.Name)
		case c.Expect == "accepted" && c.Reason != "":
			return fmt.Errorf("%q: accepted with a reason", c.Name)
		case len(c.Message) == 0:
			return fmt.Errorf("%q: no message", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}
