package main

// FerretDB 1.24 runs an update, findAndModify or delete as "query, change the documents in Go, write
// them back by _id", with nothing holding the documents in between. Two concurrent updates of one
// document therefore both read the old version and the second write-back loses the first one's
// change: four threads doing 300 `$inc`s each on one document ended at 336, not 1200. MongoDB makes
// every single-document write atomic, and the platform relies on that (version-checked saves, the
// outbox relay's `$pullAll`, `$addToSet` on match keys).
//
// So clients do not talk to FerretDB directly. This proxy owns the public TCP port, forwards every
// message unchanged to FerretDB on a private Unix socket, and lets only one read-modify-write command
// per collection be in flight at a time: it takes the collection's lock when such a command goes in
// and releases it when FerretDB's reply comes out. Reads and inserts (atomic through SQLite's unique
// _id index) are not held back. SQLite admits one writer per database anyway, so the cost is small.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
)

const (
	opMsg           = 2013
	msgHeaderLength = 16
	moreToComeFlag  = 1 << 1
	maxMessageBytes = 48 * 1000 * 1000 // MongoDB's maxMessageSizeBytes
)

// readModifyWriteCommands are the commands FerretDB 1.24 does not apply atomically.
var readModifyWriteCommands = map[string]bool{"update": true, "findandmodify": true, "delete": true}

// collectionLocks hands out one mutex per collection name.
type collectionLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (c *collectionLocks) get(collection string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks == nil {
		c.locks = map[string]*sync.Mutex{}
	}
	lock, ok := c.locks[collection]
	if !ok {
		lock = &sync.Mutex{}
		c.locks[collection] = lock
	}
	return lock
}

// serveAtomicWrites accepts clients on listener and relays each to FerretDB at upstreamSocket.
func serveAtomicWrites(ctx context.Context, listener net.Listener, upstreamSocket string, logger *slog.Logger) {
	go func() {
		<-ctx.Done()
		listener.Close()
	}()
	locks := &collectionLocks{}
	for {
		client, err := listener.Accept()
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("proxy accept failed", "error", err)
			}
			return
		}
		go relayConnection(client, upstreamSocket, locks, logger)
	}
}

// heldLocks remembers which lock each in-flight request holds, keyed by its requestID.
type heldLocks struct {
	mu      sync.Mutex
	byReqID map[int32]*sync.Mutex
}

func (h *heldLocks) put(requestID int32, lock *sync.Mutex) {
	h.mu.Lock()
	h.byReqID[requestID] = lock
	h.mu.Unlock()
}

func (h *heldLocks) release(responseTo int32) {
	h.mu.Lock()
	lock := h.byReqID[responseTo]
	delete(h.byReqID, responseTo)
	h.mu.Unlock()
	if lock != nil {
		lock.Unlock()
	}
}

func (h *heldLocks) releaseAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, lock := range h.byReqID {
		lock.Unlock()
		delete(h.byReqID, id)
	}
}

func relayConnection(client net.Conn, upstreamSocket string, locks *collectionLocks, logger *slog.Logger) {
	defer client.Close()
	server, err := net.Dial("unix", upstreamSocket)
	if err != nil {
		logger.Error("cannot reach FerretDB", "socket", upstreamSocket, "error", err)
		return
	}
	defer server.Close()

	held := &heldLocks{byReqID: map[int32]*sync.Mutex{}}
	defer held.releaseAll()

	replies := make(chan struct{})
	go func() {
		defer close(replies)
		defer client.Close() // unblocks the request loop below when FerretDB goes away
		for {
			message, err := readMessage(server)
			if err != nil {
				return
			}
			_, err = client.Write(message)
			held.release(responseTo(message))
			if err != nil {
				return
			}
		}
	}()

	for {
		message, err := readMessage(client)
		if err != nil {
			break
		}
		if collection, ok := readModifyWriteTarget(message); ok {
			lock := locks.get(collection)
			lock.Lock()
			held.put(requestID(message), lock) // before forwarding, so the reply always finds it
		}
		if _, err := server.Write(message); err != nil {
			break
		}
	}
	server.Close()
	<-replies
}

// readMessage reads one whole wire-protocol message (header included).
func readMessage(conn io.Reader) ([]byte, error) {
	header := make([]byte, msgHeaderLength)
	if _, err := io.ReadFull(conn, header); err != nil {
		return nil, err
	}
	length := int(int32(binary.LittleEndian.Uint32(header[0:4])))
	if length < msgHeaderLength || length > maxMessageBytes {
		return nil, fmt.Errorf("invalid message length %d", length)
	}
	message := make([]byte, length)
	copy(message, header)
	if _, err := io.ReadFull(conn, message[msgHeaderLength:]); err != nil {
		return nil, err
	}
	return message, nil
}

func requestID(message []byte) int32  { return int32(binary.LittleEndian.Uint32(message[4:8])) }
func responseTo(message []byte) int32 { return int32(binary.LittleEndian.Uint32(message[8:12])) }

// readModifyWriteTarget returns the collection of an acknowledged update/findAndModify/delete OP_MSG.
// Unacknowledged messages (moreToCome) get no reply to release a lock on, so they are not held.
func readModifyWriteTarget(message []byte) (string, bool) {
	if binary.LittleEndian.Uint32(message[12:16]) != opMsg || len(message) < msgHeaderLength+5 {
		return "", false
	}
	flags := binary.LittleEndian.Uint32(message[16:20])
	if flags&moreToComeFlag != 0 {
		return "", false
	}
	sections := message[20:]
	for len(sections) > 0 {
		kind := sections[0]
		sections = sections[1:]
		if len(sections) < 4 {
			return "", false
		}
		size := int(int32(binary.LittleEndian.Uint32(sections[0:4])))
		if size < 5 || size > len(sections) {
			return "", false
		}
		if kind == 0 {
			name, collection, err := firstStringElement(sections[:size])
			if err != nil || !readModifyWriteCommands[strings.ToLower(name)] {
				return "", false
			}
			return collection, true
		}
		sections = sections[size:] // kind 1: int32 size covers the identifier and the documents
	}
	return "", false
}

// firstStringElement returns the first element's key and string value of a BSON document: a command
// document starts with {<command name>: <collection>}.
func firstStringElement(document []byte) (string, string, error) {
	const bsonString = 0x02
	if len(document) < 6 || document[4] != bsonString {
		return "", "", errors.New("first element is not a string")
	}
	rest := document[5:]
	end := indexByte(rest, 0)
	if end < 0 {
		return "", "", errors.New("unterminated key")
	}
	key := string(rest[:end])
	rest = rest[end+1:]
	if len(rest) < 4 {
		return "", "", errors.New("truncated string")
	}
	size := int(int32(binary.LittleEndian.Uint32(rest[0:4])))
	if size < 1 || size+4 > len(rest) {
		return "", "", errors.New("bad string size")
	}
	return key, string(rest[4 : 4+size-1]), nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
