package newsletter

// Publication is the publication's identity, as every issue, confirmation mail and page
// presents it. render, roster and the web pages take it as it is; the configuration has a
// struct of the same fields that the command converts.
type Publication struct {
	Name          string // "The Technerdo Weekly"
	Tagline       string // "Analysis worth reading, delivered every Monday."
	WebsiteURL    string // "https://technerdo.com"
	LogoURL       string // optional absolute URL; without it the name is shown as text
	PostalAddress string // required by CAN-SPAM in every issue; may hold several lines
	Language      string // BCP 47 tag for html lang; "" means en
	AccentColor   string // CSS hex colour, #rgb or #rrggbb
	// WhyText says why the reader gets the issue; "" derives it from Name and WebsiteURL.
	WhyText string
}
