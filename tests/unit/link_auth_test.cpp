#include "auth/link_auth.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "protocol/request.hpp"

namespace herd::auth {
namespace {

constexpr std::string_view kDiallerNonce = "00000000000000000000000000000000";
constexpr std::string_view kAcceptorNonce = "11111111111111111111111111111111";
static_assert(kDiallerNonce.size() == 32 && kAcceptorNonce.size() == 32);

// Known answers computed outside the project (Python's hmac module) over the documented
// message layout: label, then the names and nonces, joined by '\n'.
TEST(LinkAuth, AcceptorProofIsHmacSha256OfItsView) {
  EXPECT_EQ(acceptor_proof("open sesame", "Juzang", "Clark", kDiallerNonce, kAcceptorNonce),
            "f791660c861d4a04052f50d1c1935ee40ff848b5c03f773734b96b7dee4627cf");
}

TEST(LinkAuth, DiallerProofIsHmacSha256OfItsView) {
  EXPECT_EQ(dialler_proof("open sesame", "Clark", "Juzang", kAcceptorNonce, kDiallerNonce),
            "11174e93929806cf21abe80a9cf6ae08e0904ab465365fc41223fc77b4208835");
}

TEST(LinkAuth, ProofsDependOnEverySecretNameAndNonce) {
  const auto base = acceptor_proof("s", "Juzang", "Clark", kDiallerNonce, kAcceptorNonce);
  EXPECT_NE(base, acceptor_proof("t", "Juzang", "Clark", kDiallerNonce, kAcceptorNonce));
  EXPECT_NE(base, acceptor_proof("s", "Bernard", "Clark", kDiallerNonce, kAcceptorNonce));
  EXPECT_NE(base, acceptor_proof("s", "Juzang", "Jaquez", kDiallerNonce, kAcceptorNonce));
  EXPECT_NE(base, acceptor_proof("s", "Juzang", "Clark", kAcceptorNonce, kAcceptorNonce));
  EXPECT_NE(base, acceptor_proof("s", "Juzang", "Clark", kDiallerNonce, kDiallerNonce));
}

TEST(LinkAuth, AProofCannotBeReflectedToTheOtherRole) {
  // The same names and nonces seen from the other side give a different proof.
  EXPECT_NE(acceptor_proof("s", "Juzang", "Clark", kDiallerNonce, kAcceptorNonce),
            dialler_proof("s", "Juzang", "Clark", kDiallerNonce, kAcceptorNonce));
}

TEST(LinkAuth, ProofsHaveTheFormTheParserAccepts) {
  EXPECT_TRUE(protocol::is_proof(dialler_proof("s", "a", "b", kAcceptorNonce, kDiallerNonce)));
}

TEST(LinkAuth, NoncesAreFreshAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto nonce = make_nonce();
    EXPECT_TRUE(protocol::is_nonce(nonce)) << nonce;
    seen.insert(nonce);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(LinkAuth, SameProofComparesWholeStrings) {
  const std::string a(64, 'a');
  EXPECT_TRUE(same_proof(a, a));
  EXPECT_FALSE(same_proof(a, std::string(63, 'a')));
  EXPECT_FALSE(same_proof(a, std::string(63, 'a') + "b"));
  EXPECT_FALSE(same_proof("", a));
}

}  // namespace
}  // namespace herd::auth
