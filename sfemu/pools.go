package sfemu

import "strings"

// Word pools for generated data. They are read-only.

var (
	firstNames = []string{"Ann", "Bob", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal",
		"Kate", "Liam", "Mei", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor",
		"Wen", "Xavier", "Yara", "Zoë", "André", "Björn", "Chloé", "Dmitri", "Émile", "Fatima", "Günter",
		"Hana", "Ivan", "José", "Kenji", "Lucía", "Magnus", "Nadia"}
	lastNames = []string{"Smith", "Johnson", "Garcia", "Nguyen", "Müller", "O'Brien", "Kowalski", "Rossi",
		"Tanaka", "Dubois", "Silva", "Andersson", "Haddad", "Kim", "Patel", "Novak", "Okafor", "Jensen",
		"Fernández", "Schmidt", "Cohen", "Ivanova", "Murphy", "Lee", "Chen", "Wright", "López", "Brown",
		"Taylor", "Wilson", "Martin", "Clark", "Lewis", "Walker", "Young", "King", "Scott", "Green", "Baker", "Hill"}
	companyWords = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Cyberdyne", "Soylent",
		"Tyrell", "Wonka", "Hooli", "Vandelay", "Massive", "Dunder", "Gringotts", "Aperture", "Black Mesa",
		"Oscorp", "Pied Piper", "Prestige", "Vehement", "Monarch", "Blue Sun", "Nakatomi", "Weyland",
		"Zorg", "Kramerica", "Bluth", "Sterling", "Omni"}
	companyNouns = []string{"Widgets", "Logistics", "Systems", "Foods", "Energy", "Labs", "Holdings", "Media",
		"Robotics", "Textiles", "Pharma", "Analytics", "Motors", "Airways", "Bank", "Insurance", "Studios",
		"Mining", "Software", "Outfitters"}
	companySuffixes = []string{"Inc.", "LLC", "Ltd.", "GmbH", "S.A.", "Corp.", "& Co.", "AG", "K.K.", "plc"}
	products        = []string{"Renewal", "Expansion", "New Business", "Upgrade", "Pilot", "Services", "Add-on Licenses", "Support Plan"}
	titles          = []string{"CEO", "CFO", "CTO", "VP Sales", "VP Marketing", "Director, IT", "Buyer",
		"Procurement Manager", "Engineer", "Analyst", "Office Manager", "Head of Data", "SVP, Operations"}
	departments = []string{"Sales", "Marketing", "Finance", "Engineering", "Operations", "IT", "Legal", "Support", "Procurement", "HR"}
	streets     = []string{"Main St", "Market Street", "Broadway", "Elm Street", "Rue de Rivoli", "Unter den Linden",
		"King Street West", "Calle Mayor", "Ginza 4-chome", "George Street", "Oak Avenue", "Harbour Road"}
	places = []place{
		{"San Francisco", "CA", "94105", "United States", 37.7897, -122.3972},
		{"New York", "NY", "10001", "United States", 40.7506, -73.9972},
		{"Austin", "TX", "78701", "United States", 30.2711, -97.7437},
		{"Chicago", "IL", "60601", "United States", 41.8853, -87.6229},
		{"Seattle", "WA", "98101", "United States", 47.6101, -122.3344},
		{"Boston", "MA", "02110", "United States", 42.3570, -71.0511},
		{"Toronto", "ON", "M5H 2N2", "Canada", 43.6510, -79.3832},
		{"Montréal", "QC", "H2Y 1C6", "Canada", 45.5048, -73.5572},
		{"London", "", "EC2V 7HH", "United Kingdom", 51.5154, -0.0922},
		{"Paris", "", "75001", "France", 48.8606, 2.3376},
		{"Berlin", "", "10117", "Germany", 52.5170, 13.3889},
		{"München", "BY", "80331", "Germany", 48.1374, 11.5755},
		{"Madrid", "", "28013", "Spain", 40.4168, -3.7038},
		{"Tokyo", "", "104-0061", "Japan", 35.6717, 139.7650},
		{"Sydney", "NSW", "2000", "Australia", -33.8688, 151.2093},
		{"São Paulo", "SP", "01310-100", "Brazil", -23.5614, -46.6559},
		{"Zürich", "ZH", "8001", "Switzerland", 47.3769, 8.5417},
		{"Dublin", "", "D02 X285", "Ireland", 53.3498, -6.2603},
		{"Singapore", "", "048583", "Singapore", 1.2840, 103.8510},
		{"Mumbai", "MH", "400001", "India", 18.9388, 72.8354},
	}
	// descriptions exercise everything text can hold: newlines, quotes,
	// commas, backslashes, tabs, non-Latin scripts and emoji.
	descriptions = []string{
		"Key account.\nRenewal due next quarter.",
		`Customer said "we'll think about it", then signed.`,
		"Prefers email, not phone; CC: procurement, legal, and finance.",
		"Grüße aus München — Übergröße, façade, naïve café.",
		"東京本社。担当者は営業部の田中さん。",
		"Great call 🎉🚀 — follow up with 👩‍💻 team.",
		"Line one\r\nLine two\r\n\tIndented line three",
		`Path: C:\shared\accounts\"quoted"\file.csv`,
		"Multi-paragraph notes.\n\nSecond paragraph, with a comma.\n\nThird: \"done\".",
		"Ελληνικά, русский, עברית, العربية — mixed scripts.",
		strings.Repeat("Long history of the relationship, with many details; ", 30) + "end.",
		"Trailing spaces and emoji at the end 😀   ",
	}
	shortTexts = []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
		"Kilo", "Lima", "Mike", "November", "Oscar", "Papa"}
)

type place struct {
	city, state, postal, country string
	lat, lon                     float64
}
