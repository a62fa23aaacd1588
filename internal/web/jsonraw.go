package web

import "encoding/json"

// jsonRaw is a JSON value kept raw so handlers can tell a field that is
// absent from one that is null.
type jsonRaw json.RawMessage

func (j *jsonRaw) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

func (j jsonRaw) into(v any) error { return json.Unmarshal(j, v) }
