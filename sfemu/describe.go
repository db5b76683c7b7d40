package sfemu

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// versionLabel names a release the way Salesforce does: 60.0 is
// "Spring '24", 61.0 "Summer '24", 62.0 "Winter '25".
func versionLabel(v string) string {
	n, ok := versionNumber(v)
	if !ok {
		return v
	}
	k := n - 60
	season := ((k % 3) + 3) % 3
	cycle := k / 3
	if k < 0 && k%3 != 0 {
		cycle--
	}
	year := 24 + cycle
	names := [...]string{"Spring", "Summer", "Winter"}
	if season == 2 {
		year++
	}
	return names[season] + " '" + twoDigits(((year%100)+100)%100)
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

type versionInfo struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

func (s *Server) handleVersions(w http.ResponseWriter, _ *http.Request, _ *call) {
	vs := append([]string(nil), s.opts.APIVersions...)
	sort.Slice(vs, func(i, j int) bool {
		a, _ := versionNumber(vs[i])
		b, _ := versionNumber(vs[j])
		return a < b
	})
	out := make([]versionInfo, 0, len(vs))
	for _, v := range vs {
		out = append(out, versionInfo{Label: versionLabel(v), URL: "/services/data/v" + v, Version: v})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleResources(w http.ResponseWriter, _ *http.Request, c *call) {
	p := "/services/data/v" + c.version + "/"
	writeJSON(w, http.StatusOK, map[string]string{
		"limits":   p + "limits",
		"query":    p + "query",
		"queryAll": p + "queryAll",
		"sobjects": p + "sobjects",
	})
}

// handleSObject serves an object's basic information.
func (s *Server) handleSObject(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	o, ok := s.objects[strings.ToLower(r.PathValue("object"))]
	var entry globalEntry
	if ok {
		entry = o.globalEntry(c.version)
	}
	s.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"objectDescribe": entry, "recentItems": []any{}})
}

type limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

func (s *Server) handleLimits(w http.ResponseWriter, _ *http.Request, _ *call) {
	max := s.opts.DailyAPILimit
	remaining := max - s.used.Load()
	if remaining < 0 {
		remaining = 0
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"DailyApiRequests": map[string]any{
			"Max": max, "Remaining": remaining,
			"sfsync-emulator": limit{Max: 0, Remaining: 0},
		},
		"DailyBulkV2QueryJobs":              limit{Max: 10000, Remaining: 10000},
		"DailyBulkV2QueryFileStorageMB":     limit{Max: 976562, Remaining: 976562},
		"DailyAsyncApexExecutions":          limit{Max: 250000, Remaining: 250000},
		"DataStorageMB":                     limit{Max: 5120, Remaining: 4800},
		"FileStorageMB":                     limit{Max: 5120, Remaining: 5100},
		"ConcurrentAsyncGetReportInstances": limit{Max: 200, Remaining: 200},
	})
}

// globalEntry is one object in describe global; describe repeats these
// properties at its top level.
type globalEntry struct {
	Activateable        bool              `json:"activateable"`
	Createable          bool              `json:"createable"`
	Custom              bool              `json:"custom"`
	CustomSetting       bool              `json:"customSetting"`
	DeepCloneable       bool              `json:"deepCloneable"`
	Deletable           bool              `json:"deletable"`
	DeprecatedAndHidden bool              `json:"deprecatedAndHidden"`
	FeedEnabled         bool              `json:"feedEnabled"`
	HasSubtypes         bool              `json:"hasSubtypes"`
	IsInterface         bool              `json:"isInterface"`
	IsSubtype           bool              `json:"isSubtype"`
	KeyPrefix           *string           `json:"keyPrefix"`
	Label               string            `json:"label"`
	LabelPlural         string            `json:"labelPlural"`
	Layoutable          bool              `json:"layoutable"`
	Mergeable           bool              `json:"mergeable"`
	MruEnabled          bool              `json:"mruEnabled"`
	Name                string            `json:"name"`
	Queryable           bool              `json:"queryable"`
	Replicateable       bool              `json:"replicateable"`
	Retrieveable        bool              `json:"retrieveable"`
	Searchable          bool              `json:"searchable"`
	Triggerable         bool              `json:"triggerable"`
	Undeletable         bool              `json:"undeletable"`
	Updateable          bool              `json:"updateable"`
	URLs                map[string]string `json:"urls"`
}

func (o *sobject) globalEntry(version string) globalEntry {
	base := "/services/data/v" + version + "/sobjects/" + o.Name
	var prefix *string
	if o.KeyPrefix != "" {
		p := o.KeyPrefix
		prefix = &p
	}
	return globalEntry{
		Createable: o.Createable, Custom: o.Custom, Deletable: o.Deletable,
		FeedEnabled: o.FeedEnabled, KeyPrefix: prefix, Label: o.Label, LabelPlural: o.LabelPlural,
		Layoutable: o.Createable, Mergeable: o.Mergeable, MruEnabled: o.Createable, Name: o.Name,
		Queryable: o.Queryable, Replicateable: o.Replicateable, Retrieveable: true,
		Searchable: o.Searchable, Triggerable: o.Createable, Undeletable: o.Undeletable,
		Updateable: o.Updateable, DeepCloneable: false,
		URLs: map[string]string{
			"sobject":     base,
			"describe":    base + "/describe",
			"rowTemplate": base + "/{ID}",
		},
	}
}

