package sfemu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseRecordsFlag parses the emulate command's --records value, a comma
// separated list of Object=count pairs such as "Account=10000,Contact=20000",
// into Options.Records. An empty value gives an empty map. Object names are
// checked by New, not here.
func ParseRecordsFlag(v string) (map[string]int, error) {
	out := map[string]int{}
	if strings.TrimSpace(v) == "" {
		return out, nil
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, count, ok := strings.Cut(item, "=")
		name, count = strings.TrimSpace(name), strings.TrimSpace(count)
		if !ok || name == "" {
			return nil, fmt.Errorf("records %q: want Object=count", item)
		}
		n, err := strconv.Atoi(strings.ReplaceAll(count, "_", ""))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("records %q: count %q is not a whole number of zero or more", item, count)
		}
		if n > maxRecNo {
			return nil, fmt.Errorf("records %q: count %d is over the maximum %d", item, n, maxRecNo)
		}
		key := strings.ToLower(name)
		if seen[key] {
			return nil, fmt.Errorf("records: %s is given twice", name)
		}
		seen[key] = true
		out[name] = n
	}
	return out, nil
}

// schemaFile is the layout of a schema file: a list of object definitions
// under "objects".
type schemaFile struct {
	Objects []ObjectDef `yaml:"objects"`
}

// LoadSchemaFile reads custom objects and fields from a YAML (or JSON)
// file:
//
//	objects:
//	  - name: Invoice__c
//	    label: Invoice
//	    fields:
//	      - {name: Amount__c, type: currency, precision: 16, scale: 2, nillable: true}
//	      - {name: Account__c, type: reference, referenceTo: [Account], nillable: true}
//	  - name: Account
//	    extends: true
//	    fields:
//	      - {name: Tier__c, type: picklist, picklistValues: [Gold, Silver], nillable: true}
//
// Definitions are checked fully by New; unknown keys are errors here.
func LoadSchemaFile(path string) ([]ObjectDef, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schema file: %w", err)
	}
	var f schemaFile
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("schema file %s: %w", path, err)
	}
	for i, o := range f.Objects {
		if strings.TrimSpace(o.Name) == "" {
			return nil, fmt.Errorf("schema file %s: object %d has no name", path, i+1)
		}
		for j, fd := range o.Fields {
			if strings.TrimSpace(fd.Name) == "" {
				return nil, fmt.Errorf("schema file %s: object %s: field %d has no name", path, o.Name, j+1)
			}
		}
	}
	return f.Objects, nil
}
