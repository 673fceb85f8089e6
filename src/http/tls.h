// TLS for the HTTP listener: a server context from PEM certificate-chain and private-key files,
// TLS 1.2 or newer only. Thread-compatible: build a new context to reload, then swap it in.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "base/status.h"

namespace footfall::http {

// Errors: kInvalidArgument naming the file that could not be read or used (a missing file, not
// PEM, a key that does not match the certificate).
StatusOr<std::shared_ptr<boost::asio::ssl::context>> LoadTlsContext(const std::string& certificate_file,
                                                                   const std::string& key_file);

}  // namespace footfall::http
