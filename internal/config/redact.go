package config

import "regexp"

// Patterns of credentials in text, parsed as a URL or not: the password of
// anything like scheme://user:password@host, also mistyped (redis//:pw@host,
// redis:/user:pw@host), and key=value forms (password=pw in a PostgreSQL
// connection string or a query).
var (
	userinfoRE = regexp.MustCompile(`(//?[^/@\s:'"]*):[^@\s'"]*@`)
	passwordRE = regexp.MustCompile(`(?i)\b(password|passwd|pwd|secret|token)=[^&\s'"]*`)
)

// Redacted stands where a password was.
const Redacted = "xxxxx"

// Redact returns s with whatever looks like a credential replaced by
// Redacted. It errs on the side of hiding: a "user:x@" in a path is hidden
// too.
func Redact(s string) string {
	s = userinfoRE.ReplaceAllString(s, "$1:"+Redacted+"@")
	return passwordRE.ReplaceAllString(s, "$1="+Redacted)
}
