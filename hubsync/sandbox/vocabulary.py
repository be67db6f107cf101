"""Names, titles, pages and forms the generator draws from.

Page urls, form names and webinar names follow the conventions the default scoring config recognises
(`docs/scoring.md`): comparison pages contain `/vergleich`, `/compare` or `/vs-`; case studies `/case-studies/` or
`/fallstudien/`; pricing `/preise` or `/pricing`; the homepage is `/`.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Anna",
    "Lukas",
    "Julia",
    "Jonas",
    "Laura",
    "Felix",
    "Sarah",
    "Maximilian",
    "Lea",
    "Paul",
    "Katharina",
    "Leon",
    "Marie",
    "Tobias",
    "Sophie",
    "Jan",
    "Hannah",
    "Florian",
    "Lena",
    "Sebastian",
    "Nina",
    "Daniel",
    "Christina",
    "Michael",
    "Sandra",
    "Thomas",
    "Claudia",
    "Stefan",
    "Petra",
    "Andreas",
    "Emily",
    "James",
    "Olivia",
    "Noah",
    "Mia",
    "Elias",
    "Ayşe",
    "Mehmet",
    "Zofia",
    "Piotr",
    "Jörg",
    "Björn",
    "Søren",
    "Chloé",
)
LAST_NAMES: tuple[str, ...] = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Kowalski",
    "Yılmaz",  # noqa: RUF001  # a Turkish name, spelt right on purpose
    "Smith",
    "Brown",
    "Taylor",
    "Nowak",
    "Jansen",
    "de Vries",
    "Dubois",
    "Rossi",
)

# (title, role): role is decision, influencer, user or student; the scoring's seniority and gate rules read titles.
TITLES: tuple[tuple[str, str], ...] = (
    ("Geschäftsführer", "decision"),
    ("Geschäftsführerin", "decision"),
    ("CEO", "decision"),
    ("CTO", "decision"),
    ("VP Sales", "decision"),
    ("Head of Marketing", "decision"),
    ("Head of Sales", "decision"),
    ("Leiter IT", "decision"),
    ("Leiterin Vertrieb", "decision"),
    ("Director Operations", "decision"),
    ("Marketing Manager", "influencer"),
    ("Sales Manager", "influencer"),
    ("Referentin Marketing", "influencer"),
    ("Referent Einkauf", "influencer"),
    ("CRM Specialist", "influencer"),
    ("IT-Projektmanager", "influencer"),
    ("Sachbearbeiterin", "user"),
    ("Vertriebsinnendienst", "user"),
    ("Assistenz der Geschäftsführung", "user"),
    ("Account Executive", "user"),
    ("", "user"),
    ("Werkstudent", "student"),
    ("Werkstudentin Marketing", "student"),
    ("Praktikant", "student"),
    ("Student", "student"),
)

PERSONAL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "web.de",
    "gmx.de",
    "gmx.net",
    "t-online.de",
    "outlook.com",
    "yahoo.de",
    "icloud.com",
)
STUDENT_DOMAINS: tuple[str, ...] = ("stud.uni-hamburg.de", "student.kit.edu", "tum.de", "uni-koeln.de")

COMPANY_STEMS: tuple[str, ...] = (
    "Müller",
    "Nordlicht",
    "Brightlane",
    "Alpen",
    "Rheintal",
    "Hanse",
    "Kessler",
    "Vogel",
    "Sonnenberg",
    "Bergmann",
    "Falkenstein",
    "Lindner",
    "Ostwind",
    "Sternwarte",
    "Tannhauser",
    "Weidemann",
    "Zeller",
    "Quantum",
    "Bluefield",
    "Greenway",
    "Ironbridge",
    "Northstar",
    "Silverline",
    "Cobalt",
    "Helix",
    "Pioneer",
)
COMPANY_KINDS: tuple[str, ...] = (
    "Maschinenbau",
    "Software",
    "Logistik",
    "Consulting",
    "Systems",
    "Medizintechnik",
    "Handel",
    "Bau",
    "Digital",
    "Elektronik",
    "Analytics",
    "Automotive",
    "Stadtwerke",
    "Foods",
    "Solutions",
    "IT-Service",
)
LEGAL_FORMS: tuple[str, ...] = ("GmbH", "GmbH & Co. KG", "AG", "SE", "Ltd", "GmbH", "KG", "Inc.", "B.V.")

# (country, weight, cities); messy spellings on purpose, as imported data has them.
COUNTRIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Germany", 30, ("Berlin", "Hamburg", "München", "Köln", "Stuttgart", "Leipzig")),
    ("Deutschland", 15, ("Frankfurt am Main", "Düsseldorf", "Hannover", "Nürnberg")),
    ("DE", 5, ("Bremen", "Dresden")),
    ("Austria", 8, ("Wien", "Graz", "Linz")),
    ("Switzerland", 7, ("Zürich", "Basel", "Bern")),
    ("United Kingdom", 6, ("London", "Manchester")),
    ("Netherlands", 5, ("Amsterdam", "Rotterdam")),
    ("France", 4, ("Paris", "Lyon")),
    ("United States", 5, ("New York", "Austin", "Chicago")),
    ("Poland", 3, ("Warszawa", "Kraków")),
    ("", 12, ("",)),
)

TARGET_INDUSTRIES: frozenset[str] = frozenset(
    {"COMPUTER_SOFTWARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "MECHANICAL_OR_INDUSTRIAL_ENGINEERING"}
)

HOME = "/"
COMPARISON_PAGES: tuple[str, ...] = (
    "/vergleich/leadwerk-vs-tabellen",
    "/vergleich/lead-scoring-tools",
    "/compare/leadwerk-vs-native-scoring",
    "/vs-excel-lead-listen",
)
CASE_STUDY_PAGES: tuple[str, ...] = (
    "/case-studies/mueller-maschinenbau",
    "/case-studies/brightlane-logistics",
    "/fallstudien/stadtwerke-nordlicht",
    "/fallstudien/kessler-medizintechnik",
)
PRICING_PAGES: tuple[str, ...] = ("/preise", "/pricing", "/preise#enterprise")
CONTENT_PAGES: tuple[str, ...] = (
    "/blog/lead-scoring-grundlagen",
    "/blog/buying-center-im-b2b",
    "/blog/icp-definieren-in-fuenf-schritten",
    "/blog/mql-oder-sql",
    "/blog/dsgvo-und-marketing-automation",
    "/blog/predictive-lead-scoring",
    "/blog/sales-und-marketing-alignment",
    "/blog/webinar-nachbereitung",
    "/produkt/lead-scoring",
    "/produkt/integrationen/hubspot",
    "/produkt/reporting",
    "/produkt/buying-center-analyse",
    "/ressourcen",
    "/webinare",
    "/ueber-uns",
    "/kontakt",
)
JOB_PAGES: tuple[str, ...] = ("/jobs", "/jobs/werkstudent-marketing", "/jobs/account-executive")

# (form name, kind, page path)
FORMS: tuple[tuple[str, str, str], ...] = (
    ("E-Book: Lead Scoring für den Mittelstand", "content", "/ressourcen/e-book-lead-scoring"),
    ("E-Book: Das B2B-Buying-Center", "content", "/ressourcen/e-book-buying-center"),
    ("Whitepaper ICP und Zielkunden", "content", "/ressourcen/whitepaper-icp"),
    ("Checkliste CRM-Datenqualität", "content", "/ressourcen/checkliste-crm-daten"),
    ("Case Study Müller Maschinenbau", "case_study", "/case-studies/mueller-maschinenbau"),
    ("Demo anfragen", "demo", "/demo"),
    ("Beratung vereinbaren", "demo", "/beratung"),
    ("Contact us", "demo", "/kontakt"),
    ("Webinar-Aufzeichnung anfordern", "recording", "/webinare/aufzeichnung"),
    ("Newsletter-Anmeldung", "newsletter", "/blog"),
    ("Bewerbung Werkstudent", "jobs", "/jobs/werkstudent-marketing"),
)

WEBINAR_TOPICS: tuple[str, ...] = (
    "Lead Scoring in der Praxis",
    "Vom MQL zum Auftrag",
    "Buying Center erkennen",
    "ICP schärfen mit CRM-Daten",
    "HubSpot und Vertrieb: Übergabe ohne Reibung",
    "Live-Demo: Scoring-Modelle",
)

NEWSLETTER_SUBJECTS: tuple[str, ...] = (
    "Neu im Blog: {topic}",
    "Einladung zum Webinar: {topic}",
    "3 Ideen für besseres Lead Scoring",
    "Ihr Monatsrückblick",
)
