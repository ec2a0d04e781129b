// Command sizebreakdown attributes the code of a Go WebAssembly module to
// Go packages and functions, so that size work starts from numbers. It reads
// the module's code section and its name section, which the Go linker writes
// unless -s is given: build the module without -ldflags='-s -w' (the code
// is the same; -s only drops the names).
//
//	GOOS=js GOARCH=wasm go build -tags nopersist -trimpath -o /tmp/np.wasm ./wasm
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/jsonly.wasm ./tools/sizefloor/jsonly
//	go run ./tools/sizebreakdown -floor /tmp/jsonly.wasm /tmp/np.wasm
//
// For each package it prints the raw bytes of its function bodies and two
// estimates of what they cost gzipped: "alone", its bodies gzipped
// together, and "marginal", how much smaller the whole code section gets
// gzipped without them (what removing the package would save, roughly:
// gzip finds repeats across packages, so the marginals do not add up to the
// total). With -floor, it prints the floor module's figures beside and the
// difference, so the rows are what the module adds to its floor. Then the
// largest functions (-funcs). The data section (read-only data, type
// descriptors, the function table Go's runtime reads) has no names in the
// module and is reported as one line.
//
// Generic instantiations are grouped under their package ("slices"), and
// the function rows keep their shape ("slices.pdqsortCmpFunc[go.shape.int]").
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

func main() {
	floorPath := flag.String("floor", "", "a floor module built the same way, to print beside and subtract")
	top := flag.Int("packages", 40, "how many packages to print, largest difference (or size) first")
	funcs := flag.Int("funcs", 30, "how many of the largest functions to print")
	filter := flag.String("pkg", "", "print only the functions of packages whose path contains this")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sizebreakdown [-floor FLOOR.wasm] [-packages N] [-funcs N] [-pkg SUBSTR] MODULE.wasm")
		os.Exit(2)
	}
	mod, err := load(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "sizebreakdown:", err)
		os.Exit(1)
	}
	var floor *module
	if *floorPath != "" {
		if floor, err = load(*floorPath); err != nil {
			fmt.Fprintln(os.Stderr, "sizebreakdown:", err)
			os.Exit(1)
		}
	}
	report(os.Stdout, mod, floor, *top, *funcs, *filter)
}

// A function is one body of the code section and its name.
type function struct {
	name string
	pkg  string
	body []byte
}

// A module is what sizebreakdown reads of a wasm file.
type module struct {
	path     string
	size     int
	gzipped  int
	sections map[string]int // section name -> bytes, header included
	funcs    []function
	code     int // bytes of all bodies
	codeGz   int // the bodies gzipped together
	pkgs     map[string]*pkgStat
}

type pkgStat struct {
	name     string
	raw      int
	funcs    int
	alone    int // its bodies gzipped together
	marginal int // codeGz minus the bodies of every other package gzipped
}

var sectionNames = map[byte]string{
	0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
	6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "datacount",
}

// load reads and attributes one module.
func load(path string) (*module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%s: not a WebAssembly module", path)
	}
	m := &module{path: path, size: len(b), gzipped: gz(b), sections: map[string]int{}, pkgs: map[string]*pkgStat{}}
	var bodies [][]byte
	names := map[uint32]string{}
	imported := uint32(0)
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		start := r.off
		id := r.byte()
		size := int(r.uleb())
		end := r.off + size
		if r.err != nil || end > len(b) {
			return nil, fmt.Errorf("%s: truncated section at byte %d", path, start)
		}
		sec := &reader{b: b[:end], off: r.off}
		name := sectionNames[id]
		switch id {
		case 0:
			cname := sec.name()
			name = "custom " + cname
			if cname == "name" {
				readNames(sec, names)
			}
		case 2:
			imported = countFuncImports(sec)
		case 10:
			n := sec.uleb()
			for i := uint32(0); i < n && sec.err == nil; i++ {
				l := int(sec.uleb())
				if sec.off+l > end {
					sec.err = errors.New("body past its section")
					break
				}
				bodies = append(bodies, b[sec.off:sec.off+l])
				sec.off += l
			}
		}
		if sec.err != nil {
			return nil, fmt.Errorf("%s: section %s: %v", path, name, sec.err)
		}
		m.sections[name] += end - start
		r.off = end
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no name section: build it without -ldflags='-s -w'", path)
	}
	for i, body := range bodies {
		name := names[imported+uint32(i)]
		if name == "" {
			name = fmt.Sprintf("func[%d]", imported+uint32(i))
		}
		f := function{name: name, pkg: packageOf(name), body: body}
		m.funcs = append(m.funcs, f)
		m.code += len(body)
		p := m.pkgs[f.pkg]
		if p == nil {
			p = &pkgStat{name: f.pkg}
			m.pkgs[f.pkg] = p
		}
		p.raw += len(body)
		p.funcs++
	}
	m.codeGz = gz(concat(m.funcs, func(function) bool { return true }))
	for _, p := range m.pkgs {
		p.alone = gz(concat(m.funcs, func(f function) bool { return f.pkg == p.name }))
		p.marginal = m.codeGz - gz(concat(m.funcs, func(f function) bool { return f.pkg != p.name }))
	}
	return m, nil
}

