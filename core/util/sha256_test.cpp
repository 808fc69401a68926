// Tests for SHA-256 against the FIPS 180-2 vectors.
#include "core/util/sha256.h"

#include <doctest/doctest.h>

TEST_CASE("sha256 matches the standard vectors") {
  CHECK(cmeter::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(cmeter::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK_FALSE(cmeter::sha256_file_hex("/nonexistent/file").ok());
}
