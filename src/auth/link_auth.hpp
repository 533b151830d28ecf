// How two neighbours prove to each other that they hold the herd's shared secret, without
// sending it: an HMAC-SHA256 challenge-response over a fresh nonce from each side.
//
//   dialler  -> acceptor   HERD <dialler> <nonce_d>
//   acceptor -> dialler    CHALLENGE <nonce_a> <proof_a>   proof_a = HMAC(secret, acceptor's view)
//   dialler  -> acceptor   PROOF <proof_d>                 proof_d = HMAC(secret, dialler's view)
//
// Each proof covers both names and both nonces, with a label that says which side made it,
// so a proof cannot be replayed on another connection (the other side's nonce is new each
// time) nor reflected back to its maker. Pure functions but for make_nonce's randomness.
#pragma once

#include <string>
#include <string_view>

namespace herd::auth {

// 16 random bytes from OpenSSL's generator, as 32 lower-case hex digits.
std::string make_nonce();

std::string acceptor_proof(std::string_view secret, std::string_view acceptor,
                           std::string_view dialler, std::string_view dialler_nonce,
                           std::string_view acceptor_nonce);

std::string dialler_proof(std::string_view secret, std::string_view dialler,
                          std::string_view acceptor, std::string_view acceptor_nonce,
                          std::string_view dialler_nonce);

// Compares in time independent of where the strings differ.
bool same_proof(std::string_view a, std::string_view b);

}  // namespace herd::auth
