package ui

// Selection is a list's selected row, kept by the row's key so that rows
// moving or changing under live updates keep the same item selected.
type Selection struct {
	key   string
	index int
}

// Index is the selected row among n rows whose keys key(i) gives: the
// row with the selected key, else the nearest to where it was, else -1
// when there are no rows.
func (s *Selection) Index(n int, key func(int) string) int {
	if n == 0 {
		return -1
	}
	if s.key != "" {
		if s.index < n && key(s.index) == s.key {
			return s.index
		}
		for i := 0; i < n; i++ {
			if key(i) == s.key {
				s.index = i
				return i
			}
		}
	}
	s.index = min(max(s.index, 0), n-1)
	s.key = key(s.index)
	return s.index
}

// Move moves the selection by delta rows (clamped), among n rows.
func (s *Selection) Move(n int, key func(int) string, delta int) {
	i := s.Index(n, key)
	if i < 0 {
		return
	}
	s.index = min(max(i+delta, 0), n-1)
	s.key = key(s.index)
}

// Key is the selected row's key ("" before any row was seen).
func (s *Selection) Key() string { return s.key }
