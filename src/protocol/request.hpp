// Parsing one protocol line into what it asks for. Pure: no I/O, no clock, no state.
//
// The parser checks form and range only. Whether an AT line is acceptable from a given
// connection, or whether a WHATSAT names a known client, is for the caller to decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/catch_up.hpp"
#include "protocol/record.hpp"

namespace herd::protocol {

// `IAMAT client location time`.
struct IamAt {
  std::string client_id;
  Location location;
  std::string location_text;  // exactly as the client wrote it
  Timestamp client_time;
  std::string time_text;  // exactly as the client wrote it
};

// `WHATSAT client radius bound`.
struct WhatsAt {
  std::string client_id;
  std::string radius_metres;  // exact decimal, see parse_radius_metres
  int bound = 0;
};

// `AT server difference client location time`: a record flooded by a neighbour.
struct At {
  Record record;
};

// `HERD server [nonce]`: the first line a neighbour sends on a link it dialled; the nonce
// opens the authentication handshake (auth/link_auth.hpp) when the herd has a secret.
struct Hello {
  std::string server_name;
  std::string nonce;  // empty without one
};

// `PROOF mac`: the dialling neighbour's answer to our CHALLENGE.
struct Proof {
  std::string mac;
};

// `MARK store lsn`: a neighbour has sent us every record of its store up to `lsn`.
struct Mark {
  StorePosition position;
};

struct Invalid {};

using Request = std::variant<Invalid, IamAt, WhatsAt, At, Hello, Proof, Mark>;

// The line must not be blank (see is_blank); a blank line gets no reply at all.
Request parse_request(std::string_view line);

bool is_blank(std::string_view line);

// The forms of the handshake's fields: 32 and 64 lower-case hex digits.
bool is_nonce(std::string_view text);
bool is_proof(std::string_view text);

// `CHALLENGE nonce mac`: what an accepting neighbour answers to `HERD server nonce`.
struct Challenge {
  std::string nonce;
  std::string mac;
};
std::optional<Challenge> parse_challenge(std::string_view line);

}  // namespace herd::protocol
