// Command tlogcheck reads a transparency log through its C2SP tlog-tiles API and verifies it
// with Go's own implementation (golang.org/x/mod/sumdb/note and sumdb/tlog): an independent
// check of the tiles, entry bundles and checkpoints the facility serves.
//
//	tlogcheck -url PREFIX -key VKEY [-token T] [-old FILE] [-proofs N]
//
// It opens the checkpoint with the log's verifier key (cosignature lines by other keys are
// ignored, as note.Open does), checks that the tree hash computed from the served hash tiles is
// the checkpoint's root, reads every entry bundle and checks each entry's record hash against
// the level-0 tiles, builds the whole tree again from the entries and checks its root, proves a
// few records, and, given an older checkpoint (a signed note in FILE), proves the served tree
// consistent with it. It prints a summary and exits 1 on any failure (2 on bad usage).
//
// Built in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlogcheck main.go
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	tileHeight = 8 // C2SP tiles are 256 hashes wide: height 8 in Go's terms
	bundleSize = 1 << tileHeight
	maxBody    = 1 << 26 // the largest answer read: a bundle of 256 entries of 64 KiB, and more
)

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// server reads the log's resources over HTTP and implements tlog.TileReader.
type server struct {
	prefix  string
	token   string
	client  *http.Client
	tiles   map[tlog.Tile][]byte // tiles read so far: TileHashReader asks again for every call
	fetched int
}

func (s *server) get(path string) ([]byte, string, error) {
	req, err := http.NewRequest("GET", s.prefix+"/"+path, nil)
	if err != nil {
		return nil, "", err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	// No Accept-Encoding of our own: Go's transport then asks for gzip and decodes it.
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", path, err)
	}
	if len(body) > maxBody {
		return nil, "", fmt.Errorf("%s: larger than %d bytes", path, maxBody)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s: HTTP %d: %s", path, resp.StatusCode, short(body))
	}
	s.fetched++
	return body, resp.Header.Get("Content-Type"), nil
}

func short(body []byte) string {
	if len(body) > 300 {
		body = body[:300]
	}
	return strings.TrimSpace(string(body))
}

// c2spPath maps Go's tile path (tile/8/L/NNN[.p/W]) to C2SP's, which has no height.
func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
}

func (s *server) Height() int { return tileHeight }

func (s *server) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != tileHeight || t.L < 0 {
			return nil, fmt.Errorf("tile %v: not a C2SP hash tile", t)
		}
		if held, ok := s.tiles[t]; ok {
			data[i] = held
			continue
		}
		body, kind, err := s.get(c2spPath(t))
		if err != nil {
			return nil, err
		}
		if kind != "application/octet-stream" {
			return nil, fmt.Errorf("%s: Content-Type %q, not application/octet-stream", c2spPath(t), kind)
		}
		if len(body) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, not %d", c2spPath(t), len(body), t.W*tlog.HashSize)
		}
		s.tiles[t] = body
		data[i] = body
	}
	return data, nil
}

func (s *server) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// openCheckpoint verifies a signed checkpoint note with the log's key and parses its body
// (origin, size, root hash, optional extension lines) as C2SP tlog-checkpoint writes it.
func openCheckpoint(msg []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return checkpoint{}, errors.New("checkpoint: fewer than three lines, or no final newline")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("checkpoint: size %q is not a decimal size", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("checkpoint: root %q is not a base64 SHA-256 hash", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{origin: lines[0], size: size, root: root}, nil
}

// parseBundle splits a C2SP entry bundle: entries behind big-endian uint16 lengths.
func parseBundle(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("a length prefix is cut off")
		}
		n := int(data[0])<<8 | int(data[1])
		data = data[2:]
		if n > len(data) {
			return nil, fmt.Errorf("entry %d says %d bytes, %d remain", len(entries), n, len(data))
		}
		entries = append(entries, data[:n])
		data = data[n:]
	}
	return entries, nil
}

func indexPath(n int64) string {
	return strings.TrimPrefix(tlog.Tile{H: tileHeight, L: 0, N: n, W: bundleSize}.Path(), "tile/8/0/")
}

