package config

import (
	"cmp"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkKeys walks the document beside the type it decodes into: a key no field takes, or a
// value its field cannot take, is an *Error naming the key's path and line.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &Error{Key: orTop(path), Line: n.Line, Reason: "want keys under it, got " + describe(n)}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(path, k.Value)
			f, ok := fieldFor(t, k.Value)
			if !ok {
				return &Error{Key: key, Line: k.Line, Reason: "unknown key"}
			}
			if err := checkKeys(v, f.Type, key); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			if err := checkKeys(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Decode(reflect.New(t).Interface()) != nil {
		return &Error{Key: orTop(path), Line: n.Line, Reason: want(n, t)}
	}
	return nil
}

// fieldFor is t's field whose YAML key is name: every field of Config's types is exported
// and tagged with its key alone.
func fieldFor(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("yaml") == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string { return cmp.Or(path, "(top level)") }

// describe names what a node holds, for an error.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	v := n.Value
	if len(v) > 100 {
		v = strings.ToValidUTF8(v[:100], "") + "..."
	}
	return strconv.Quote(v)
}

// want says what n, which does not decode into t, should have been.
func want(n *yaml.Node, t reflect.Type) string {
	got := describe(n)
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "not a duration like 30s or 12h: " + got
	case n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode:
		if t.Kind() == reflect.Slice {
			return "want a list of values, got " + got
		}
		return "want a single value, got " + got
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "not a number: " + got
	case t.Kind() == reflect.Bool:
		return "not true or false: " + got
	case t.Kind() == reflect.Slice:
		return "want a list, got " + got
	}
	return "cannot be read as " + t.String() + ": " + got
}

// LineOf is the line of key (a path like delivery.workers) in the YAML of data, 0 when it
// is not there; for errors found after parsing, in the values as a whole.
func LineOf(data []byte, key string) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	n := doc.Content[0]
	line := 0
	for part := range strings.SplitSeq(key, ".") {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return line
}
