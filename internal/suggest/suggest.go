// Package suggest finds the names closest to a misspelt one, for "did you mean" in the errors of every
// registry (formats, transforms, datasets) and the CLI's verbs.
package suggest

import (
	"strings"
)

// Closest returns the known names within a small edit distance of name (at most 2, and at most half the
// name's length), or that start name or start it (three letters at least), the closest ones.
func Closest(name string, known []string) []string {
	lower := strings.ToLower(name)
	best := -1
	var out []string
	limit := min(2, max(1, len([]rune(lower))/2))
	for _, k := range known {
		d := distance(lower, strings.ToLower(k))
		kl := strings.ToLower(k)
		prefix := (len(lower) >= 2 && strings.HasPrefix(kl, lower)) || (len(kl) >= 3 && strings.HasPrefix(lower, kl))
		if d > limit && !prefix {
			continue
		}
		switch {
		case best < 0 || d < best:
			best, out = d, []string{k}
		case d == best:
			out = append(out, k)
		}
	}
	return out
}

// DidYouMean returns "; did you mean X?" (or "X or Y?") for a misspelt name, or "" when nothing is close.
func DidYouMean(name string, known []string) string {
	c := Closest(name, known)
	switch len(c) {
	case 0:
		return ""
	case 1:
		return "; did you mean " + c[0] + "?"
	}
	return "; did you mean " + strings.Join(c[:len(c)-1], ", ") + " or " + c[len(c)-1] + "?"
}

// distance is the Levenshtein distance of a and b (runes), with an adjacent swap counted as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
