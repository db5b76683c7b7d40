package sfemu

import (
	"fmt"
	"strings"
	"time"
)

// ObjectDef describes a custom object, or extra custom fields of an existing
// object (Extends). It is also what Describe returns for any object.
type ObjectDef struct {
	Name    string     `yaml:"name" json:"name"`
	Label   string     `yaml:"label" json:"label"`
	Fields  []FieldDef `yaml:"fields" json:"fields"`
	Extends bool       `yaml:"extends" json:"extends"` // add fields to an existing object
}

// FieldDef describes one field. Type is a describe type ("string",
// "currency", "location", ...). Length applies to text types, Precision and
// Scale to double, currency and percent, Digits to int and long. Nillable
// false makes a field required: generated records always have a value and
// Create fills one in when it is left out. A non-empty Formula makes the
// field calculated (see the package documentation for the formula
// language). ReferenceTo names the target objects of a reference field,
// PicklistValues the values of a picklist or multipicklist.
type FieldDef struct {
	Name           string   `yaml:"name" json:"name"`
	Label          string   `yaml:"label" json:"label"`
	Type           string   `yaml:"type" json:"type"`
	Length         int      `yaml:"length" json:"length,omitempty"`
	Precision      int      `yaml:"precision" json:"precision,omitempty"`
	Scale          int      `yaml:"scale" json:"scale,omitempty"`
	Digits         int      `yaml:"digits" json:"digits,omitempty"`
	Nillable       bool     `yaml:"nillable" json:"nillable"`
	Formula        string   `yaml:"formula" json:"formula,omitempty"`
	ReferenceTo    []string `yaml:"referenceTo" json:"referenceTo,omitempty"`
	PicklistValues []string `yaml:"picklistValues" json:"picklistValues,omitempty"`
}

// valueKind is how a field's values are stored and rendered.
type valueKind uint8

const (
	vkString valueKind = iota
	vkBool
	vkInt
	vkFloat
	vkDate
	vkTime
	vkDateTime
	vkCompound
)

// role marks fields whose values the emulator maintains itself.
type role uint8

const (
	roleNone role = iota
	roleID
	roleIsDeleted
	roleMaster
	roleCreatedDate
	roleCreatedBy
	roleModDate
	roleModBy
	roleStamp
	roleFullName // FirstName + LastName, kept in step on every write
	roleIsClosed // from Opportunity.StageName
	roleIsWon
)

// field is the emulator's full view of a field: every describe property it
// reports plus where the values live.
type field struct {
	Name, Label, Type                string
	Length, Precision, Scale, Digits int
	Nillable                         bool
	Formula                          string
	ReferenceTo                      []string
	Picklist                         []string
	RelationshipName                 string
	Compound                         string // compoundFieldName
	Custom                           bool
	Createable, Updateable           bool
	Filterable, Sortable             bool
	Groupable, Aggregatable          bool
	NameField, IDLookup, Unique      bool
	DefaultedOnCreate                bool
	ExtraTypeInfo                    string

	role  role
	kind  valueKind
	col   int         // storage column; -1 for compound parents and formulas
	expr  formulaExpr // compiled Formula
	parts []part      // compound parents: components in JSON key order
	gen   generator   // produces generated values
}

// part is one component of a compound field.
type part struct {
	key   string // lower-camel JSON key ("city", "latitude")
	field int    // index of the component field in its object
}

// kindOf maps a describe type to its storage kind; ok is false for types
// the emulator does not support.
func kindOf(typ string) (valueKind, bool) {
	switch typ {
	case "id", "reference", "string", "textarea", "picklist", "multipicklist", "combobox",
		"phone", "email", "url", "encryptedstring", "anyType", "base64":
		return vkString, true
	case "boolean":
		return vkBool, true
	case "int", "long":
		return vkInt, true
	case "double", "currency", "percent":
		return vkFloat, true
	case "date":
		return vkDate, true
	case "time":
		return vkTime, true
	case "datetime":
		return vkDateTime, true
	case "address", "location":
		return vkCompound, true
	}
	return 0, false
}

func soapType(typ string) string {
	switch typ {
	case "id", "reference":
		return "tns:ID"
	case "boolean":
		return "xsd:boolean"
	case "int":
		return "xsd:int"
	case "long":
		return "xsd:long"
	case "double", "currency", "percent":
		return "xsd:double"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	case "time":
		return "xsd:time"
	case "address":
		return "urn:address"
	case "location":
		return "urn:location"
	case "anyType":
		return "xsd:anyType"
	case "base64":
		return "xsd:base64Binary"
	}
	return "xsd:string"
}

