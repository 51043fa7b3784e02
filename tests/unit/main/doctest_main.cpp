// The doctest runner linked into every test executable, so that test files hold nothing but test cases.
// It lives outside tests/unit/*.cpp so the unit globs never pick it up twice.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
