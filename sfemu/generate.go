package sfemu

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The generator fills the org with deterministic data: the same Seed and
// Records give the same records (timestamps are relative to the clock at
// New). Values are written straight into the column store, so a million
// Accounts take seconds.

const (
	day           = int64(24 * time.Hour / time.Millisecond)
	generatedSpan = 90 * day // generated SystemModstamps lie in the 90 days before New
)

// genCtx is the state of generating one record.
type genCtx struct {
	s     *Server
	o     *sobject
	r     *rand.Rand
	row   int32
	recNo int64
	base  int64 // the org's creation time, Unix ms

	first, last, company string
	placeOf              string // compound field place refers to
	place                int    // index into places, -1 for an empty address
}

// generator produces a value for field f of the record being generated.
type generator func(c *genCtx, f *field) cell

// objectRand returns the generator's random source for one object.
func objectRand(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// generate appends n records to o with cursor stamps spread evenly over
// the generated span, in increasing order, so the rows land in order.
func (s *Server) generate(o *sobject, n int, r *rand.Rand) {
	if n <= 0 {
		return
	}
	o.grow(n)
	o.cur = growSlice(o.cur, n)
	end := s.created - 60_000
	start := end - generatedSpan
	step := float64(end-start) / float64(n)
	var prev int64 = math.MinInt64
	c := &genCtx{s: s, o: o, r: r, base: s.created}
	for i := 0; i < n; i++ {
		t := start + int64(float64(i)*step)
		if step >= 2 {
			t += r.Int64N(int64(step / 2))
		}
		if step >= 2000 {
			t -= t % 1000 // whole seconds, as Salesforce stamps usually are
		}
		if t <= prev {
			t = prev + 1
		}
		prev = t
		recNo := int64(len(o.cur))
		row := o.newRow(int32(recNo), -1)
		c.start(row, recNo)
		fillGenerated(c)
		s.stampGenerated(c, t)
		o.finish(row)
		o.commit(row)
		if t > s.lastStamp {
			s.lastStamp = t
		}
	}
}

// start resets c for a new record.
func (c *genCtx) start(row int32, recNo int64) {
	c.row, c.recNo = row, recNo
	c.first = firstNames[c.r.IntN(len(firstNames))]
	c.last = lastNames[c.r.IntN(len(lastNames))]
	c.company = companyWords[c.r.IntN(len(companyWords))] + " " + companyNouns[c.r.IntN(len(companyNouns))]
	if c.r.IntN(3) == 0 {
		c.company += " " + companySuffixes[c.r.IntN(len(companySuffixes))]
	}
	c.placeOf, c.place = "", -1
}

// fillGenerated gives every stored, non-system field of the row a
// generated value.
func fillGenerated(c *genCtx) {
	o := c.o
	for _, f := range o.fields {
		if f.stored() && f.role == roleNone && f.gen != nil {
			o.set(f.col, c.row, f.gen(c, f))
		}
	}
}

// stampGenerated sets the system fields of a generated record whose
// cursor stamp is t: most records were last modified at t; some had a
// system update after their last user change; many were created long
// before.
func (s *Server) stampGenerated(c *genCtx, t int64) {
	o, r, row := c.o, c.r, c.row
	mod := t
	if r.IntN(7) == 0 {
		mod -= 1000 + r.Int64N(3*day)
		mod -= mod % 1000
	}
	created := mod
	if r.IntN(3) != 0 {
		created -= r.Int64N(365 * day)
		created -= created % 1000
	}
	if o.roleField(roleStamp) == nil && o.roleField(roleModDate) == nil {
		created = t // CreatedDate is the cursor
	}
	setMs := func(rl role, v int64) {
		if f := o.roleField(rl); f != nil {
			o.set(f.col, row, cell{n: v})
		}
	}
	setMs(roleStamp, t)
	setMs(roleModDate, mod)
	setMs(roleCreatedDate, created)
	if f := o.roleField(roleIsDeleted); f != nil {
		o.set(f.col, row, boolCell(false))
	}
	if f := o.roleField(roleCreatedBy); f != nil {
		o.set(f.col, row, cell{s: c.userID()})
	}
	if f := o.roleField(roleModBy); f != nil {
		o.set(f.col, row, cell{s: c.userID()})
	}
}

// finish recomputes the fields derived from others in row: a person's
// full Name, an Opportunity's IsClosed and IsWon.
func (o *sobject) finish(row int32) {
	if f := o.roleField(roleFullName); f != nil {
		first, _ := o.field("FirstName")
		last, _ := o.field("LastName")
		name := o.cols[last.col].str(row)
		if fn := o.cols[first.col].str(row); fn != "" {
			name = fn + " " + name
		}
		o.set(f.col, row, cell{s: name})
	}
	if f := o.roleField(roleIsClosed); f != nil {
		stage, _ := o.field("StageName")
		v := o.cols[stage.col].str(row)
		o.set(f.col, row, boolCell(strings.HasPrefix(v, "Closed")))
		if w := o.roleField(roleIsWon); w != nil {
			o.set(w.col, row, boolCell(v == "Closed Won"))
		}
	}
}

// userID picks the user a generated record is owned or touched by; the
// integration user most often.
func (c *genCtx) userID() string {
	users := c.s.objects["user"]
	n := len(users.cur)
	if n == 0 || c.r.IntN(3) == 0 {
		return c.s.userID
	}
	return makeID(users.idPrefix, c.r.Int64N(int64(n)))
}

// refID picks a record of the first of targets that has records; for the
// object being generated only earlier records qualify.
func (c *genCtx) refID(targets []string) string {
	for _, t := range targets {
		o, ok := c.s.objects[strings.ToLower(t)]
		if !ok {
			continue
		}
		n := int64(len(o.cur))
		if o == c.o {
			n = c.recNo
		}
		if n > 0 {
			return makeID(o.idPrefix, c.r.Int64N(n))
		}
	}
	return ""
}

// assignGenerators picks a generator for every stored field of o.
func assignGenerators(o *sobject) {
	for _, f := range o.fields {
		if f.stored() && f.role == roleNone {
			f.gen = pickGenerator(o, f)
		}
	}
}

// nullable makes g return null with probability pct/100 when f allows it.
func nullable(pct int, g generator) generator {
	return func(c *genCtx, f *field) cell {
		if f.Nillable && c.r.IntN(100) < pct {
			if f.kind == vkString {
				return cell{}
			}
			return nullCell
		}
		return g(c, f)
	}
}

func text(s string) cell { return cell{s: s} }

func floatCell(x float64) cell { return cell{n: int64(math.Float64bits(x))} }

func pickGenerator(o *sobject, f *field) generator {
	if f.Compound != "" && f.Compound != "Name" {
		return componentGenerator(o, f)
	}
	switch f.Name {
	case "Name":
		switch o.Name {
		case "Account":
			return func(c *genCtx, _ *field) cell { return text(c.company) }
		case "Opportunity":
			return func(c *genCtx, _ *field) cell {
				return text(c.company + " - " + products[c.r.IntN(len(products))])
			}
		}
		label := o.Label
		return func(c *genCtx, f *field) cell {
			return text(clip(label+" "+strconv.FormatInt(c.recNo+1, 10)+" "+shortTexts[c.r.IntN(len(shortTexts))], f.Length))
		}
	case "FirstName":
		return nullable(5, func(c *genCtx, _ *field) cell { return text(c.first) })
	case "LastName":
		return func(c *genCtx, _ *field) cell { return text(c.last) }
	case "Company", "CompanyName":
		return func(c *genCtx, _ *field) cell { return text(c.company) }
	case "Username":
		return func(c *genCtx, _ *field) cell {
			return text(slug(c.first) + "." + slug(c.last) + "." + strconv.FormatInt(c.recNo, 10) + "@emulator.example")
		}
	case "Email":
		return nullable(10, func(c *genCtx, _ *field) cell {
			return text(slug(c.first) + "." + slug(c.last) + strconv.FormatInt(c.recNo%1000, 10) + "@" + slug(c.company) + ".example.com")
		})
	case "Alias":
		return func(c *genCtx, _ *field) cell { return text(clip(slug(c.first)[:1]+slug(c.last), 8)) }
	case "CommunityNickname":
		return func(c *genCtx, _ *field) cell { return text(c.first + strconv.FormatInt(c.recNo, 10)) }
	case "Website":
		return nullable(20, func(c *genCtx, _ *field) cell { return text("https://www." + slug(c.company) + ".example.com") })
	case "AccountNumber":
		return nullable(30, func(c *genCtx, _ *field) cell { return text("CD" + digitsOf(c.r, 6)) })
	case "Sic":
		return nullable(40, func(c *genCtx, _ *field) cell { return text(digitsOf(c.r, 4)) })
	case "TickerSymbol":
		return nullable(70, func(c *genCtx, _ *field) cell {
			b := make([]byte, 3+c.r.IntN(2))
			for i := range b {
				b[i] = byte('A' + c.r.IntN(26))
			}
			return text(string(b))
		})
	case "Site":
		return nullable(80, func(c *genCtx, _ *field) cell { return text(places[c.r.IntN(len(places))].city) })
	case "YearStarted":
		return nullable(30, func(c *genCtx, _ *field) cell { return text(strconv.Itoa(1900 + c.r.IntN(124))) })
	case "Title":
		return nullable(15, pool(titles))
	case "Department", "Division":
		return nullable(25, pool(departments))
	case "Description", "NextStep":
		return nullable(30, func(c *genCtx, f *field) cell { return text(clip(descriptions[c.r.IntN(len(descriptions))], f.Length)) })
	case "AnnualRevenue":
		// Whole hundreds of thousands up to 200 million: values of ten
		// million and more render in exponent form (1.39E8).
		return nullable(15, func(c *genCtx, _ *field) cell { return floatCell(float64(c.r.IntN(2000)+1) * 1e5) })
	case "NumberOfEmployees":
		return nullable(10, func(c *genCtx, _ *field) cell {
			return cell{n: int64(math.Exp(c.r.Float64() * math.Log(250000)))}
		})
	case "Amount":
		return nullable(10, func(c *genCtx, _ *field) cell { return floatCell(float64(100000+c.r.IntN(500000000)) / 100) })
	case "Probability":
		return nullable(5, func(c *genCtx, _ *field) cell { return floatCell(float64(c.r.IntN(11) * 10)) })
	case "Health_Score__c":
		return nullable(20, func(c *genCtx, _ *field) cell { return floatCell(float64(c.r.IntN(10001)) / 100) })
	case "CloseDate":
		return func(c *genCtx, _ *field) cell { return dateCell(c.base + (c.r.Int64N(360)-180)*day) }
	case "Birthdate":
		return nullable(20, func(c *genCtx, _ *field) cell { return dateCell(c.base - (7000+c.r.Int64N(18000))*day) })
	case "LastActivityDate":
		return nullable(40, func(c *genCtx, _ *field) cell { return dateCell(c.base - c.r.Int64N(90)*day) })
	case "Customer_Since__c":
		return nullable(25, func(c *genCtx, _ *field) cell { return dateCell(c.base - c.r.Int64N(15*365)*day) })
	case "Preferred_Call_Time__c":
		return nullable(30, func(c *genCtx, _ *field) cell { return cell{n: (8*60 + int64(c.r.IntN(40))*15) * 60000} })
	case "EmailBouncedDate":
		return nullable(90, func(c *genCtx, _ *field) cell { return cell{n: c.base - c.r.Int64N(60*day)/1000*1000} })
	case "LastLoginDate":
		return nullable(10, func(c *genCtx, _ *field) cell { return cell{n: c.base - c.r.Int64N(30*day)/1000*1000} })
	case "IsActive", "Active__c":
		return func(c *genCtx, _ *field) cell { return boolCell(c.r.IntN(10) != 0) }
	case "HasOptedOutOfEmail", "DoNotCall", "IsConverted":
		return func(c *genCtx, _ *field) cell { return boolCell(c.r.IntN(10) == 0) }
	case "UserType":
		return func(c *genCtx, _ *field) cell { return text("Standard") }
	case "OwnerId":
		return func(c *genCtx, _ *field) cell { return text(c.userID()) }
	case "ParentId", "ManagerId":
		return nullable(60, func(c *genCtx, f *field) cell { return text(c.refID(f.ReferenceTo)) })
	case "ConvertedDate", "ConvertedAccountId", "ConvertedContactId", "ConvertedOpportunityId":
		conv, _ := o.field("IsConverted")
		return func(c *genCtx, f *field) cell {
			if conv == nil || !c.o.boolAt(conv, c.row) {
				if f.kind == vkString {
					return cell{}
				}
				return nullCell
			}
			if f.Type == "date" {
				return dateCell(c.base - c.r.Int64N(200)*day)
			}
			return text(c.refID(f.ReferenceTo))
		}
	case "Languages__c":
		return nullable(50, pool([]string{"English", "English, French", "Deutsch", "日本語", "Español; Português"}))
	case "OldValue", "NewValue":
		return nullable(20, pool(shortTexts))
	case "LastViewedDate", "LastReferencedDate":
		return nullable(10, func(c *genCtx, _ *field) cell { return cell{n: c.base - c.r.Int64N(30*day)} })
	}
	return typeGenerator(f)
}

// typeGenerator generates plausible values for any field from its type.
func typeGenerator(f *field) generator {
	var g generator
	switch f.Type {
	case "string", "encryptedstring", "anyType", "combobox":
		if len(f.Picklist) > 0 {
			g = pool(f.Picklist)
			break
		}
		g = func(c *genCtx, f *field) cell {
			return text(clip(shortTexts[c.r.IntN(len(shortTexts))]+" "+strconv.Itoa(c.r.IntN(10000)), f.Length))
		}
	case "textarea":
		g = func(c *genCtx, f *field) cell {
			if f.Length > 255 {
				return text(clip(descriptions[c.r.IntN(len(descriptions))], f.Length))
			}
			return text(clip(shortTexts[c.r.IntN(len(shortTexts))]+",\n"+shortTexts[c.r.IntN(len(shortTexts))], f.Length))
		}
	case "picklist":
		g = pool(f.Picklist)
	case "multipicklist":
		g = func(c *genCtx, f *field) cell {
			var picked []string
			for _, v := range f.Picklist {
				if c.r.IntN(3) == 0 {
					picked = append(picked, v)
				}
			}
			if len(picked) == 0 {
				picked = append(picked, f.Picklist[c.r.IntN(len(f.Picklist))])
			}
			return text(clip(strings.Join(picked, ";"), f.Length))
		}
	case "boolean":
		return func(c *genCtx, _ *field) cell { return boolCell(c.r.IntN(2) == 0) }
	case "int", "long":
		limit := int64(1_000_000)
		if f.Digits > 0 && f.Digits < 6 {
			limit = int64(math.Pow10(f.Digits))
		}
		g = func(c *genCtx, _ *field) cell { return cell{n: c.r.Int64N(limit)} }
	case "double", "currency", "percent":
		intDigits := f.Precision - f.Scale
		g = func(c *genCtx, f *field) cell {
			max := 1e6
			if f.Type == "percent" {
				max = 100
			}
			if intDigits < 7 {
				max = math.Min(max, math.Pow10(intDigits))
			}
			x := c.r.Float64() * max
			if intDigits >= 9 && c.r.IntN(5) == 0 {
				x = float64(c.r.IntN(900)+100) * 1e6 // large: exponent form
			}
			x = roundTo(x, f.Scale)
			if math.Abs(x) >= math.Pow10(intDigits) {
				x = 0
			}
			return floatCell(x)
		}
	case "date":
		g = func(c *genCtx, _ *field) cell { return dateCell(c.base + (c.r.Int64N(730)-365)*day) }
	case "datetime":
		g = func(c *genCtx, _ *field) cell { return cell{n: c.base - c.r.Int64N(365*day)/1000*1000} }
	case "time":
		g = func(c *genCtx, _ *field) cell { return cell{n: c.r.Int64N(day) / 1000 * 1000} }
	case "email":
		g = func(c *genCtx, _ *field) cell {
			return text(slug(c.first) + "." + slug(c.last) + "@" + slug(c.company) + ".example.com")
		}
	case "phone":
		g = phone
	case "url":
		g = func(c *genCtx, _ *field) cell {
			return text("https://" + slug(c.company) + ".example.com/" + strconv.Itoa(c.r.IntN(1000)))
		}
	case "reference":
		g = func(c *genCtx, f *field) cell { return text(c.refID(f.ReferenceTo)) }
	default:
		return nil
	}
	return nullable(10, g)
}

// componentGenerator generates the components of an address or location
// field consistently: one place per compound field per record.
func componentGenerator(o *sobject, f *field) generator {
	parent, _ := o.field(f.Compound)
	key := componentKey(parent, f)
	isLocation := parent.Type == "location"
	return func(c *genCtx, f *field) cell {
		if c.placeOf != f.Compound {
			c.placeOf = f.Compound
			c.place = c.r.IntN(len(places))
			if c.r.IntN(100) < 12 {
				c.place = -1 // no address at all
			}
		}
		if c.place < 0 {
			if f.kind == vkString {
				return cell{}
			}
			return nullCell
		}
		p := places[c.place]
		jitter := func() float64 { return roundTo((c.r.Float64()-0.5)*0.05, 6) }
		switch key {
		case "street":
			s := strconv.Itoa(1+c.r.IntN(2000)) + " " + streets[c.r.IntN(len(streets))]
			if c.r.IntN(5) == 0 {
				s += "\nSuite " + strconv.Itoa(100+c.r.IntN(900))
			}
			return text(s)
		case "city":
			return text(p.city)
		case "state":
			return text(p.state)
		case "postalCode":
			return text(p.postal)
		case "country":
			return text(p.country)
		case "latitude":
			if !isLocation && c.r.IntN(4) == 0 {
				return nullCell
			}
			return floatCell(roundTo(p.lat+jitter(), 6))
		case "longitude":
			return floatCell(roundTo(p.lon+jitter(), 6))
		case "geocodeAccuracy":
			return text([]string{"Address", "Zip", "City", "Street"}[c.r.IntN(4)])
		}
		return cell{}
	}
}

func pool(vs []string) generator {
	return func(c *genCtx, f *field) cell {
		if len(vs) == 0 {
			return cell{}
		}
		return text(clip(vs[c.r.IntN(len(vs))], f.Length))
	}
}

func phone(c *genCtx, _ *field) cell {
	b := []byte("(000) 555-0000")
	area := 201 + c.r.IntN(780)
	b[1], b[2], b[3] = byte('0'+area/100), byte('0'+area/10%10), byte('0'+area%10)
	for i := 10; i < 14; i++ {
		b[i] = byte('0' + c.r.IntN(10))
	}
	return text(string(b))
}

func digitsOf(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func dateCell(ms int64) cell { return cell{n: ms - ((ms%day)+day)%day} }

// slug keeps the ASCII letters and digits of s, lower-cased.
func slug(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	if len(b) == 0 {
		return "x"
	}
	return string(b)
}

// clip cuts s to at most n characters (n <= 0: no limit).
func clip(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
