package resources

import (
	"strconv"
)

// The JSON of resources is on every hot path of the kernel (each task's
// description crosses the wire several times), and encoding/json's
// reflection costs ~15 µs for a two-entry list. These fast paths handle the
// common shape — unreserved scalar, ranges and set resources with plain
// ASCII strings — without reflection. Anything else (reservations, disk,
// escapes, unusual keys, invalid values) falls back to the general code,
// which also writes every error message; FuzzFastJSON checks that both paths
// agree.

// appendResourcesFast appends the JSON array of normalised rs; ok is false
// when some resource needs the general encoder.
func appendResourcesFast(b []byte, rs Resources) ([]byte, bool) {
	b = append(b, '[')
	for i := range rs {
		r := &rs[i]
		if len(r.Reservations) > 0 || !diskEmpty(r.Disk) || !plainJSONString(r.Name) {
			return nil, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":"`...)
		b = append(b, r.Name...)
		switch r.Type {
		case Scalar:
			b = append(b, `","type":"SCALAR","scalar":{"value":`...)
			b = r.Scalar.appendText(b)
			b = append(b, "}}"...)
		case Ranges:
			b = append(b, `","type":"RANGES","ranges":{"range":[`...)
			for j, rg := range r.Ranges {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"begin":`...)
				b = strconv.AppendUint(b, rg.Begin, 10)
				b = append(b, `,"end":`...)
				b = strconv.AppendUint(b, rg.End, 10)
				b = append(b, '}')
			}
			b = append(b, "]}}"...)
		case Set:
			b = append(b, `","type":"SET","set":{"item":[`...)
			for j, it := range r.Set {
				if !plainJSONString(it) {
					return nil, false
				}
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '"')
				b = append(b, it...)
				b = append(b, '"')
			}
			b = append(b, "]}}"...)
		default:
			return nil, false
		}
	}
	return append(b, ']'), true
}

// plainJSONString: printable ASCII that encoding/json writes unescaped.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// fastDecodeResources parses the common shape of a resources array; ok is
// false when the input is anything else (the general decoder then decides).
func fastDecodeResources(data []byte) (Resources, bool) {
	p := fastParser{b: data}
	p.ws()
	if !p.eat('[') {
		return nil, false
	}
	out := make(Resources, 0, 4)
	p.ws()
	if p.eat(']') {
		return p.finish(out)
	}
	for {
		r, ok := p.resource()
		if !ok {
			return nil, false
		}
		out = append(out, r)
		p.ws()
		if p.eat(']') {
			return p.finish(out)
		}
		if !p.eat(',') {
			return nil, false
		}
	}
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) finish(out Resources) (Resources, bool) {
	p.ws()
	if p.i != len(p.b) {
		return nil, false
	}
	if i, _ := typeConflict(out); i >= 0 {
		return nil, false
	}
	return normalize(out), true
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or non-ASCII bytes.
func (p *fastParser) str() (string, bool) {
	p.ws()
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return "", false
		}
		p.i++
	}
	return "", false
}

// num reads a JSON number's text (strict JSON grammar).
func (p *fastParser) num() (string, bool) {
	p.ws()
	start := p.i
	p.eat('-')
	switch {
	case p.eat('0'):
	case p.i < len(p.b) && '1' <= p.b[p.i] && p.b[p.i] <= '9':
		p.digits()
	default:
		return "", false
	}
	if p.eat('.') && !p.digits() {
		return "", false
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if !p.eat('+') {
			p.eat('-')
		}
		if !p.digits() {
			return "", false
		}
	}
	return string(p.b[start:p.i]), true
}

func (p *fastParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && isDigit(p.b[p.i]) {
		p.i++
	}
	return p.i > start
}

// object calls field for each key of an object; keys must be distinct.
func (p *fastParser) object(field func(key string) bool) bool {
	p.ws()
	if !p.eat('{') {
		return false
	}
	p.ws()
	if p.eat('}') {
		return true
	}
	var seen [8]string
	n := 0
	for {
		k, ok := p.str()
		if !ok {
			return false
		}
		for _, s := range seen[:n] {
			if s == k {
				return false
			}
		}
		if n < len(seen) {
			seen[n] = k
			n++
		} else {
			return false
		}
		p.ws()
		if !p.eat(':') || !field(k) {
			return false
		}
		p.ws()
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// array calls elem for each element of an array.
func (p *fastParser) array(elem func() bool) bool {
	p.ws()
	if !p.eat('[') {
		return false
	}
	p.ws()
	if p.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		p.ws()
		if p.eat(']') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

func (p *fastParser) resource() (Resource, bool) {
	var r Resource
	var typ string
	var hasName, hasType, hasScalar, hasRanges, hasSet bool
	var scalarText string
	var ranges []Range
	var items []string
	ok := p.object(func(k string) bool {
		var ok bool
		switch k {
		case "name":
			r.Name, ok = p.str()
			hasName = true
		case "type":
			typ, ok = p.str()
			hasType = true
		case "scalar":
			hasScalar = true
			ok = p.object(func(k string) bool {
				if k != "value" {
					return false
				}
				var ok bool
				scalarText, ok = p.num()
				return ok
			})
		case "ranges":
			hasRanges = true
			ok = p.object(func(k string) bool {
				if k != "range" {
					return false
				}
				return p.array(func() bool {
					var rg Range
					var nb, ne bool
					ok := p.object(func(k string) bool {
						text, ok := p.num()
						if !ok {
							return false
						}
						v, err := strconv.ParseUint(text, 10, 64)
						if err != nil {
							return false
						}
						switch k {
						case "begin":
							rg.Begin, nb = v, true
						case "end":
							rg.End, ne = v, true
						default:
							return false
						}
						return true
					})
					if !ok || !nb || !ne || rg.Begin > rg.End {
						return false
					}
					ranges = append(ranges, rg)
					return true
				})
			})
		case "set":
			hasSet = true
			ok = p.object(func(k string) bool {
				if k != "item" {
					return false
				}
				return p.array(func() bool {
					s, ok := p.str()
					items = append(items, s)
					return ok
				})
			})
		}
		return ok
	})
	if !ok || !hasName || !hasType {
		return r, false
	}
	switch Type(typ) {
	case Scalar:
		if !hasScalar || hasRanges || hasSet || scalarText == "" {
			return r, false
		}
		v, e := parseDecimal(scalarText, numJSON)
		if e != numOK {
			return r, false
		}
		r.Type, r.Scalar = Scalar, v
	case Ranges:
		if !hasRanges || hasScalar || hasSet {
			return r, false
		}
		r.Type, r.Ranges = Ranges, normalizeRanges(ranges)
	case Set:
		if !hasSet || hasScalar || hasRanges {
			return r, false
		}
		r.Type, r.Set = Set, normalizeSet(items)
	default:
		return r, false
	}
	if validateName(r.Name, "resource") != nil || validateResource(&r) != nil {
		return r, false
	}
	return r, true
}