func (s *Server) handleDescribeGlobal(w http.ResponseWriter, _ *http.Request, c *call) {
	s.mu.RLock()
	entries := make([]globalEntry, 0, len(s.objList))
	for _, o := range s.objList {
		entries = append(entries, o.globalEntry(c.version))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"encoding":     "UTF-8",
		"maxBatchSize": 200,
		"sobjects":     entries,
	})
}

// describeField carries every field property of the describe reference.
type describeField struct {
	Aggregatable                 bool            `json:"aggregatable"`
	AIPredictionField            bool            `json:"aiPredictionField"`
	AutoNumber                   bool            `json:"autoNumber"`
	ByteLength                   int             `json:"byteLength"`
	Calculated                   bool            `json:"calculated"`
	CalculatedFormula            *string         `json:"calculatedFormula"`
	CascadeDelete                bool            `json:"cascadeDelete"`
	CaseSensitive                bool            `json:"caseSensitive"`
	CompoundFieldName            *string         `json:"compoundFieldName"`
	ControllerName               *string         `json:"controllerName"`
	Createable                   bool            `json:"createable"`
	Custom                       bool            `json:"custom"`
	DefaultValue                 any             `json:"defaultValue"`
	DefaultValueFormula          *string         `json:"defaultValueFormula"`
	DefaultedOnCreate            bool            `json:"defaultedOnCreate"`
	DependentPicklist            bool            `json:"dependentPicklist"`
	DeprecatedAndHidden          bool            `json:"deprecatedAndHidden"`
	Digits                       int             `json:"digits"`
	DisplayLocationInDecimal     bool            `json:"displayLocationInDecimal"`
	Encrypted                    bool            `json:"encrypted"`
	ExternalID                   bool            `json:"externalId"`
	ExtraTypeInfo                *string         `json:"extraTypeInfo"`
	Filterable                   bool            `json:"filterable"`
	FilteredLookupInfo           any             `json:"filteredLookupInfo"`
	FormulaTreatNullNumberAsZero bool            `json:"formulaTreatNullNumberAsZero"`
	Groupable                    bool            `json:"groupable"`
	HighScaleNumber              bool            `json:"highScaleNumber"`
	HTMLFormatted                bool            `json:"htmlFormatted"`
	IDLookup                     bool            `json:"idLookup"`
	InlineHelpText               *string         `json:"inlineHelpText"`
	Label                        string          `json:"label"`
	Length                       int             `json:"length"`
	Mask                         *string         `json:"mask"`
	MaskType                     *string         `json:"maskType"`
	Name                         string          `json:"name"`
	NameField                    bool            `json:"nameField"`
	NamePointing                 bool            `json:"namePointing"`
	Nillable                     bool            `json:"nillable"`
	Permissionable               bool            `json:"permissionable"`
	PicklistValues               []picklistEntry `json:"picklistValues"`
	PolymorphicForeignKey        bool            `json:"polymorphicForeignKey"`
	Precision                    int             `json:"precision"`
	QueryByDistance              bool            `json:"queryByDistance"`
	ReferenceTargetField         *string         `json:"referenceTargetField"`
	ReferenceTo                  []string        `json:"referenceTo"`
	RelationshipName             *string         `json:"relationshipName"`
	RelationshipOrder            *int            `json:"relationshipOrder"`
	RestrictedDelete             bool            `json:"restrictedDelete"`
	RestrictedPicklist           bool            `json:"restrictedPicklist"`
	Scale                        int             `json:"scale"`
	SearchPrefilterable          bool            `json:"searchPrefilterable"`
	SoapType                     string          `json:"soapType"`
	Sortable                     bool            `json:"sortable"`
	Type                         string          `json:"type"`
	Unique                       bool            `json:"unique"`
	Updateable                   bool            `json:"updateable"`
	WriteRequiresMasterRead      bool            `json:"writeRequiresMasterRead"`
}

