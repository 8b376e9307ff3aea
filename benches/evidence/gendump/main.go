// Command gendump writes a goroutine dump (debug=2 text) of about -mb
// megabytes by repeating the goroutine blocks of a real one with new
// goroutine ids, the first block (the goroutine that wrote the dump) once.
//
//	go run ./benches/evidence/gendump -mb 50 -i tests/fixtures/dumps/httpleak.goroutine.debug2.txt -o /tmp/big.txt
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	mb := flag.Float64("mb", 50, "size of the dump, in megabytes")
	in := flag.String("i", "tests/fixtures/dumps/httpleak.goroutine.debug2.txt", "the dump to repeat")
	out := flag.String("o", "big.goroutine.debug2.txt", "where to write")
	flag.Parse()

	src, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	// Blocks are separated by a blank line; each starts "goroutine N [".
	var blocks [][]byte
	for _, b := range bytes.Split(bytes.TrimRight(src, "\n"), []byte("\n\n")) {
		if !bytes.HasPrefix(b, []byte("goroutine ")) {
			log.Fatalf("%s: a block does not start with \"goroutine \"", *in)
		}
		rest := b[len("goroutine "):]
		sp := bytes.IndexByte(rest, ' ')
		blocks = append(blocks, rest[sp:]) // " [state]:\n..." without the id
	}
	if len(blocks) < 2 {
		log.Fatalf("%s: fewer than two goroutines", *in)
	}

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	target := int64(*mb * 1e6)
	var written int64
	id, count := 1, 0
	put := func(block []byte) {
		n, _ := fmt.Fprintf(w, "goroutine %d", id)
		m, _ := w.Write(block)
		written += int64(n + m)
		id += 1 + id%3
		count++
	}
	put(blocks[0])
	for written < target {
		for _, b := range blocks[1:] {
			w.WriteString("\n\n")
			written += 2
			put(b)
		}
	}
	w.WriteString("\n")
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes, %d goroutines\n", *out, written+1, count)
}
