#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace footfall::http {
namespace {

std::string OpenSslReason(const boost::system::error_code& error) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
  }
  return error.message();
}

}  // namespace

StatusOr<std::shared_ptr<boost::asio::ssl::context>> LoadTlsContext(const std::string& certificate_file,
                                                                   const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return InternalError("cannot require TLS 1.2");
  }
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  boost::system::error_code error;
  context->use_certificate_chain_file(certificate_file, error);
  if (error) {
    return InvalidArgumentError("TLS certificate " + certificate_file + ": " + OpenSslReason(error));
  }
  context->use_private_key_file(key_file, ssl::context::pem, error);
  if (error) return InvalidArgumentError("TLS key " + key_file + ": " + OpenSslReason(error));
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("TLS key " + key_file + " does not match the certificate " +
                                certificate_file);
  }
  return context;
}

}  // namespace footfall::http
