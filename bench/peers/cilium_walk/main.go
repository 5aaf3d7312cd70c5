// cilium_walk reads a whole hash map with cilium/ebpf, as a Go user would, for
// bench/peers/map_walk_peers: BatchLookup in batches of 4096, or Iterate(). The walk into a
// slice is timed (reported on stderr as "walk_seconds WALL CPU"); then every entry is written to
// stdout in binary (12-byte key, 24-byte value, little endian) for the driver to verify.
//
// usage: cilium_walk {batch|iterate} MAP_ID
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
)

type peerKey struct {
	ID, Hash, Inverse uint32
}

type peerValue struct {
	Packets, Bytes, Stamp uint64
}

type entry struct {
	k peerKey
	v peerValue
}

func batch(m *ebpf.Map) ([]entry, error) {
	const size = 4096
	var out []entry
	keys := make([]peerKey, size)
	values := make([]peerValue, size)
	var cursor peerKey
	var prev interface{} // nil: from the start
	for {
		n, err := m.BatchLookup(prev, &cursor, keys, values, nil)
		for i := 0; i < n; i++ {
			out = append(out, entry{keys[i], values[i]})
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		next := cursor
		prev = &next
	}
}

func iterate(m *ebpf.Map) ([]entry, error) {
	var out []entry
	var k peerKey
	var v peerValue
	it := m.Iterate()
	for it.Next(&k, &v) {
		out = append(out, entry{k, v})
	}
	return out, it.Err()
}

// CPU seconds (user + system) of the whole process, garbage collector threads included.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)/1e6
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cilium_walk {batch|iterate} MAP_ID")
		os.Exit(2)
	}
	id, err := strconv.ParseUint(os.Args[2], 10, 32)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cilium_walk: bad map id:", os.Args[2])
		os.Exit(2)
	}
	m, err := ebpf.NewMapFromID(ebpf.MapID(id))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cilium_walk:", err)
		os.Exit(1)
	}
	defer m.Close()
	start := time.Now()
	cpuStart := cpuSeconds()
	var entries []entry
	switch os.Args[1] {
	case "batch":
		entries, err = batch(m)
	case "iterate":
		entries, err = iterate(m)
	default:
		fmt.Fprintln(os.Stderr, "cilium_walk: unknown walk", os.Args[1])
		os.Exit(2)
	}
	elapsed := time.Since(start)
	cpu := cpuSeconds() - cpuStart
	if err != nil {
		fmt.Fprintln(os.Stderr, "cilium_walk:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "walk_seconds %.6f %.6f\n", elapsed.Seconds(), cpu)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var rec [36]byte
	for _, e := range entries {
		binary.LittleEndian.PutUint32(rec[0:], e.k.ID)
		binary.LittleEndian.PutUint32(rec[4:], e.k.Hash)
		binary.LittleEndian.PutUint32(rec[8:], e.k.Inverse)
		binary.LittleEndian.PutUint64(rec[12:], e.v.Packets)
		binary.LittleEndian.PutUint64(rec[20:], e.v.Bytes)
		binary.LittleEndian.PutUint64(rec[28:], e.v.Stamp)
		if _, err := w.Write(rec[:]); err != nil {
			fmt.Fprintln(os.Stderr, "cilium_walk:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "cilium_walk:", err)
		os.Exit(1)
	}
}
