module early

go 1.26.0

require (
	github.com/jeandeaual/go-locale v0.0.0-20250612000132-0ef82f21eade
	golang.org/x/text v0.42.0
)

require golang.org/x/sys v0.27.0 // indirect
