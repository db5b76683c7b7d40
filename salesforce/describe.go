package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/soql"
)

// describeGlobal is the answer of GET /sobjects.
type describeGlobal struct {
	SObjects []describeObject `json:"sobjects"`
}

// describeObject holds the object properties replication uses, from describe
// global and from an object's describe alike.
type describeObject struct {
	Name          string          `json:"name"`
	Label         string          `json:"label"`
	Custom        bool            `json:"custom"`
	Queryable     bool            `json:"queryable"`
	Replicateable bool            `json:"replicateable"`
	Retrieveable  bool            `json:"retrieveable"`
	KeyPrefix     *string         `json:"keyPrefix"`
	Fields        []describeField `json:"fields"`
}

// describeField holds the field properties replication uses.
type describeField struct {
	Name              string   `json:"name"`
	Label             string   `json:"label"`
	Type              string   `json:"type"`
	Length            int      `json:"length"`
	Precision         int      `json:"precision"`
	Scale             int      `json:"scale"`
	Digits            int      `json:"digits"`
	Nillable          bool     `json:"nillable"`
	Calculated        bool     `json:"calculated"`
	CalculatedFormula *string  `json:"calculatedFormula"`
	CompoundFieldName *string  `json:"compoundFieldName"`
	Filterable        bool     `json:"filterable"`
	Sortable          bool     `json:"sortable"`
	Custom            bool     `json:"custom"`
	ReferenceTo       []string `json:"referenceTo"`
}

func (o describeObject) info() sfsync.ObjectInfo {
	info := sfsync.ObjectInfo{
		Name:          o.Name,
		Label:         o.Label,
		Custom:        o.Custom,
		Queryable:     o.Queryable,
		Replicateable: o.Replicateable,
		Retrieveable:  o.Retrieveable,
	}
	if o.KeyPrefix != nil {
		info.KeyPrefix = *o.KeyPrefix
	}
	return info
}

func (f describeField) field() sfsync.Field {
	out := sfsync.Field{
		Name:        f.Name,
		Label:       f.Label,
		Type:        sfsync.FieldType(f.Type), // unknown types are kept as sent; they store as strings
		Length:      f.Length,
		Precision:   f.Precision,
		Scale:       f.Scale,
		Digits:      f.Digits,
		Nillable:    f.Nillable,
		Calculated:  f.Calculated,
		Filterable:  f.Filterable,
		Sortable:    f.Sortable,
		Custom:      f.Custom,
		ReferenceTo: f.ReferenceTo,
	}
	if f.CalculatedFormula != nil {
		out.Formula = *f.CalculatedFormula
	}
	if f.CompoundFieldName != nil {
		out.CompoundName = *f.CompoundFieldName
	}
	if len(out.ReferenceTo) == 0 {
		out.ReferenceTo = nil
	}
	return out
}

// Objects lists the org's objects (describe global).
func (c *Client) Objects(ctx context.Context) ([]sfsync.ObjectInfo, error) {
	var g describeGlobal
	err := c.do(ctx, &call{
		method:  http.MethodGet,
		path:    c.apiPath + "/sobjects",
		what:    "list objects",
		decoder: jsonInto(&g),
	})
	if err != nil {
		return nil, err
	}
	out := make([]sfsync.ObjectInfo, 0, len(g.SObjects))
	for _, o := range g.SObjects {
		out = append(out, o.info())
	}
	return out, nil
}

// Describe returns one object's describe: its properties and every field,
// in describe order.
func (c *Client) Describe(ctx context.Context, object string) (*sfsync.Object, error) {
	if !soql.ValidName(object) {
		return nil, fmt.Errorf("describe: %q is not a Salesforce object name: %w", object, sfsync.ErrPermanent)
	}
	var d describeObject
	err := c.do(ctx, &call{
		method:  http.MethodGet,
		path:    c.apiPath + "/sobjects/" + url.PathEscape(object) + "/describe",
		what:    "describe " + object,
		object:  object,
		decoder: jsonInto(&d),
	})
	if err != nil {
		return nil, err
	}
	if d.Name == "" {
		d.Name = object
	}
	obj := &sfsync.Object{ObjectInfo: d.info(), Fields: make([]sfsync.Field, 0, len(d.Fields))}
	for i, f := range d.Fields {
		if f.Name == "" {
			return nil, fmt.Errorf("describe %s: field %d has no name: %w", object, i, sfsync.ErrPermanent)
		}
		obj.Fields = append(obj.Fields, f.field())
	}
	return obj, nil
}
