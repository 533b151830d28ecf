#include "protocol/reply.hpp"

namespace herd::protocol {

Record make_record(std::string_view server, Timestamp received, const IamAt& iamat) {
  std::string at_line = "AT ";
  at_line += server;
  at_line += ' ';
  at_line += format_time_difference(received, iamat.client_time);
  at_line += ' ';
  at_line += iamat.client_id;
  at_line += ' ';
  at_line += iamat.location_text;
  at_line += ' ';
  at_line += iamat.time_text;
  return Record{iamat.client_id, iamat.location, iamat.client_time, std::move(at_line)};
}

std::string at_reply(const Record& record) {
  return record.at_line + "\n";
}

std::string invalid_reply(std::string_view line) {
  std::string reply = "? ";
  reply += line;
  reply += '\n';
  return reply;
}

std::string whatsat_reply(const Record& record, std::string_view places_json) {
  std::string reply = record.at_line;
  reply += '\n';
  reply += places_json;
  reply += "\n\n";
  return reply;
}

std::string hello_line(std::string_view server, std::string_view nonce) {
  std::string line = "HERD ";
  line += server;
  if (!nonce.empty()) {
    line += ' ';
    line += nonce;
  }
  line += '\n';
  return line;
}

}  // namespace herd::protocol