// isText reports whether values of typ are text with a length.
func isText(typ string) bool {
	switch typ {
	case "string", "textarea", "picklist", "multipicklist", "combobox", "phone", "email", "url", "encryptedstring":
		return true
	}
	return false
}

// newField returns a field with the properties Salesforce derives from its
// type: filterable, sortable and so on. Callers adjust the rest.
func newField(name, label, typ string) *field {
	k, _ := kindOf(typ)
	f := &field{
		Name: name, Label: label, Type: typ, kind: k, col: -1,
		Nillable: true, Createable: true, Updateable: true,
		Filterable: true, Sortable: true, Groupable: true, Aggregatable: true,
		Custom: strings.HasSuffix(name, "__c") || strings.HasSuffix(name, "__s"),
	}
	switch typ {
	case "id", "reference":
		f.Length = 18
	case "string", "picklist", "combobox", "url", "textarea", "encryptedstring":
		f.Length = 255
	case "multipicklist":
		f.Length = 4099
	case "email":
		f.Length = 80
	case "phone":
		f.Length = 40
	case "int":
		f.Digits = 9
	case "long":
		f.Digits = 18
	case "double", "percent":
		f.Precision, f.Scale = 18, 0
	case "currency":
		f.Precision, f.Scale = 18, 2
	case "boolean":
		f.Nillable = false
		f.DefaultedOnCreate = true
	}
	f.settle()
	return f
}

// settle recomputes the type-derived flags after Length or Type changed.
func (f *field) settle() {
	longText := f.Type == "textarea" && f.Length > 255
	switch {
	case longText:
		f.Filterable, f.Sortable, f.Groupable, f.Aggregatable = false, false, false, false
		if f.ExtraTypeInfo == "" {
			f.ExtraTypeInfo = "plaintextarea"
		}
	case f.Type == "textarea":
		f.Groupable = false
		if f.ExtraTypeInfo == "" {
			f.ExtraTypeInfo = "plaintextarea"
		}
	case f.Type == "multipicklist":
		f.Sortable, f.Groupable = false, false
	case f.Type == "encryptedstring", f.Type == "anyType", f.Type == "base64":
		f.Filterable, f.Sortable, f.Groupable = false, false, false
	case f.Type == "address", f.Type == "location":
		f.Filterable, f.Sortable, f.Groupable, f.Aggregatable = false, false, false, false
		f.Createable, f.Updateable = false, false
	case f.kind == vkFloat, f.Type == "datetime", f.Type == "time":
		f.Groupable = false
	}
}

func (f *field) byteLength() int {
	switch {
	case f.Type == "id" || f.Type == "reference":
		return 18
	case isText(f.Type):
		return 3 * f.Length
	}
	return 0
}

// calculated reports whether f is a formula field.
func (f *field) calculated() bool { return f.Formula != "" }

// stored reports whether f has a storage column.
func (f *field) stored() bool { return f.col >= 0 }

// sobject is one sObject: its describe and its records.
type sobject struct {
	Name, Label, LabelPlural string
	KeyPrefix                string // reported by describe; "" reports null
	idPrefix                 string // prefix of generated Ids
	Custom                   bool
	Queryable, Replicateable bool
	Createable, Updateable   bool
	Deletable, Undeletable   bool
	Mergeable, FeedEnabled   bool
	Searchable               bool

	fields []*field
	byName map[string]int // lower-case name → index in fields
	exact  map[string]int // canonical name → index in fields
	roles  map[role]int   // role → index in fields

	// schemaStamp is when the describe last changed, in whole seconds and
	// strictly increasing, for If-Modified-Since.
	schemaStamp time.Time

	table
}

// field returns the field with the given name, case-insensitively.
func (o *sobject) field(name string) (*field, bool) {
	i, ok := o.byName[strings.ToLower(name)]
	if !ok {
		return nil, false
	}
	return o.fields[i], true
}

// roleField returns the field playing role r, or nil.
func (o *sobject) roleField(r role) *field {
	i, ok := o.roles[r]
	if !ok {
		return nil
	}
	return o.fields[i]
}

