// Command genprofile writes a synthetic Go CPU profile (gzipped
// profile.proto) of about -mb megabytes on disk, with -funcs distinct
// functions and as many samples, each with its own call path, as fit.
// The protobuf is encoded by hand so that only the standard library is needed.
//
//	go run ./benches/evidence/genprofile -mb 20 -o /tmp/big.cpu.pb.gz
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
)

// buf is a protobuf message being encoded.
type buf []byte

func (b *buf) varint(v uint64) { *b = binary.AppendUvarint(*b, v) }

func (b *buf) key(field, wire int) { b.varint(uint64(field<<3 | wire)) }

// uint adds a varint field (left out when zero, as proto3 does).
func (b *buf) uint(field int, v uint64) {
	if v != 0 {
		b.key(field, 0)
		b.varint(v)
	}
}

func (b *buf) bytes(field int, p []byte) {
	b.key(field, 2)
	b.varint(uint64(len(p)))
	*b = append(*b, p...)
}

func (b *buf) packed(field int, vs []uint64) {
	var inner buf
	for _, v := range vs {
		inner.varint(v)
	}
	b.bytes(field, inner)
}

// counter counts the bytes that reach the file.
type counter struct {
	w *bufio.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func main() {
	mb := flag.Float64("mb", 20, "size of the gzipped file, in megabytes")
	funcs := flag.Int("funcs", 40000, "distinct functions (one location each)")
	out := flag.String("o", "big.cpu.pb.gz", "where to write")
	flag.Parse()

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	file := &counter{w: bufio.NewWriterSize(f, 1<<20)}
	gz, _ := gzip.NewWriterLevel(file, gzip.DefaultCompression)
	emit := func(field int, msg buf) {
		var b buf
		b.bytes(field, msg)
		if _, err := gz.Write(b); err != nil {
			log.Fatal(err)
		}
	}

	// The string table: "", the sample types, file names, then one name per function.
	strs := []string{"", "samples", "count", "cpu", "nanoseconds", "/usr/local/bin/service"}
	const files = 400
	fileBase := len(strs)
	for i := 0; i < files; i++ {
		strs = append(strs, fmt.Sprintf("/src/github.com/acme/service/internal/pkg%03d/file%d.go", i, i%7))
	}
	nameBase := len(strs)
	for i := 0; i < *funcs; i++ {
		strs = append(strs, fmt.Sprintf("github.com/acme/service/internal/pkg%03d.(*Type%d).Method%d", i%files, i%97, i))
	}
	for _, s := range strs {
		emit(6, buf(s))
	}

	valueType := func(typ, unit uint64) buf {
		var b buf
		b.uint(1, typ)
		b.uint(2, unit)
		return b
	}
	emit(1, valueType(1, 2)) // samples/count
	emit(1, valueType(3, 4)) // cpu/nanoseconds
	var mapping buf
	mapping.uint(1, 1)
	mapping.uint(2, 0x400000)
	mapping.uint(3, 0x400000+uint64(*funcs)*0x100+0x1000)
	mapping.uint(5, 5)
	mapping.uint(7, 1) // has_functions
	mapping.uint(8, 1) // has_filenames
	mapping.uint(9, 1) // has_line_numbers
	emit(3, mapping)
	for i := 0; i < *funcs; i++ {
		id := uint64(i + 1)
		var fn buf
		fn.uint(1, id)
		fn.uint(2, uint64(nameBase+i))
		fn.uint(3, uint64(nameBase+i))
		fn.uint(4, uint64(fileBase+i%files))
		fn.uint(5, uint64(10+i%500))
		emit(5, fn)
		var line buf
		line.uint(1, id)
		line.uint(2, uint64(12+i%500))
		var loc buf
		loc.uint(1, id)
		loc.uint(2, 1)
		loc.uint(3, 0x400000+uint64(i)*0x100+0x10)
		loc.bytes(4, line)
		emit(4, loc)
	}
	var period buf
	period.bytes(11, valueType(3, 4))
	period.uint(12, 10_000_000)
	period.uint(9, 1_764_000_000_000_000_000)
	period.uint(10, 30_000_000_000)
	if _, err := gz.Write(period); err != nil {
		log.Fatal(err)
	}

	// Samples: call paths that share a few roots and hot frames, as real
	// ones do, then go their own way; leaf first, as pprof stores them.
	rng := rand.New(rand.NewSource(1))
	target := int64(*mb * 1e6)
	stack := make([]uint64, 0, 64)
	samples := 0
	for file.n < target {
		for batch := 0; batch < 1000; batch++ {
			depth := 8 + rng.Intn(40)
			stack = stack[:0]
			for d := 0; d < depth; d++ {
				var id int
				switch {
				case d < 3: // the roots: a handful of entry points
					id = d*10 + rng.Intn(10)
				case rng.Intn(4) == 0: // hot frames shared by many paths
					id = 30 + rng.Intn(200)
				default:
					id = rng.Intn(*funcs)
				}
				stack = append(stack, uint64(id+1))
			}
			for i, j := 0, len(stack)-1; i < j; i, j = i+1, j-1 {
				stack[i], stack[j] = stack[j], stack[i]
			}
			n := uint64(1 + rng.Intn(5))
			var s buf
			s.packed(1, stack)
			s.packed(2, []uint64{n, n * 10_000_000})
			emit(2, s)
			samples++
		}
	}
	if err := gz.Close(); err != nil {
		log.Fatal(err)
	}
	if err := file.w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes, %d functions, %d samples\n", *out, file.n, *funcs, samples)
}
