// Package profiletest holds what the tests of spec and its subpackages
// share: the seed's profiles, as JSON and parsed, and small file helpers.
// Only tests import it.
package profiletest