// cursorField is the timestamp that orders records and drives replication:
// SystemModstamp, else LastModifiedDate, else CreatedDate, else nil.
func (o *sobject) cursorField() *field {
	for _, r := range []role{roleStamp, roleModDate, roleCreatedDate} {
		if f := o.roleField(r); f != nil {
			return f
		}
	}
	return nil
}

// addField appends f to o and gives it a storage column unless it is the
// Id (derived from the record number), a formula or a compound parent.
// Existing records read null in the new column.
func (o *sobject) addField(f *field) {
	if f.kind != vkCompound && !f.calculated() && f.role != roleID {
		f.col = o.addColumn(f.kind)
	}
	o.fields = append(o.fields, f)
	idx := len(o.fields) - 1
	o.byName[strings.ToLower(f.Name)] = idx
	o.exact[f.Name] = idx
	if f.role != roleNone {
		o.roles[f.role] = idx
	}
}

// link fills in the parts of every compound parent from the components
// naming it.
func (o *sobject) link() {
	for _, p := range o.fields {
		if p.kind != vkCompound {
			continue
		}
		p.parts = p.parts[:0]
		for i, c := range o.fields {
			if c.Compound == p.Name {
				p.parts = append(p.parts, part{key: componentKey(p, c), field: i})
			}
		}
		sortParts(p.parts)
	}
}

// componentKey is the lower-camel key a component has inside its compound
// parent's JSON object: BillingPostalCode → postalCode,
// HQ__Latitude__s → latitude.
func componentKey(parent, c *field) string {
	name := c.Name
	if strings.HasSuffix(name, "__s") {
		name = strings.TrimSuffix(name, "__s")
		if i := strings.LastIndex(name, "__"); i >= 0 {
			name = name[i+2:]
		}
	} else {
		prefix := strings.TrimSuffix(parent.Name, "Address")
		name = strings.TrimPrefix(name, prefix)
	}
	if name == "" {
		return name
	}
	return strings.ToLower(name[:1]) + name[1:]
}

func sortParts(ps []part) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].key < ps[j-1].key; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// def converts o to the public ObjectDef form.
func (o *sobject) def() ObjectDef {
	d := ObjectDef{Name: o.Name, Label: o.Label, Fields: make([]FieldDef, 0, len(o.fields))}
	for _, f := range o.fields {
		d.Fields = append(d.Fields, FieldDef{
			Name: f.Name, Label: f.Label, Type: f.Type,
			Length: f.Length, Precision: f.Precision, Scale: f.Scale, Digits: f.Digits,
			Nillable: f.Nillable, Formula: f.Formula,
			ReferenceTo:    append([]string(nil), f.ReferenceTo...),
			PicklistValues: append([]string(nil), f.Picklist...),
		})
	}
	return d
}

// customFields turns custom field definitions into fields, adding the
// components of compound (location, address) fields. known reports whether
// a field name is already taken on the target object.
func customFields(object string, defs []FieldDef, known func(string) bool) ([]*field, error) {
	var out []*field
	taken := map[string]bool{}
	use := func(name string) error {
		key := strings.ToLower(name)
		if taken[key] || known(name) {
			return fmt.Errorf("object %s: field %s already exists", object, name)
		}
		taken[key] = true
		return nil
	}
	for _, d := range defs {
		fs, err := customField(object, d)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if err := use(f.Name); err != nil {
				return nil, err
			}
		}
		out = append(out, fs...)
	}
	return out, nil
}