type picklistEntry struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (f *field) describe() describeField {
	d := describeField{
		Aggregatable: f.Aggregatable, ByteLength: f.byteLength(), Calculated: f.calculated(),
		CalculatedFormula: strPtr(f.Formula), CompoundFieldName: strPtr(f.Compound),
		Createable: f.Createable, Custom: f.Custom, DefaultedOnCreate: f.DefaultedOnCreate,
		Digits: f.Digits, ExtraTypeInfo: strPtr(f.ExtraTypeInfo), Filterable: f.Filterable,
		Groupable: f.Groupable, IDLookup: f.IDLookup, Label: f.Label, Length: f.Length,
		Name: f.Name, NameField: f.NameField, NamePointing: len(f.ReferenceTo) > 1,
		Nillable: f.Nillable, Permissionable: f.Custom && f.Nillable && !f.calculated() && f.Compound == "",
		PicklistValues: []picklistEntry{}, PolymorphicForeignKey: len(f.ReferenceTo) > 1,
		Precision: f.Precision, QueryByDistance: f.Type == "location",
		ReferenceTo: []string{}, RelationshipName: strPtr(f.RelationshipName),
		Scale: f.Scale, SoapType: soapType(f.Type), Sortable: f.Sortable, Type: f.Type,
		Unique: f.Unique, Updateable: f.Updateable,
	}
	if f.Type == "boolean" {
		d.DefaultValue = false
	}
	if f.Type == "textarea" && f.Length > 255 {
		d.HTMLFormatted = false
	}
	if f.ReferenceTo != nil {
		d.ReferenceTo = append(d.ReferenceTo, f.ReferenceTo...)
	}
	for _, v := range f.Picklist {
		d.PicklistValues = append(d.PicklistValues, picklistEntry{Active: true, Label: v, Value: v})
	}
	if f.Type == "location" {
		d.DisplayLocationInDecimal = true
	}
	return d
}

type childRelationship struct {
	CascadeDelete       bool     `json:"cascadeDelete"`
	ChildSObject        string   `json:"childSObject"`
	DeprecatedAndHidden bool     `json:"deprecatedAndHidden"`
	Field               string   `json:"field"`
	JunctionIDListNames []string `json:"junctionIdListNames"`
	JunctionReferenceTo []string `json:"junctionReferenceTo"`
	RelationshipName    *string  `json:"relationshipName"`
	RestrictedDelete    bool     `json:"restrictedDelete"`
}

type describeResult struct {
	globalEntry
	ActionOverrides    []any               `json:"actionOverrides"`
	ChildRelationships []childRelationship `json:"childRelationships"`
	CompactLayoutable  bool                `json:"compactLayoutable"`
	Fields             []describeField     `json:"fields"`
	ListViewable       any                 `json:"listviewable"`
	LookupLayoutable   any                 `json:"lookupLayoutable"`
	NamedLayoutInfos   []any               `json:"namedLayoutInfos"`
	NetworkScopeField  *string             `json:"networkScopeFieldName"`
	RecordTypeInfos    []any               `json:"recordTypeInfos"`
	SearchLayoutable   bool                `json:"searchLayoutable"`
	SupportedScopes    []map[string]string `json:"supportedScopes"`
}

func (s *Server) handleDescribe(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	o, ok := s.objects[strings.ToLower(r.PathValue("object"))]
	if !ok {
		s.mu.RUnlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	stamp := o.schemaStamp
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !stamp.After(ims) {
		s.mu.RUnlock()
		w.Header().Set("Last-Modified", stamp.Format(http.TimeFormat))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	d := describeResult{
		globalEntry:        o.globalEntry(c.version),
		ActionOverrides:    []any{},
		ChildRelationships: s.childRelationships(o),
		CompactLayoutable:  o.Createable,
		NamedLayoutInfos:   []any{},
		RecordTypeInfos:    []any{},
		SearchLayoutable:   o.Searchable,
		SupportedScopes:    []map[string]string{{"label": "All " + strings.ToLower(o.LabelPlural), "name": "everything"}},
	}
	for _, f := range o.fields {
		d.Fields = append(d.Fields, f.describe())
	}
	s.mu.RUnlock()
	w.Header().Set("Last-Modified", stamp.Format(http.TimeFormat))
	writeJSON(w, http.StatusOK, d)
}

// childRelationships lists the reference fields of every object that
// point at o.
func (s *Server) childRelationships(o *sobject) []childRelationship {
	out := []childRelationship{}
	for _, child := range s.objList {
		for _, f := range child.fields {
			for _, t := range f.ReferenceTo {
				if t != o.Name {
					continue
				}
				cr := childRelationship{
					ChildSObject: child.Name, Field: f.Name,
					JunctionIDListNames: []string{}, JunctionReferenceTo: []string{},
				}
				if f.role == roleNone && f.Name != "OwnerId" {
					rel := child.LabelPlural
					if child.Custom {
						rel = strings.TrimSuffix(child.Name, "__c") + "s__r"
					}
					cr.RelationshipName = strPtr(strings.ReplaceAll(rel, " ", ""))
				}
				out = append(out, cr)
			}
		}
	}
	return out
}

// touchSchema moves o's schema stamp to a whole second strictly after the
// previous one, so If-Modified-Since can never hide the change.
func (s *Server) touchSchema(o *sobject) {
	t := s.now().Truncate(time.Second)
	if !t.After(o.schemaStamp) {
		t = o.schemaStamp.Add(time.Second)
	}
	o.schemaStamp = t
}
