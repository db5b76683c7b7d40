package sfemu

import "strings"

// The standard objects of the emulated org. Field lists follow the real
// objects closely enough for replication to meet every common field type:
// ids, polymorphic references, text of every kind, picklists, numbers of
// every precision, dates, times, compound address and location fields,
// formulas and the system fields.

// fieldOpt adjusts a field built by fld.
type fieldOpt func(*field)

func fld(name, label, typ string, opts ...fieldOpt) *field {
	f := newField(name, label, typ)
	for _, o := range opts {
		o(f)
	}
	f.settle()
	return f
}

func length(n int) fieldOpt { return func(f *field) { f.Length = n } }
func digits(n int) fieldOpt { return func(f *field) { f.Digits = n } }
func numeric(p, s int) fieldOpt {
	return func(f *field) { f.Precision, f.Scale = p, s }
}
func required(f *field) { f.Nillable = false }
func nameField(f *field) {
	f.NameField = true
	f.Nillable = false
}
func readOnly(f *field)  { f.Createable, f.Updateable = false, false }
func lookupKey(f *field) { f.IDLookup = true }
func unique(f *field)    { f.Unique, f.IDLookup = true, true }
func values(vs ...string) fieldOpt {
	return func(f *field) { f.Picklist = vs }
}
func formula(src string) fieldOpt {
	return func(f *field) {
		f.Formula = src
		f.Createable, f.Updateable = false, false
	}
}
func compoundOf(parent string) fieldOpt { return func(f *field) { f.Compound = parent } }
func withRole(r role) fieldOpt          { return func(f *field) { f.role = r } }
func extra(info string) fieldOpt        { return func(f *field) { f.ExtraTypeInfo = info } }

// ref builds a reference field; several targets make it polymorphic.
func ref(name, label, rel string, targets ...string) fieldOpt {
	return func(f *field) {
		f.Name, f.Label = name, label
		f.ReferenceTo = targets
		f.RelationshipName = rel
	}
}

func reference(name, label, rel string, targets []string, opts ...fieldOpt) *field {
	return fld(name, label, "reference", append([]fieldOpt{ref(name, label, rel, targets...)}, opts...)...)
}

func idField(object string) *field {
	return fld("Id", object+" ID", "id", readOnly, required, lookupKey, withRole(roleID), func(f *field) {
		f.DefaultedOnCreate = true
		f.Groupable = true
	})
}

func isDeletedField() *field {
	return fld("IsDeleted", "Deleted", "boolean", readOnly, withRole(roleIsDeleted))
}

func masterField(object string) *field {
	return reference("MasterRecordId", "Master Record ID", "MasterRecord", []string{object}, readOnly, withRole(roleMaster))
}

// auditFields are CreatedDate, CreatedById, LastModifiedDate,
// LastModifiedById and SystemModstamp.
func auditFields() []*field {
	sys := func(f *field) {
		f.Createable, f.Updateable = false, false
		f.Nillable = false
		f.DefaultedOnCreate = true
	}
	return []*field{
		fld("CreatedDate", "Created Date", "datetime", sys, withRole(roleCreatedDate)),
		reference("CreatedById", "Created By ID", "CreatedBy", []string{"User"}, sys, withRole(roleCreatedBy)),
		fld("LastModifiedDate", "Last Modified Date", "datetime", sys, withRole(roleModDate)),
		reference("LastModifiedById", "Last Modified By ID", "LastModifiedBy", []string{"User"}, sys, withRole(roleModBy)),
		fld("SystemModstamp", "System Modstamp", "datetime", sys, withRole(roleStamp)),
	}
}

// address returns the components and parent of a standard address field:
// prefix "Billing" gives BillingStreet ... BillingAddress; "" gives
// Street ... Address.
func address(prefix, label string) []*field {
	parent := prefix + "Address"
	fs := addressParts(prefix, "", label, parent, false)
	return append(fs, fld(parent, strings.TrimSpace(label+" Address"), "address"))
}

