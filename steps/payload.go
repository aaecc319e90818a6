package steps

import (
	"encoding/json"
	"fmt"
)

// EncodePayload turns a handler's result into status.payload bytes: nil stays nil,
// []byte and json.RawMessage are used as they are, anything else is JSON-encoded (a string
// becomes a JSON string). The engine calls it; handlers rarely need to.
func EncodePayload(v any) ([]byte, error) {
	switch p := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return p, nil
	case json.RawMessage:
		return p, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding payload of type %T as JSON: %w", v, err)
	}
	return b, nil
}
