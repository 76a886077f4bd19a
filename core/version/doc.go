// Package version owns the one order of version strings that the whole
// program uses: catalog versions ("9" < "10" < "10.1"), build serials
// ("20260720" < "20260720.1") and cache listings sort by Compare.
package version
