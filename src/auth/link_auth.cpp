#include "auth/link_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace herd::auth {

namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

// Fields joined by '\n', which no name or nonce can hold, so distinct inputs never collide.
std::string proof(std::string_view secret, std::string_view label,
                  std::initializer_list<std::string_view> fields) {
  std::string message(label);
  for (const auto field : fields) {
    message += '\n';
    message += field;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(),
           &size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return hex(mac.data(), size);
}

}  // namespace

std::string make_nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no random bytes for a link nonce");
  }
  return hex(bytes.data(), bytes.size());
}

std::string acceptor_proof(std::string_view secret, std::string_view acceptor,
                           std::string_view dialler, std::string_view dialler_nonce,
                           std::string_view acceptor_nonce) {
  return proof(secret, "herd-link-acceptor", {acceptor, dialler, dialler_nonce, acceptor_nonce});
}

std::string dialler_proof(std::string_view secret, std::string_view dialler,
                          std::string_view acceptor, std::string_view acceptor_nonce,
                          std::string_view dialler_nonce) {
  return proof(secret, "herd-link-dialler", {dialler, acceptor, acceptor_nonce, dialler_nonce});
}

bool same_proof(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace herd::auth
