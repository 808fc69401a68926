// The doctest main, compiled once (CMake object library cmeter_doctest_main) and linked into the
// unit, reports and stub-plugin test binaries.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
