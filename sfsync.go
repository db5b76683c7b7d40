// Package sfsync replicates Salesforce objects into a data warehouse with
// change data capture: extract from the Salesforce APIs, stage each batch in
// the warehouse, consolidate it into final tables (deduplicated by Id, deletes
// applied) in the same transaction that advances the cursor.
//
// This root package holds the vocabulary shared by every part (objects, fields,
// records, windows, cursors, runs) and the two seams between them: Source
// (Salesforce, or the emulator behind the same API) and Warehouse (DuckDB,
// PostgreSQL, ...). It imports only the standard library.
package sfsync

import (
	"sort"
	"strings"
)

// FieldType is a Salesforce describe field type, exactly as the API spells it
// ("string", "datetime", "address", ...).
type FieldType string

// Field types from the describe reference.
const (
	TypeID                         FieldType = "id"
	TypeReference                  FieldType = "reference"
	TypeString                     FieldType = "string"
	TypeTextArea                   FieldType = "textarea"
	TypePicklist                   FieldType = "picklist"
	TypeMultiPicklist              FieldType = "multipicklist"
	TypeCombobox                   FieldType = "combobox"
	TypePhone                      FieldType = "phone"
	TypeEmail                      FieldType = "email"
	TypeURL                        FieldType = "url"
	TypeEncryptedString            FieldType = "encryptedstring"
	TypeBase64                     FieldType = "base64"
	TypeBoolean                    FieldType = "boolean"
	TypeInt                        FieldType = "int"
	TypeLong                       FieldType = "long"
	TypeDouble                     FieldType = "double"
	TypeCurrency                   FieldType = "currency"
	TypePercent                    FieldType = "percent"
	TypeDate                       FieldType = "date"
	TypeDateTime                   FieldType = "datetime"
	TypeTime                       FieldType = "time"
	TypeAddress                    FieldType = "address"
	TypeLocation                   FieldType = "location"
	TypeAnyType                    FieldType = "anyType"
	TypeComplexValue               FieldType = "complexvalue"
	TypeJSON                       FieldType = "json"
	TypeDataCategoryGroupReference FieldType = "datacategorygroupreference"
)

// Kind is the warehouse value kind a field is stored as. Every FieldType maps
// to exactly one Kind (see Field.Kind); compound types map to KindCompound and
// are never stored (their component fields are).
type Kind int

// Value kinds. The Go type of a decoded value of each kind is given in
// Record's documentation.
const (
	KindString Kind = iota
	KindBool
	KindInt
	KindDecimal
	KindFloat
	KindDate
	KindTime
	KindDateTime
	KindCompound
)

var kindNames = [...]string{"string", "bool", "int", "decimal", "float", "date", "time", "datetime", "compound"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Field is one field of an object's describe, reduced to what replication
// needs.
type Field struct {
	Name       string    // API name, e.g. "AnnualRevenue", "Region__c"
	Label      string    // display label
	Type       FieldType // describe type
	Length     int       // characters, for text types
	Precision  int       // total digits, for double/currency/percent
	Scale      int       // digits after the point, for double/currency/percent
	Digits     int       // digits, for int/long
	Nillable   bool      // may be null
	Calculated bool      // formula or roll-up summary: changes may not bump SystemModstamp
	Formula    string    // calculatedFormula, when Calculated
	// CompoundName is the compound field this field is a component of
	// ("BillingAddress" for BillingStreet), or "".
	CompoundName string
	Filterable   bool
	Sortable     bool
	Custom       bool
	ReferenceTo  []string // target objects of a reference field
}

// Kind reports how values of f are stored.
func (f Field) Kind() Kind {
	switch f.Type {
	case TypeBoolean:
		return KindBool
	case TypeInt, TypeLong:
		return KindInt
	case TypeDouble, TypeCurrency, TypePercent:
		if f.Precision > 0 && f.Precision <= MaxDecimalPrecision && f.Scale >= 0 && f.Scale <= f.Precision {
			return KindDecimal
		}
		return KindFloat
	case TypeDate:
		return KindDate
	case TypeTime:
		return KindTime
	case TypeDateTime:
		return KindDateTime
	case TypeAddress, TypeLocation:
		return KindCompound
	default:
		// id, reference, text types, picklists, base64 (a blob URL), anyType,
		// json, complexvalue and any type added to the API later.
		return KindString
	}
}

// MaxDecimalPrecision is the widest decimal every supported warehouse stores
// exactly. Wider numeric fields are stored as floats.
const MaxDecimalPrecision = 38

// ObjectInfo is one entry of describe global.
type ObjectInfo struct {
	Name          string
	Label         string
	Custom        bool
	Queryable     bool
	Replicateable bool
	Retrieveable  bool
	KeyPrefix     string
}

// Object is the describe of one Salesforce object.
type Object struct {
	ObjectInfo
	Fields []Field
}

// Field returns the field with the given API name (case-insensitive, as
// Salesforce names are).
func (o *Object) Field(name string) (Field, bool) {
	for _, f := range o.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// CursorField returns the timestamp field incremental extraction orders and
// filters by: SystemModstamp, else LastModifiedDate, else CreatedDate; "" when
// the object has none of them (it can only be fully refreshed).
func (o *Object) CursorField() string {
	for _, name := range []string{"SystemModstamp", "LastModifiedDate", "CreatedDate"} {
		if f, ok := o.Field(name); ok && f.Type == TypeDateTime {
			return f.Name
		}
	}
	return ""
}

// ReplicatedFields returns the fields a replica stores: every field except
// compound parents (address, location), whose components are fields of their
// own. Id comes first; the rest keep describe order. include and exclude are
// optional case-insensitive name lists from configuration; Id, IsDeleted and
// the cursor field are always kept, whatever exclude says.
func (o *Object) ReplicatedFields(include, exclude []string) []Field {
	in := nameSet(include)
	ex := nameSet(exclude)
	required := nameSet([]string{"Id", "IsDeleted", o.CursorField()})
	var out []Field
	for _, f := range o.Fields {
		if f.Kind() == KindCompound {
			continue
		}
		key := strings.ToLower(f.Name)
		if !required[key] {
			if len(in) > 0 && !in[key] {
				continue
			}
			if ex[key] {
				continue
			}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.EqualFold(out[i].Name, "Id") && !strings.EqualFold(out[j].Name, "Id")
	})
	return out
}

func nameSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		if n != "" {
			m[strings.ToLower(n)] = true
		}
	}
	return m
}
