// Cross-check of hearsay's wire codec against the real memberlist 0.2.2 code (Debian's
// golang-github-hashicorp-memberlist-dev). run.sh copies memberlist's non-test sources next to this
// file, so it can call the package's unexported encode/decode, compressPayload, decryptPayload...
// Each fixture case (written by test/wire/crosscheck.test.ts) is decoded the way memberlist reads
// it and re-encoded with memberlist's own encoder: the bytes must come back identical.
package memberlist

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"testing"

	"github.com/hashicorp/go-msgpack/codec"
)

type hsCase struct {
	Kind   string `json:"kind"`
	Hex    string `json:"hex"`
	Input  string `json:"input"`
	Key    string `json:"key"`
	Leaves int    `json:"leaves"`
}

func TestHearsayCrosscheck(t *testing.T) {
	data, err := os.ReadFile(os.Getenv("HEARSAY_FIXTURE"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []hsCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		buf, _ := hex.DecodeString(c.Hex)
		var keys [][]byte
		if c.Key != "" {
			key, _ := hex.DecodeString(c.Key)
			keys = [][]byte{key}
		}
		var err error
		switch c.Kind {
		case "message":
			err = checkMessage(buf)
		case "lzw":
			input, _ := hex.DecodeString(c.Input)
			var out *bytes.Buffer
			if out, err = compressPayload(input); err == nil && !bytes.Equal(out.Bytes(), buf) {
				err = fmt.Errorf("compressPayload differs: go %x", out.Bytes())
			}
		case "packet":
			var leaves int
			if leaves, err = checkPacket(buf, keys); err == nil && leaves != c.Leaves {
				err = fmt.Errorf("%d messages, want %d", leaves, c.Leaves)
			}
		case "stream":
			err = checkStream(buf, keys)
		default:
			err = fmt.Errorf("unknown kind %q", c.Kind)
		}
		if err != nil {
			t.Errorf("case %d (%s %s): %v", i, c.Kind, c.Hex[:min(len(c.Hex), 80)], err)
		}
	}
	t.Logf("%d cases checked", len(cases))
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// reencode decodes one message body into memberlist's struct and encodes it again.
func reencode(buf []byte) ([]byte, error) {
	t := messageType(buf[0])
	var out interface{}
	switch t {
	case pingMsg:
		out = &ping{}
	case indirectPingMsg:
		out = &indirectPingReq{}
	case ackRespMsg:
		out = &ackResp{}
	case nackRespMsg:
		out = &nackResp{}
	case suspectMsg:
		out = &suspect{}
	case aliveMsg:
		out = &alive{}
	case deadMsg:
		out = &dead{}
	case errMsg:
		out = &errResp{}
	case userMsg:
		return buf, nil
	default:
		return nil, fmt.Errorf("unexpected type %d", t)
	}
	if err := decode(buf[1:], out); err != nil {
		return nil, err
	}
	again, err := encode(t, out)
	if err != nil {
		return nil, err
	}
	return again.Bytes(), nil
}

func checkMessage(buf []byte) error {
	again, err := reencode(buf)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, buf) {
		return fmt.Errorf("re-encoded differs: go %x", again)
	}
	return nil
}

// checkPacket follows ingestPacket and handleCommand; returns how many leaf messages it saw.
func checkPacket(buf []byte, keys [][]byte) (int, error) {
	if len(keys) > 0 {
		plain, err := decryptPayload(keys, buf, nil)
		if err != nil {
			return 0, err
		}
		buf = plain
	}
	if len(buf) >= 5 && messageType(buf[0]) == hasCrcMsg {
		if crc32.ChecksumIEEE(buf[5:]) != binary.BigEndian.Uint32(buf[1:5]) {
			return 0, fmt.Errorf("crc mismatch")
		}
		buf = buf[5:]
	}
	return walk(buf)
}

func walk(buf []byte) (int, error) {
	switch messageType(buf[0]) {
	case compoundMsg:
		trunc, parts, err := decodeCompoundMessage(buf[1:])
		if err != nil || trunc > 0 {
			return 0, fmt.Errorf("compound: %v, %d truncated", err, trunc)
		}
		total := 0
		for _, part := range parts {
			n, err := walk(part)
			if err != nil {
				return 0, err
			}
			total += n
		}
		return total, nil
	case compressMsg:
		payload, err := decompressPayload(buf[1:])
		if err != nil {
			return 0, err
		}
		return walk(payload)
	default:
		return 1, checkMessage(buf)
	}
}

// checkStream follows readStream, readRemoteState and readUserMsg, and re-encodes like
// sendLocalState, sendUserMsg and the error/ping/ack replies.
func checkStream(buf []byte, keys [][]byte) error {
	if messageType(buf[0]) == encryptMsg {
		if len(keys) == 0 {
			return fmt.Errorf("encrypted but no key")
		}
		size := binary.BigEndian.Uint32(buf[1:5])
		if int(size) != len(buf)-5 {
			return fmt.Errorf("length %d, blob %d", size, len(buf)-5)
		}
		plain, err := decryptPayload(keys, buf[5:], buf[:5])
		if err != nil {
			return err
		}
		buf = plain
	}
	hd := codec.MsgpackHandle{}
	if messageType(buf[0]) == compressMsg {
		var c compress
		if err := codec.NewDecoder(bytes.NewReader(buf[1:]), &hd).Decode(&c); err != nil {
			return err
		}
		plain, err := decompressBuffer(&c)
		if err != nil {
			return err
		}
		buf = plain
	}
	r := bytes.NewReader(buf[1:])
	dec := codec.NewDecoder(r, &hd)
	out := bytes.NewBuffer([]byte{buf[0]})
	enc := codec.NewEncoder(out, &hd)
	switch messageType(buf[0]) {
	case pushPullMsg:
		var header pushPullHeader
		if err := dec.Decode(&header); err != nil {
			return err
		}
		enc.Encode(&header)
		for i := 0; i < header.Nodes; i++ {
			var state pushNodeState
			if err := dec.Decode(&state); err != nil {
				return err
			}
			enc.Encode(&state)
		}
		user := make([]byte, header.UserStateLen)
		if _, err := io.ReadFull(r, user); err != nil {
			return err
		}
		out.Write(user)
	case userMsg:
		var header userMsgHeader
		if err := dec.Decode(&header); err != nil {
			return err
		}
		enc.Encode(&header)
		user := make([]byte, header.UserMsgLen)
		if _, err := io.ReadFull(r, user); err != nil {
			return err
		}
		out.Write(user)
	default:
		again, err := reencode(buf)
		if err != nil {
			return err
		}
		out = bytes.NewBuffer(again)
	}
	if r.Len() != 0 && messageType(buf[0]) != pingMsg && messageType(buf[0]) != ackRespMsg && messageType(buf[0]) != errMsg {
		return fmt.Errorf("%d bytes left over", r.Len())
	}
	if !bytes.Equal(out.Bytes(), buf) {
		return fmt.Errorf("re-encoded differs: go %x", out.Bytes())
	}
	return nil
}
