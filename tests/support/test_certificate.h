// Test support: a self-signed TLS certificate for 127.0.0.1 and localhost,
// written as PEM files, for tests of HTTPS servers and clients (http_test,
// the federation end-to-end tests).
#pragma once

#include <string>

namespace kizuna::test_support {

struct TestCertificate {
  std::string cert_file;  // PEM
  std::string key_file;   // PEM (P-256)
  std::string sha256;     // hex SHA-256 of the DER certificate (what a pin names)
};

// Writes DIR/test-cert.pem and DIR/test-key.pem; DIR must exist.
TestCertificate MakeTestCertificate(const std::string& dir);

}  // namespace kizuna::test_support