func run() error {
	prefix := flag.String("url", "", "the log's tile prefix, e.g. http://127.0.0.1:8000/api/v1/ledger/tlog")
	key := flag.String("key", "", "the log's verifier key (a signed-note vkey)")
	token := flag.String("token", os.Getenv("TRIAGE_TOKEN"), "a Bearer token, when the API needs one")
	oldFile := flag.String("old", "", "a file holding an older signed checkpoint to prove consistency with")
	proofs := flag.Int("proofs", 5, "how many records to prove included")
	flag.Parse()
	if *prefix == "" || *key == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(*key)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	srv := &server{
		prefix: strings.TrimRight(*prefix, "/"),
		token:  *token,
		client: &http.Client{Timeout: 30 * time.Second},
		tiles:  map[tlog.Tile][]byte{},
	}

	msg, kind, err := srv.get("checkpoint")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(kind, "text/plain") {
		return fmt.Errorf("checkpoint: Content-Type %q, not text/plain", kind)
	}
	cp, err := openCheckpoint(msg, verifier)
	if err != nil {
		return err
	}
	if cp.origin != verifier.Name() {
		return fmt.Errorf("checkpoint: origin %q is not the key's name %q", cp.origin, verifier.Name())
	}
	fmt.Printf("checkpoint: origin %s, size %d, signed by %s\n", cp.origin, cp.size, verifier.Name())
	if cp.size == 0 {
		return errors.New("checkpoint: an empty log: nothing to check")
	}

	tree := tlog.Tree{N: cp.size, Hash: cp.root}
	hashes := tlog.TileHashReader(tree, srv)
	th, err := tlog.TreeHash(cp.size, hashes)
	if err != nil {
		return fmt.Errorf("tree hash from the tiles: %v", err)
	}
	if th != cp.root {
		return fmt.Errorf("tree hash from the tiles %v is not the checkpoint's root %v", th, cp.root)
	}
	fmt.Printf("tree hash: the tiles give the checkpoint's root %v\n", th)

	records := make([]tlog.Hash, 0, cp.size)
	bundles := 0
	for start := int64(0); start < cp.size; start += bundleSize {
		n := start / bundleSize
		width := cp.size - start
		path := "tile/entries/" + indexPath(n)
		if width >= bundleSize {
			width = bundleSize
		} else {
			path += fmt.Sprintf(".p/%d", width)
		}
		body, _, err := srv.get(path)
		if err != nil {
			return err
		}
		entries, err := parseBundle(body)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if int64(len(entries)) != width {
			return fmt.Errorf("%s: %d entries, not %d", path, len(entries), width)
		}
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		stored, err := hashes.ReadHashes(indexes)
		if err != nil {
			return fmt.Errorf("%s: level-0 hashes: %v", path, err)
		}
		for i, entry := range entries {
			h := tlog.RecordHash(entry)
			if h != stored[i] {
				return fmt.Errorf("entry %d (%s): its record hash is not the tile's hash", start+int64(i), path)
			}
			records = append(records, h)
		}
		bundles++
	}
	fmt.Printf("entries: %d in %d bundles, each hashing to its level-0 tile hash\n", len(records), bundles)

	// The whole tree again from the entries alone, as Go's checksum database builds its own:
	// TileHashReader authenticates a full tile against its parent only in some tree shapes (in
	// x/mod 0.7.0 a changed full level-0 tile passes when the tree-hash tiles are fewer than
	// the tree hash's subtrees), so the root is not taken from the tiles' word for it.
	var stored []tlog.Hash
	memory := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d is not computed yet", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, h := range records {
		more, err := tlog.StoredHashesForRecordHash(int64(i), h, memory)
		if err != nil {
			return fmt.Errorf("tree from the entries: record %d: %v", i, err)
		}
		stored = append(stored, more...)
	}
	rebuilt, err := tlog.TreeHash(cp.size, memory)
	if err != nil {
		return fmt.Errorf("tree from the entries: %v", err)
	}
	if rebuilt != cp.root {
		return fmt.Errorf("the entries give the root %v, not the checkpoint's %v", rebuilt, cp.root)
	}
	fmt.Printf("entries: the tree built from them has the checkpoint's root\n")

	chosen := map[int64]bool{0: true, cp.size - 1: true, cp.size / 2: true}
	for k := int64(1); int64(len(chosen)) < int64(*proofs) && int64(len(chosen)) < cp.size; k++ {
		chosen[(k*7919)%cp.size] = true
	}
	for i := range chosen {
		p, err := tlog.ProveRecord(cp.size, i, hashes)
		if err != nil {
			return fmt.Errorf("record %d: proof: %v", i, err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, i, records[i]); err != nil {
			return fmt.Errorf("record %d: %v", i, err)
		}
	}
	fmt.Printf("record proofs: %d records proved included\n", len(chosen))

	if *oldFile != "" {
		text, err := os.ReadFile(*oldFile)
		if err != nil {
			return err
		}
		old, err := openCheckpoint(text, verifier)
		if err != nil {
			return fmt.Errorf("older %v", err)
		}
		if old.origin != cp.origin {
			return fmt.Errorf("older checkpoint: origin %q, not %q", old.origin, cp.origin)
		}
		if old.size > cp.size {
			return fmt.Errorf("older checkpoint: size %d is larger than the served %d: a rollback", old.size, cp.size)
		}
		p, err := tlog.ProveTree(cp.size, old.size, hashes)
		if err != nil {
			return fmt.Errorf("consistency proof from size %d: %v", old.size, err)
		}
		if err := tlog.CheckTree(p, cp.size, cp.root, old.size, old.root); err != nil {
			return fmt.Errorf("consistency from size %d to %d: %v", old.size, cp.size, err)
		}
		fmt.Printf("consistency: size %d is a prefix of size %d\n", old.size, cp.size)
	}
	fmt.Printf("ok: %d requests\n", srv.fetched)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
}

// The compiler checks that the server is a tile reader Go's tlog package accepts.
var _ tlog.TileReader = (*server)(nil)
