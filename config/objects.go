package config

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/sfsync/sfsync"
	"gopkg.in/yaml.v3"
)

// ObjectConfig is one objects entry. In the file it is either a bare name
// ("Account") or a mapping with options.
type ObjectConfig struct {
	// Name is an object API name, or a glob ("*__c") over the org's
	// queryable objects; see IsGlob. Matching is case-insensitive.
	Name string `yaml:"name" json:"name"`
	// Fields narrows the replicated fields.
	Fields FieldSelection `yaml:"fields,omitempty" json:"fields,omitzero"`
	// Filter is an extra SOQL condition ANDed into every query.
	Filter string `yaml:"filter,omitempty" json:"filter,omitempty"`
	// DeleteMode overrides sync.delete_mode; "" inherits it.
	DeleteMode sfsync.DeleteMode `yaml:"delete_mode,omitempty" json:"delete_mode,omitempty"`
	// FullRefreshOnly: always extract every record, never incrementally.
	FullRefreshOnly bool `yaml:"full_refresh_only,omitempty" json:"full_refresh_only,omitempty"`
}

// FieldSelection lists fields to keep or drop, by case-insensitive API
// name. An empty Include keeps every field. Id, IsDeleted and the cursor
// field are kept whatever Exclude says.
type FieldSelection struct {
	Include []string `yaml:"include,omitempty" json:"include,omitempty"`
	Exclude []string `yaml:"exclude,omitempty" json:"exclude,omitempty"`
}

// IsZero reports whether the selection keeps every field.
func (f FieldSelection) IsZero() bool { return len(f.Include) == 0 && len(f.Exclude) == 0 }

// IsGlob reports whether Name is a pattern (it holds *, ? or [) rather than
// an exact name.
func (o ObjectConfig) IsGlob() bool { return strings.ContainsAny(o.Name, globMeta) }

// UnmarshalYAML decodes an entry written as a bare name or as a mapping,
// rejecting unknown keys. Values are taken literally: ${ENV} references
// are expanded only by Load and Parse.
func (o *ObjectConfig) UnmarshalYAML(n *yaml.Node) error {
	d := &decoder{lines: map[string]int{}}
	var dec ObjectConfig
	d.object(n, "object", &dec)
	if len(d.problems) > 0 {
		return &ValidationError{Problems: d.problems}
	}
	*o = dec
	return nil
}

// MarshalYAML writes an entry with no options as a bare name.
func (o ObjectConfig) MarshalYAML() (any, error) {
	if o.Fields.IsZero() && o.Filter == "" && o.DeleteMode == "" && !o.FullRefreshOnly {
		return o.Name, nil
	}
	type plain ObjectConfig // without methods, so encoding does not recurse
	return plain(o), nil
}

// changeEventSuffix marks Change Data Capture event objects, which hold
// events, not records, and are never matched by a glob.
const changeEventSuffix = "changeevent"

// ResolveObjects matches the objects entries against the org's objects (as
// describe global lists them) and returns what to replicate:
//
//   - an exact name matches case-insensitively and comes back with the org's
//     spelling; a name the org does not have, or has but cannot query, is a
//     problem naming the entry;
//   - a glob expands to every queryable object it matches, except those
//     matching an Exclude glob, *ChangeEvent objects and objects named
//     exactly by another entry (whose options win); a glob matching nothing
//     is not a problem;
//   - DeleteMode is filled from sync.delete_mode where the entry leaves it.
//
// The result lists the exact names in configuration order, then the glob
// matches alphabetically, each once; an object several globs match takes
// the options of the first. Problems come back together as a
// *ValidationError.
func (c *Config) ResolveObjects(available []sfsync.ObjectInfo) ([]ObjectConfig, error) {
	byName := make(map[string]sfsync.ObjectInfo, len(available))
	names := make([]string, 0, len(available))
	for _, info := range available {
		key := strings.ToLower(info.Name)
		if _, dup := byName[key]; !dup {
			byName[key] = info
			names = append(names, info.Name)
		}
	}
	slices.SortFunc(names, compareNames)

	v := &checker{}
	taken := map[string]bool{}
	var exact []ObjectConfig
	for i, o := range c.Objects {
		if o.IsGlob() {
			continue
		}
		p := fmt.Sprintf("objects[%d].name", i)
		info, ok := byName[strings.ToLower(o.Name)]
		switch {
		case !ok:
			hint := ""
			if best, found := closest(o.Name, names); found {
				hint = fmt.Sprintf(" (did you mean %s?)", best)
			}
			v.add(p, "the org has no object %q%s", o.Name, hint)
			continue
		case !info.Queryable:
			v.add(p, "%s cannot be queried", info.Name)
			continue
		case taken[strings.ToLower(info.Name)]:
			continue // a duplicate entry; Validate reports it
		}
		taken[strings.ToLower(info.Name)] = true
		exact = append(exact, c.fill(o, info.Name))
	}

	var globbed []ObjectConfig
	for i, o := range c.Objects {
		if !o.IsGlob() {
			continue
		}
		pattern := strings.ToLower(o.Name)
		if _, err := path.Match(pattern, ""); err != nil {
			v.add(fmt.Sprintf("objects[%d].name", i), "%q is not a valid glob", o.Name)
			continue
		}
		for _, name := range names {
			key := strings.ToLower(name)
			if taken[key] || !byName[key].Queryable || strings.HasSuffix(key, changeEventSuffix) {
				continue
			}
			if ok, _ := path.Match(pattern, key); !ok || c.excluded(key) {
				continue
			}
			taken[key] = true
			globbed = append(globbed, c.fill(o, name))
		}
	}
	if len(v.problems) > 0 {
		return nil, &ValidationError{Problems: v.problems}
	}
	slices.SortStableFunc(globbed, func(a, b ObjectConfig) int { return compareNames(a.Name, b.Name) })
	return append(exact, globbed...), nil
}

// compareNames orders names alphabetically, ignoring case.
func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// excluded reports whether the lower-cased name matches an Exclude glob.
func (c *Config) excluded(name string) bool {
	for _, g := range c.Exclude {
		if ok, _ := path.Match(strings.ToLower(g), name); ok {
			return true
		}
	}
	return false
}

// fill returns o for the object name, with defaults from sync and slices
// of its own.
func (c *Config) fill(o ObjectConfig, name string) ObjectConfig {
	o.Name = name
	if o.DeleteMode == "" {
		o.DeleteMode = c.Sync.DeleteMode
	}
	o.Fields.Include = slices.Clone(o.Fields.Include)
	o.Fields.Exclude = slices.Clone(o.Fields.Exclude)
	return o
}

// closest returns the candidate nearest to s (case-insensitive edit
// distance), if it is near enough to be a likely typo.
func closest(s string, candidates []string) (string, bool) {
	best, bestDist := "", len(s)/3+1
	ls := strings.ToLower(s)
	for _, cand := range candidates {
		if d := editDistance(ls, strings.ToLower(cand)); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best, best != ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
