package config

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// leaf is a value of the file that decodes into one field: where it is and what it must be.
type leaf struct {
	key  string // its path, like delivery.workers or editorial.editors[0].name
	node *yaml.Node
	typ  reflect.Type
}

// checkKeys walks the document beside the type it decodes into: a key no field takes is an
// *Error naming its path and line. It returns the leaves, for explaining decoding errors.
func checkKeys(n *yaml.Node, t reflect.Type, path string, leaves *[]leaf) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Tag == "!!null" {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]():
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
			if err := checkKeys(v, f.Type, key, leaves); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			if err := checkKeys(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", leaves); err != nil {
				return err
			}
		}
		return nil
	}
	*leaves = append(*leaves, leaf{key: orTop(path), node: n, typ: t})
	return nil
}

// fieldFor is t's field whose YAML key is name.
func fieldFor(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if tag == name {
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

// typeErrorRE reads one of yaml's type errors: "line 3: cannot unmarshal !!str `many` into
// int", the value cut to its first 7 bytes and "..." when longer than 10.
var typeErrorRE = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into ")

// typeError is one of yaml's type errors, read.
type typeError struct {
	line       int
	tag, value string
}

// matches reports whether l is the value e is about.
func (e typeError) matches(l leaf) bool {
	if l.node.Line != e.line || l.node.ShortTag() != e.tag {
		return false
	}
	prefix, cut := strings.CutSuffix(e.value, "...")
	return l.node.Value == e.value || (cut && strings.HasPrefix(l.node.Value, prefix)) || e.value == ""
}

// explain turns yaml's decoding error into an *Error naming the key, its line and what
// was wanted, for the first value that did not decode; other errors pass through.
func explain(err error, leaves []leaf) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return fmt.Errorf("config: %w", err)
	}
	var errs []typeError
	for _, msg := range te.Errors {
		if m := typeErrorRE.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			errs = append(errs, typeError{line: n, tag: m[2], value: m[3]})
		}
	}
	slices.SortStableFunc(errs, func(a, b typeError) int { return a.line - b.line })
	for _, e := range errs {
		for _, l := range leaves {
			if e.matches(l) {
				return &Error{Key: l.key, Line: e.line, Reason: want(l)}
			}
		}
	}
	return fmt.Errorf("config: %w", err)
}

// want says what a leaf's value should have been.
func want(l leaf) string {
	got := describe(l.node)
	switch t := l.typ; {
	case t == reflect.TypeFor[time.Duration]():
		return "not a duration like 30s or 12h: " + got
	case l.node.Kind == yaml.SequenceNode || l.node.Kind == yaml.MappingNode:
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
	return "cannot be read as " + l.typ.String() + ": " + got
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
