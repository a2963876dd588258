package newsletter

import "strings"

// ArchivePath is where the public archive of sent issues lives: the web routes and the
// link in every issue.
const ArchivePath = "/issues"

// ArchiveURL is the archive's address under baseURL (with or without a trailing slash).
func ArchiveURL(baseURL string) string { return strings.TrimRight(baseURL, "/") + ArchivePath }