// personName returns Salutation, FirstName, LastName and the full Name they
// make up.
func personName() []*field {
	return []*field{
		fld("LastName", "Last Name", "string", length(80), required, compoundOf("Name")),
		fld("FirstName", "First Name", "string", length(40), compoundOf("Name")),
		fld("Salutation", "Salutation", "picklist", length(40), compoundOf("Name"), values("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
		fld("Name", "Full Name", "string", length(121), readOnly, nameField, extra("personname"), withRole(roleFullName)),
	}
}

func ownerField(targets ...string) *field {
	return reference("OwnerId", "Owner ID", "Owner", targets, required, func(f *field) {
		f.DefaultedOnCreate = true
	})
}

var (
	industries = []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
		"Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment",
		"Environmental", "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance",
		"Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping",
		"Technology", "Telecommunications", "Transportation", "Utilities", "Other"}
	leadSources = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
	ratings     = []string{"Hot", "Warm", "Cold"}
	stages      = []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
		"Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
		"Closed Won", "Closed Lost"}
)

// objectSpec is a standard object before it is built.
type objectSpec struct {
	name, label, plural, prefix string
	replicateable, mergeable    bool
	deletable, createable       bool
	fields                      []*field
}

func standardObjects() []objectSpec {
	var account []*field
	account = append(account,
		idField("Account"), isDeletedField(), masterField("Account"),
		fld("Name", "Account Name", "string", nameField, lookupKey),
		fld("Type", "Account Type", "picklist", length(255), values("Prospect", "Customer - Direct",
			"Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other")),
		reference("ParentId", "Parent Account ID", "Parent", []string{"Account"}),
	)
	account = append(account, address("Billing", "Billing")...)
	account = append(account, address("Shipping", "Shipping")...)
	account = append(account,
		fld("Phone", "Account Phone", "phone"),
		fld("Fax", "Account Fax", "phone"),
		fld("AccountNumber", "Account Number", "string", length(40)),
		fld("Website", "Website", "url"),
		fld("Sic", "SIC Code", "string", length(20)),
		fld("Industry", "Industry", "picklist", values(industries...)),
		fld("AnnualRevenue", "Annual Revenue", "currency", numeric(18, 0)),
		fld("NumberOfEmployees", "Employees", "int", digits(8)),
		fld("Ownership", "Ownership", "picklist", values("Public", "Private", "Subsidiary", "Other")),
		fld("TickerSymbol", "Ticker Symbol", "string", length(20)),
		fld("Description", "Account Description", "textarea", length(32000)),
		fld("Rating", "Account Rating", "picklist", values(ratings...)),
		fld("Site", "Account Site", "string", length(80)),
		ownerField("User"),
	)
	account = append(account, auditFields()...)
	account = append(account,
		fld("LastActivityDate", "Last Activity", "date", readOnly),
		fld("YearStarted", "Year Started", "string", length(4)),
		fld("Region__c", "Region", "picklist", values("AMER", "EMEA", "APAC", "LATAM")),
		fld("Segments__c", "Segments", "multipicklist", values("SMB", "Mid-Market", "Enterprise", "Public Sector", "Startup")),
		fld("Customer_Since__c", "Customer Since", "date"),
		fld("Preferred_Call_Time__c", "Preferred Call Time", "time"),
		fld("Health_Score__c", "Health Score", "percent", numeric(5, 2)),
		fld("Active__c", "Active", "boolean"),
		fld("HQ_Location__c", "HQ Location", "location"),
		fld("HQ_Location__Latitude__s", "HQ Location (Latitude)", "double", numeric(18, 15), compoundOf("HQ_Location__c")),
		fld("HQ_Location__Longitude__s", "HQ Location (Longitude)", "double", numeric(18, 15), compoundOf("HQ_Location__c")),
		fld("Revenue_Per_Employee__c", "Revenue per Employee", "currency", numeric(18, 2), formula("AnnualRevenue / NumberOfEmployees")),
		fld("Account_Label__c", "Account Label", "string", length(1300), formula("Name & ' - ' & BillingCity")),
	)

	var contact []*field
	contact = append(contact, idField("Contact"), isDeletedField(), masterField("Contact"),
		reference("AccountId", "Account ID", "Account", []string{"Account"}))
	contact = append(contact, personName()...)
	contact = append(contact, address("Mailing", "Mailing")...)
	contact = append(contact,
		fld("Phone", "Business Phone", "phone"),
		fld("MobilePhone", "Mobile Phone", "phone"),
		fld("Email", "Email", "email", lookupKey),
		fld("Title", "Title", "string", length(128)),
		fld("Department", "Department", "string", length(80)),
		fld("LeadSource", "Lead Source", "picklist", values(leadSources...)),
		fld("Birthdate", "Birthdate", "date"),
		fld("Description", "Contact Description", "textarea", length(32000)),
		ownerField("User"),
		fld("HasOptedOutOfEmail", "Email Opt Out", "boolean"),
		fld("DoNotCall", "Do Not Call", "boolean"),
	)
	contact = append(contact, auditFields()...)
	contact = append(contact,
		fld("LastActivityDate", "Last Activity", "date", readOnly),
		fld("EmailBouncedDate", "Email Bounced Date", "datetime"),
		fld("Level__c", "Level", "picklist", values("Primary", "Secondary", "Tertiary")),
		fld("Languages__c", "Languages", "string", length(100)),
	)

	var opp []*field
	opp = append(opp, idField("Opportunity"), isDeletedField(),
		reference("AccountId", "Account ID", "Account", []string{"Account"}),
		fld("Name", "Name", "string", length(120), nameField),
		fld("Description", "Description", "textarea", length(32000)),
		fld("StageName", "Stage", "picklist", required, values(stages...)),
		fld("Amount", "Amount", "currency", numeric(16, 2)),
		fld("Probability", "Probability (%)", "percent", numeric(3, 0)),
		fld("ExpectedRevenue", "Expected Amount", "currency", numeric(16, 2), formula("Amount * Probability / 100"), func(f *field) { f.Custom = false }),
		fld("TotalOpportunityQuantity", "Quantity", "double", numeric(18, 2)),
		fld("CloseDate", "Close Date", "date", required),
		fld("Type", "Opportunity Type", "picklist", values("Existing Customer - Upgrade",
			"Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer")),
		fld("NextStep", "Next Step", "string"),
		fld("LeadSource", "Lead Source", "picklist", values(leadSources...)),
		fld("IsClosed", "Closed", "boolean", readOnly, withRole(roleIsClosed)),
		fld("IsWon", "Won", "boolean", readOnly, withRole(roleIsWon)),
		fld("ForecastCategory", "Forecast Category", "picklist", length(40), values("Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
		ownerField("User"),
	)
	opp = append(opp, auditFields()...)
	opp = append(opp, fld("LastActivityDate", "Last Activity", "date", readOnly))

	var lead []*field
	lead = append(lead, idField("Lead"), isDeletedField(), masterField("Lead"))
	lead = append(lead, personName()...)
	lead = append(lead,
		fld("Title", "Title", "string", length(128)),
		fld("Company", "Company", "string", required),
	)
	lead = append(lead, address("", "")...)
	lead = append(lead,
		fld("Phone", "Phone", "phone"),
		fld("MobilePhone", "Mobile Phone", "phone"),
		fld("Email", "Email", "email", lookupKey),
		fld("Website", "Website", "url"),
		fld("Description", "Description", "textarea", length(32000)),
		fld("LeadSource", "Lead Source", "picklist", values(leadSources...)),
		fld("Status", "Status", "picklist", required, values("Open - Not Contacted", "Working - Contacted",
			"Closed - Converted", "Closed - Not Converted")),
		fld("Industry", "Industry", "picklist", values(industries...)),
		fld("Rating", "Rating", "picklist", values(ratings...)),
		fld("AnnualRevenue", "Annual Revenue", "currency", numeric(18, 0)),
		fld("NumberOfEmployees", "Employees", "int", digits(8)),
		ownerField("Group", "User"),
		fld("IsConverted", "Converted", "boolean"),
		fld("ConvertedDate", "Converted Date", "date"),
		reference("ConvertedAccountId", "Converted Account ID", "ConvertedAccount", []string{"Account"}),
		reference("ConvertedContactId", "Converted Contact ID", "ConvertedContact", []string{"Contact"}),
		reference("ConvertedOpportunityId", "Converted Opportunity ID", "ConvertedOpportunity", []string{"Opportunity"}),
		fld("IsUnreadByOwner", "Unread By Owner", "boolean"),
	)
	lead = append(lead, auditFields()...)
	lead = append(lead,
		fld("LastActivityDate", "Last Activity", "date", readOnly),
		fld("EmailBouncedDate", "Email Bounced Date", "datetime"),
	)

	var user []*field
	user = append(user, idField("User"),
		fld("Username", "Username", "string", length(80), required, unique))
	user = append(user, personName()...)
	user = append(user,
		fld("CompanyName", "Company Name", "string", length(80)),
		fld("Division", "Division", "string", length(80)),
		fld("Department", "Department", "string", length(80)),
		fld("Title", "Title", "string", length(80)),
	)
	user = append(user, address("", "")...)
	user = append(user,
		fld("Email", "Email", "email", required),
		fld("Phone", "Phone", "phone"),
		fld("MobilePhone", "Mobile", "phone"),
		fld("Alias", "Alias", "string", length(8), required),
		fld("CommunityNickname", "Nickname", "string", length(40)),
		fld("IsActive", "Active", "boolean"),
		fld("TimeZoneSidKey", "Time Zone", "picklist", length(40), required, values("America/Los_Angeles",
			"America/New_York", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney")),
		fld("LocaleSidKey", "Locale", "picklist", length(40), required, values("en_US", "en_GB", "fr_FR", "de_DE", "ja_JP")),
		fld("EmailEncodingKey", "Email Encoding", "picklist", length(40), required, values("UTF-8", "ISO-8859-1")),
		fld("LanguageLocaleKey", "Language", "picklist", length(40), required, values("en_US", "fr", "de", "ja")),
		fld("UserType", "User Type", "picklist", length(40), readOnly, values("Standard", "PowerPartner", "CsnOnly")),
		reference("ManagerId", "Manager ID", "Manager", []string{"User"}),
		fld("LastLoginDate", "Last Login", "datetime", readOnly),
	)
	user = append(user, auditFields()...)

	history := []*field{
		idField("Account History"), isDeletedField(),
		reference("AccountId", "Account ID", "Account", []string{"Account"}, required),
		reference("CreatedById", "Created By ID", "CreatedBy", []string{"User"}, readOnly, required, withRole(roleCreatedBy)),
		fld("CreatedDate", "Created Date", "datetime", readOnly, required, withRole(roleCreatedDate)),
		fld("Field", "Changed Field", "picklist", required, values("created", "Name", "Phone", "Industry",
			"AnnualRevenue", "Rating", "Type", "Owner")),
		fld("DataType", "Data Type", "picklist", values("Text", "Currency", "Picklist", "EntityId", "Phone")),
		fld("OldValue", "Old Value", "anyType"),
		fld("NewValue", "New Value", "anyType"),
	}

	viewed := []*field{
		idField("Recently Viewed"),
		fld("Name", "Name", "string", nameField),
		fld("Type", "Type", "picklist", values("Account", "Contact", "Lead", "Opportunity")),
		fld("LastViewedDate", "Last Viewed Date", "datetime"),
		fld("LastReferencedDate", "Last Referenced Date", "datetime"),
	}

	return []objectSpec{
		{name: "Account", label: "Account", plural: "Accounts", prefix: "001", replicateable: true, mergeable: true, deletable: true, createable: true, fields: account},
		{name: "Contact", label: "Contact", plural: "Contacts", prefix: "003", replicateable: true, mergeable: true, deletable: true, createable: true, fields: contact},
		{name: "Opportunity", label: "Opportunity", plural: "Opportunities", prefix: "006", replicateable: true, deletable: true, createable: true, fields: opp},
		{name: "Lead", label: "Lead", plural: "Leads", prefix: "00Q", replicateable: true, mergeable: true, deletable: true, createable: true, fields: lead},
		{name: "User", label: "User", plural: "Users", prefix: "005", replicateable: true, createable: true, fields: user},
		{name: "AccountHistory", label: "Account History", plural: "Account History", prefix: "017", replicateable: true, fields: history},
		// RecentlyViewed has no timestamp to replicate by and no key prefix
		// of its own; its generated Ids use an internal prefix.
		{name: "RecentlyViewed", label: "Recently Viewed", plural: "Recently Viewed", prefix: "", fields: viewed},
	}
}

// customObjectFields are the standard fields every custom object has.
func customObjectFields(label string) []*field {
	fs := []*field{
		idField(label),
		ownerField("Group", "User"),
		isDeletedField(),
		fld("Name", label+" Name", "string", length(80), nameField),
	}
	return append(fs, auditFields()...)
}
