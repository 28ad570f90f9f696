package resources

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is a fixed-point scalar with three decimals: Value(1500) is 1.5.
//
// Arithmetic on Values is exact. Sums inside [Resources] saturate at
// [MaxValue] instead of wrapping around.
type Value int64

// Scale is how many Value units make 1.0.
const Scale = 1000

// MaxValue is the largest Value: 9223372036854775.807.
const MaxValue Value = math.MaxInt64

// FromFloat converts to fixed point, rounding to the nearest thousandth (halves
// away from zero, like Mesos' llround(f*1000)). NaN becomes 0; values beyond
// the range of Value, including ±Inf, saturate at [MaxValue] or -MaxValue.
func FromFloat(f float64) Value {
	if math.IsNaN(f) {
		return 0
	}
	r := math.Round(f * Scale)
	if r >= math.MaxInt64 { // float64(MaxInt64) rounds up to 2^63
		return MaxValue
	}
	if r <= -math.MaxInt64 {
		return -MaxValue
	}
	return Value(r)
}

// ParseValue parses a decimal like "4", "0.5", "1.234" exactly (more than three
// decimals is an error, as are NaN, Inf and negative numbers). Surrounding
// whitespace is ignored; trailing zeros past the third decimal ("0.5000") are
// accepted since they lose nothing.
func ParseValue(s string) (Value, error) {
	t := strings.TrimSpace(s)
	v, e := parseDecimal(t, 0)
	if e != numOK {
		return 0, errors.New(e.describe(t, "values"))
	}
	return v, nil
}

// MustParseValue is ParseValue for tests and constants; it panics on error.
func MustParseValue(s string) Value {
	v, err := ParseValue(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Float is the value as a float64 (for display; JSON uses the exact decimal).
func (v Value) Float() float64 { return float64(v) / Scale }

// String formats without trailing zeros: "4", "0.5", "1.234".
func (v Value) String() string {
	var buf [24]byte
	return string(v.appendText(buf[:0]))
}

// appendText appends the String form of v to b.
func (v Value) appendText(b []byte) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = -u // two's complement magnitude; correct for MinInt64 too
	}
	b = strconv.AppendUint(b, u/Scale, 10)
	if f := u % Scale; f != 0 {
		d := [3]byte{byte('0' + f/100), byte('0' + f/10%10), byte('0' + f%10)}
		n := 3
		for d[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, d[:n]...)
	}
	return b
}

// MarshalJSON writes the value as an exact JSON number, e.g. 0.1.
func (v Value) MarshalJSON() ([]byte, error) { return v.appendText(nil), nil }

// UnmarshalJSON reads a JSON number (or a string holding one) exactly from its
// decimal text; more than three decimals are rounded to the nearest thousandth
// (halves away from zero), as Mesos does. Negative values are rejected.
func (v *Value) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	x, e := parseDecimal(s, numJSON)
	if e != numOK {
		return errors.New(e.describe(s, "values"))
	}
	*v = x
	return nil
}

// numMode selects the accepted syntax of parseDecimal.
type numMode uint8

const (
	// numJSON accepts JSON number syntax with an exponent and rounds digits past
	// the third decimal instead of rejecting them.
	numJSON numMode = 1 << iota
	// numSigned accepts negative numbers (attributes).
	numSigned
)

// numErr is why parseDecimal failed.
type numErr uint8

const (
	numOK numErr = iota
	numSyntax
	numNotFinite
	numNegative
	numTooPrecise
	numTooLarge
)

// describe words a parse failure of text s; what names the kind of thing
// parsed, for the negative case ("resources must be >= 0").
func (e numErr) describe(s, what string) string {
	switch e {
	case numNotFinite:
		return fmt.Sprintf("value %q is not a finite number", s)
	case numNegative:
		return fmt.Sprintf("value %q is negative; %s must be >= 0", s, what)
	case numTooPrecise:
		return fmt.Sprintf("value %q has more than 3 decimals; scalars are precise to 0.001", s)
	case numTooLarge:
		return fmt.Sprintf("value %q is too large; the maximum is %s", s, MaxValue)
	default:
		return fmt.Sprintf("value %q is not a number", s)
	}
}

// parseDecimal converts decimal text to fixed point without any float step.
// Text syntax is [+-]digits[.digits] (".5" and "5." are accepted); with
// numJSON an exponent is allowed too and extra decimals round half away from
// zero.
func parseDecimal(s string, mode numMode) (Value, numErr) {
	neg := false
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	// Integer and fraction digits.
	ipStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	ip := s[ipStart:i]
	fp := ""
	if i < len(s) && s[i] == '.' {
		i++
		fpStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fp = s[fpStart:i]
	}
	if ip == "" && fp == "" {
		return 0, syntaxOrNotFinite(s[ipStart:])
	}
	exp := 0
	if mode&numJSON != 0 && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return 0, numSyntax
		}
		for i < len(s) && isDigit(s[i]) {
			if exp < 1_000_000 { // clamp: beyond this every non-zero value overflows or rounds to 0
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, numSyntax
	}

	// The number is D × 10^(exp-len(fp)) where D is ip+fp as digits; in Value
	// units it is D × 10^k.
	n := len(ip) + len(fp)
	digit := func(j int) byte {
		if j < len(ip) {
			return ip[j] - '0'
		}
		return fp[j-len(ip)] - '0'
	}
	z := 0 // first significant digit
	for z < n && digit(z) == 0 {
		z++
	}
	if z == n {
		return 0, numOK // zero, whatever the sign or exponent
	}
	if neg && mode&numSigned == 0 {
		return 0, numNegative
	}
	k := exp - len(fp) + 3
	keep := n - z + k // digits of D forming the integer part of the Value
	if keep > 19 {
		return 0, numTooLarge
	}
	var u uint64
	end := z + keep // index past the last kept digit
	if end > n {
		end = n
	}
	for j := z; j < end; j++ {
		u = u*10 + uint64(digit(j)) // at most 19 digits: fits in uint64
	}
	for j := n; j < z+keep; j++ { // k > 0: scale up
		if u > math.MaxUint64/10 {
			return 0, numTooLarge
		}
		u *= 10
	}
	if keep < n-z { // digits dropped past the thousandths
		dropped := false
		for j := max(z+keep, z); j < n; j++ {
			if digit(j) != 0 {
				dropped = true
				break
			}
		}
		if dropped {
			if mode&numJSON == 0 {
				return 0, numTooPrecise
			}
			if keep >= 0 && digit(z+keep) >= 5 { // the first dropped digit
				u++
			}
		}
	}
	if u > math.MaxInt64 {
		return 0, numTooLarge
	}
	if neg {
		return -Value(u), numOK
	}
	return Value(u), numOK
}

func syntaxOrNotFinite(s string) numErr {
	switch strings.ToLower(s) {
	case "nan", "inf", "infinity":
		return numNotFinite
	}
	return numSyntax
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// looksNumeric reports whether s has the text syntax of a (signed) decimal,
// whatever its precision or size: such attribute values are SCALARs.
func looksNumeric(s string) bool {
	_, e := parseDecimal(s, numSigned)
	return e != numSyntax && e != numNotFinite
}

// addSat adds two non-negative values, saturating at MaxValue.
func addSat(a, b Value) Value {
	s := a + b
	if s < a || s < b {
		return MaxValue
	}
	return s
}