// packageOf returns the package of a function as the wasm name section
// spells it. The Go linker writes names for wasm with the package path's
// "/" as "_" and "(*T)" as "__T_", so the package is what comes before the
// first "." past a leading domain: "github.com_tabsync_tabsync_sync.__Engine_.apply"
// -> "github.com_tabsync_tabsync_sync", "type_.eq.internal_abi.ITab" ->
// "type_" (the compiler's equality and hash functions of types).
func packageOf(sym string) string {
	skip := 0
	if m := domain.FindStringIndex(sym); m != nil {
		skip = m[1]
	}
	if i := strings.IndexAny(sym[skip:], "[."); i > 0 {
		return sym[:skip+i]
	}
	return sym
}

// domain matches the host a module path starts with, such as "github.com_".
var domain = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|io|dev|in|land)_`)

func concat(fs []function, keep func(function) bool) []byte {
	var buf bytes.Buffer
	for _, f := range fs {
		if keep(f) {
			buf.Write(f.body)
		}
	}
	return buf.Bytes()
}

// gz is the size of b compressed as make size does (gzip -9).
func gz(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Len()
}

// readNames reads the function names subsection (1) of a name section.
func readNames(r *reader, names map[uint32]string) {
	for r.off < len(r.b) && r.err == nil {
		id := r.byte()
		size := int(r.uleb())
		end := r.off + size
		if id != 1 {
			r.off = end
			continue
		}
		n := r.uleb()
		for i := uint32(0); i < n && r.err == nil; i++ {
			idx := r.uleb()
			names[idx] = r.name()
		}
		r.off = end
	}
}

// countFuncImports counts the imported functions, which come first in the
// function index space the name section uses.
func countFuncImports(r *reader) uint32 {
	n := r.uleb()
	funcs := uint32(0)
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0: // func: type index
			r.uleb()
			funcs++
		case 1: // table: reftype, limits
			r.byte()
			r.limits()
		case 2: // memory: limits
			r.limits()
		case 3: // global: valtype, mut
			r.byte()
			r.byte()
		default:
			r.err = fmt.Errorf("import kind %d", kind)
		}
	}
	return funcs
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) uleb() uint32 {
	v, n := binary.Uvarint(r.b[min(r.off, len(r.b)):])
	if n <= 0 {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	r.off += n
	return uint32(v)
}

func (r *reader) name() string {
	l := int(r.uleb())
	if r.off+l > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return ""
	}
	s := string(r.b[r.off : r.off+l])
	r.off += l
	return s
}

func (r *reader) limits() {
	if r.byte() == 1 {
		r.uleb()
	}
	r.uleb()
}

func report(w io.Writer, m, floor *module, top, nfuncs int, filter string) {
	fmt.Fprintf(w, "%s: %d B, %d B gzipped; code %d B in %d functions (%d B gzipped alone)\n",
		m.path, m.size, m.gzipped, m.code, len(m.funcs), m.codeGz)
	if floor != nil {
		fmt.Fprintf(w, "floor %s: %d B, %d B gzipped (module %.4fx); code %d B in %d functions (%d B gzipped alone)\n",
			floor.path, floor.size, floor.gzipped, float64(m.gzipped)/float64(floor.gzipped), floor.code, len(floor.funcs), floor.codeGz)
	}
	fmt.Fprintln(w, "\nsections (bytes):")
	var secs []string
	for s := range m.sections {
		secs = append(secs, s)
	}
	if floor != nil {
		for s := range floor.sections {
			if _, ok := m.sections[s]; !ok {
				secs = append(secs, s)
			}
		}
	}
	sort.Slice(secs, func(i, j int) bool { return m.sections[secs[i]] > m.sections[secs[j]] })
	for _, s := range secs {
		if floor != nil {
			fmt.Fprintf(w, "  %-20s %10d %10d %+10d\n", s, m.sections[s], floor.sections[s], m.sections[s]-floor.sections[s])
		} else {
			fmt.Fprintf(w, "  %-20s %10d\n", s, m.sections[s])
		}
	}

	type row struct {
		name             string
		raw, alone, marg int
		fraw, falone     int
		fmarg            int
		n, fn            int
	}
	var rows []row
	seen := map[string]bool{}
	for _, p := range m.pkgs {
		r := row{name: p.name, raw: p.raw, alone: p.alone, marg: p.marginal, n: p.funcs}
		if floor != nil {
			if q := floor.pkgs[p.name]; q != nil {
				r.fraw, r.falone, r.fmarg, r.fn = q.raw, q.alone, q.marginal, q.funcs
			}
		}
		seen[p.name] = true
		rows = append(rows, r)
	}
	if floor != nil {
		for _, q := range floor.pkgs {
			if !seen[q.name] {
				rows = append(rows, row{name: q.name, fraw: q.raw, falone: q.alone, fmarg: q.marginal, fn: q.funcs})
			}
		}
	}
	key := func(r row) int { return r.raw - r.fraw }
	sort.Slice(rows, func(i, j int) bool {
		if key(rows[i]) != key(rows[j]) {
			return key(rows[i]) > key(rows[j])
		}
		return rows[i].name < rows[j].name
	})
	if floor != nil {
		fmt.Fprintln(w, "\npackages, by code bytes added to the floor (raw / gzipped alone / gzipped marginal; funcs):")
		fmt.Fprintf(w, "  %-44s %26s %26s %9s\n", "package", "module", "floor", "+raw")
	} else {
		fmt.Fprintln(w, "\npackages, by code bytes (raw / gzipped alone / gzipped marginal; funcs):")
	}
	for i, r := range rows {
		if i == top {
			fmt.Fprintf(w, "  ... %d more\n", len(rows)-top)
			break
		}
		if floor != nil {
			fmt.Fprintf(w, "  %-44s %8d %7d %7d %3d  %8d %7d %7d %3d %+9d\n", r.name, r.raw, r.alone, r.marg, r.n, r.fraw, r.falone, r.fmarg, r.fn, r.raw-r.fraw)
		} else {
			fmt.Fprintf(w, "  %-44s %8d %7d %7d %4d\n", r.name, r.raw, r.alone, r.marg, r.n)
		}
	}

	fs := append([]function(nil), m.funcs...)
	sort.Slice(fs, func(i, j int) bool { return len(fs[i].body) > len(fs[j].body) })
	inFloor := map[string]bool{}
	if floor != nil {
		for _, f := range floor.funcs {
			inFloor[f.name] = true
		}
	}
	fmt.Fprintf(w, "\nlargest functions (bytes; * = not in the floor)")
	if filter != "" {
		fmt.Fprintf(w, " of packages matching %q", filter)
	}
	fmt.Fprintln(w, ":")
	shown := 0
	for _, f := range fs {
		if shown == nfuncs {
			break
		}
		if filter != "" && !strings.Contains(f.pkg, filter) {
			continue
		}
		mark := " "
		if floor != nil && !inFloor[f.name] {
			mark = "*"
		}
		fmt.Fprintf(w, "  %8d %s %s\n", len(f.body), mark, f.name)
		shown++
	}
}