// customField validates one custom field definition and returns its fields
// (one, or a compound parent followed by its components).
func customField(object string, d FieldDef) ([]*field, error) {
	at := fmt.Sprintf("object %s: field %q", object, d.Name)
	if !validCustomName(d.Name) {
		return nil, fmt.Errorf("%s: custom field names are letters, digits and single underscores ending in __c", at)
	}
	typ := d.Type
	if typ == "" {
		typ = "string"
	}
	k, ok := kindOf(typ)
	if !ok || typ == "id" {
		return nil, fmt.Errorf("%s: unsupported type %q", at, d.Type)
	}
	label := d.Label
	if label == "" {
		label = strings.ReplaceAll(strings.TrimSuffix(d.Name, "__c"), "_", " ")
	}
	f := newField(d.Name, label, typ)
	f.Custom = true
	f.Nillable = d.Nillable || typ == "location" || typ == "address"
	if typ == "boolean" {
		f.Nillable = false
	}
	if d.Length < 0 || d.Precision < 0 || d.Scale < 0 || d.Digits < 0 {
		return nil, fmt.Errorf("%s: length, precision, scale and digits cannot be negative", at)
	}
	if isText(typ) && d.Length > 0 {
		if d.Length > 131072 {
			return nil, fmt.Errorf("%s: length %d is over the maximum 131072", at, d.Length)
		}
		if typ != "textarea" && d.Length > 255 && typ != "multipicklist" {
			return nil, fmt.Errorf("%s: length %d is over 255; use type textarea for long text", at, d.Length)
		}
		f.Length = d.Length
	}
	if k == vkFloat && (d.Precision > 0 || d.Scale > 0) {
		if d.Precision == 0 {
			d.Precision = 18
		}
		if d.Scale > d.Precision || d.Precision > 18 {
			return nil, fmt.Errorf("%s: precision %d and scale %d are invalid (precision at most 18, scale at most precision)", at, d.Precision, d.Scale)
		}
		f.Precision, f.Scale = d.Precision, d.Scale
	}
	if k == vkInt && d.Digits > 0 {
		if d.Digits > 18 {
			return nil, fmt.Errorf("%s: digits %d is over 18", at, d.Digits)
		}
		f.Digits = d.Digits
	}
	switch typ {
	case "picklist", "multipicklist":
		if len(d.PicklistValues) == 0 {
			return nil, fmt.Errorf("%s: a %s needs picklistValues", at, typ)
		}
		f.Picklist = append([]string(nil), d.PicklistValues...)
	case "reference":
		if len(d.ReferenceTo) == 0 {
			return nil, fmt.Errorf("%s: a reference needs referenceTo", at)
		}
		f.ReferenceTo = append([]string(nil), d.ReferenceTo...)
		f.RelationshipName = strings.TrimSuffix(d.Name, "__c") + "__r"
		f.Nillable = true
	}
	if d.Formula != "" {
		if k == vkCompound {
			return nil, fmt.Errorf("%s: a %s field cannot be a formula", at, typ)
		}
		f.Formula = d.Formula
		f.Createable, f.Updateable = false, false
		f.Nillable = true
	}
	f.settle()
	out := []*field{f}
	base := strings.TrimSuffix(d.Name, "__c")
	switch typ {
	case "location":
		f.ExtraTypeInfo = ""
		for _, c := range []string{"Latitude", "Longitude"} {
			cf := newField(base+"__"+c+"__s", label+" ("+c+")", "double")
			cf.Precision, cf.Scale = 18, 15
			cf.Compound = d.Name
			cf.Custom = true
			out = append(out, cf)
		}
	case "address":
		out = append(out, addressParts(base+"__", "__s", label, d.Name, true)...)
	}
	return out, nil
}

// addressParts returns the components of an address field: standard ones
// are prefix+"Street" and so on, custom ones prefix+"Street"+suffix.
func addressParts(prefix, suffix, label, parent string, custom bool) []*field {
	mk := func(name, typ string, length int) *field {
		f := newField(prefix+name+suffix, strings.TrimSpace(label+" "+name), typ)
		if length > 0 {
			f.Length = length
		}
		f.Compound = parent
		f.Custom = custom
		f.settle()
		return f
	}
	lat := mk("Latitude", "double", 0)
	lat.Precision, lat.Scale = 18, 15
	lon := mk("Longitude", "double", 0)
	lon.Precision, lon.Scale = 18, 15
	acc := mk("GeocodeAccuracy", "picklist", 40)
	acc.Picklist = []string{"Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "Neighborhood", "City", "County", "State", "Unknown"}
	return []*field{
		mk("Street", "textarea", 255),
		mk("City", "string", 40),
		mk("State", "string", 80),
		mk("PostalCode", "string", 20),
		mk("Country", "string", 80),
		lat, lon, acc,
	}
}

// validCustomName reports whether name is a custom API name ending in __c:
// starts with a letter, letters, digits and single underscores.
func validCustomName(name string) bool {
	base, ok := strings.CutSuffix(name, "__c")
	if !ok || base == "" || len(name) > 43 {
		return false
	}
	if !(base[0] >= 'A' && base[0] <= 'Z' || base[0] >= 'a' && base[0] <= 'z') {
		return false
	}
	if strings.HasSuffix(base, "_") || strings.Contains(base, "__") {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
