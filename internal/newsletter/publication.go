package newsletter

// Publication is the publication's identity, as every issue, confirmation mail and page
// presents it. The configuration reads it (the yaml tags are its keys under publication:);
// render, roster and the web pages take it as it is.
type Publication struct {
	Name          string `yaml:"name"`           // "The Technerdo Weekly"
	Tagline       string `yaml:"tagline"`        // "Analysis worth reading, delivered every Monday."
	WebsiteURL    string `yaml:"website_url"`    // "https://technerdo.com"
	LogoURL       string `yaml:"logo_url"`       // optional absolute URL; without it the name is shown as text
	PostalAddress string `yaml:"postal_address"` // required by CAN-SPAM in every issue; may hold several lines
	Language      string `yaml:"language"`       // BCP 47 tag for html lang; "" means en
	AccentColor   string `yaml:"accent_color"`   // CSS hex colour, #rgb or #rrggbb
	// WhyText says why the reader gets the issue; "" derives it from Name and WebsiteURL.
	WhyText string `yaml:"why_text"`
}
