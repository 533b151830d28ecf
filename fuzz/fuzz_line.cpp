// Fuzz target: what a client connection does with the bytes it reads. The stream is cut
// into reads of random sizes and split into lines, which must be the lines the contract
// defines however the reads fall; every line is parsed, an invalid one is echoed exactly,
// and a valid IAMAT becomes a record whose AT line parses back to the same record.
//
// Each input runs as it is and, now and then, with a run of some 16 KiB of filler put into
// it, so that the over-long line limit is crossed in every way the input can arrange.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/fields.hpp"
#include "protocol/line_splitter.hpp"
#include "protocol/location.hpp"
#include "protocol/radius.hpp"
#include "protocol/reply.hpp"
#include "protocol/request.hpp"
#include "protocol/timestamp.hpp"

namespace {

using herd::fuzz::require;
using namespace herd::protocol;

constexpr std::size_t kMaxLine = LineSplitter::kMaxLine;

// The lines of a whole stream, straight from the contract: cut at `\n`, one `\r` before it
// dropped, a last line without `\n` kept (its `\r` too), anything past 16 KiB cut off.
std::vector<Line> contract_lines(std::string_view stream) {
  std::vector<Line> lines;
  const auto add = [&lines](std::string_view text) {
    const bool overlong = text.size() > kMaxLine;
    lines.push_back(Line{std::string(text.substr(0, kMaxLine)), overlong});
  };
  std::size_t start = 0;
  while (start < stream.size()) {
    const std::size_t newline = stream.find('\n', start);
    if (newline == std::string_view::npos) {
      add(stream.substr(start));
      break;
    }
    std::string_view text = stream.substr(start, newline - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    add(text);
    start = newline + 1;
  }
  return lines;
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// `received - sent` as a signed count of whole seconds and nanoseconds, then written the
// way the contract asks; independent of format_time_difference's own arithmetic.
std::string expected_difference(Timestamp received, Timestamp sent) {
  std::int64_t seconds = received.seconds - sent.seconds;
  std::int64_t nanoseconds = std::int64_t{received.nanoseconds} - sent.nanoseconds;
  if (seconds > 0 && nanoseconds < 0) {
    seconds -= 1;
    nanoseconds += 1'000'000'000;
  } else if (seconds < 0 && nanoseconds > 0) {
    seconds += 1;
    nanoseconds -= 1'000'000'000;
  }
  const bool negative = seconds < 0 || nanoseconds < 0;
  std::string fraction = std::to_string(negative ? -nanoseconds : nanoseconds);
  fraction.insert(0, 9 - fraction.size(), '0');
  return (negative ? "-" : "+") + std::to_string(negative ? -seconds : seconds) + "." + fraction;
}

void check_iamat(const std::vector<std::string_view>& fields, const IamAt& iamat,
                 Timestamp received) {
  require(fields.size() == 4 && fields[0] == "IAMAT", "IAMAT has four fields");
  require(iamat.client_id == fields[1] && iamat.location_text == fields[2] &&
              iamat.time_text == fields[3],
          "IAMAT keeps its fields as written");
  require(iamat.location.latitude + iamat.location.longitude == iamat.location_text,
          "location splits into latitude and longitude as written");
  require(parse_client_time(iamat.time_text) == iamat.client_time, "client time re-parses");
  require(iamat.client_time.seconds >= 0 && iamat.client_time.seconds <= 9'999'999'999 &&
              iamat.client_time.nanoseconds >= 0 && iamat.client_time.nanoseconds < 1'000'000'000,
          "client time in range");

  const Record record = make_record("Clark", received, iamat);
  const std::string difference = expected_difference(received, iamat.client_time);
  require(is_time_difference(difference), "difference has the AT form");
  require(record.at_line == "AT Clark " + difference + " " + iamat.client_id + " " +
                                iamat.location_text + " " + iamat.time_text,
          "AT line is the server, the difference and the client's fields");
  require(at_reply(record) == record.at_line + "\n", "AT reply is the AT line and a newline");

  const Request again = parse_request(record.at_line);
  const auto* at = std::get_if<At>(&again);
  require(at != nullptr, "an AT line made for a valid IAMAT parses as AT");
  require(herd::fuzz::same_record(at->record, record), "an AT line re-parses to its record");
}

// Kilometres to metres by moving the decimal point, for a field already known to be
// `D+(.D+)?`: the form parse_radius_metres promises.
std::string metres_of(std::string_view kilometres) {
  const std::size_t point = kilometres.find('.');
  std::string whole(kilometres.substr(0, point));
  std::string fraction(point == std::string_view::npos ? "" : kilometres.substr(point + 1));
  fraction.resize(std::max<std::size_t>(fraction.size(), 3), '0');
  whole += fraction.substr(0, 3);
  fraction.erase(0, 3);
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
  fraction.erase(fraction.find_last_not_of('0') + 1);
  return fraction.empty() ? whole : whole + "." + fraction;
}

void check_whatsat(const std::vector<std::string_view>& fields, const WhatsAt& whatsat) {
  require(fields.size() == 4 && fields[0] == "WHATSAT", "WHATSAT has four fields");
  require(whatsat.client_id == fields[1], "WHATSAT keeps the client ID");
  require(whatsat.bound >= 1 && whatsat.bound <= 20, "bound from 1 to 20");
  const std::string_view bound =
      fields[3].substr(std::min(fields[3].find_first_not_of('0'), fields[3].size()));
  require(all_digits(fields[3]) && bound == std::to_string(whatsat.bound),
          "bound is the field's value");
  require(metres_of(fields[2]) == whatsat.radius_metres, "radius converted exactly to metres");
  const std::string& metres = whatsat.radius_metres;
  const std::string whole = metres.substr(0, metres.find('.'));
  require(all_digits(whole) && whole.size() <= 5, "radius in metres below 100000");
  const int whole_metres = std::stoi(whole);
  require(metres != "0" && (whole_metres < 50'000 || metres == "50000"),
          "radius over 0 and at most 50 km");
}

void check_line(const Line& line, Timestamp received) {
  require(line.text.size() <= kMaxLine, "no line longer than 16 KiB");
  require(!line.overlong || line.text.size() == kMaxLine, "an over-long line keeps 16 KiB");
  require(invalid_reply(line.text) == "? " + line.text + "\n", "an invalid line is echoed exactly");
  if (is_blank(line.text)) return;

  const auto fields = split_fields(line.text);
  require(!fields.empty(), "a line that is not blank has fields");
  for (const auto field : fields) {
    require(!field.empty(), "fields are not empty");
    for (const char c : field) require(!is_space(c), "fields hold no white space");
  }

  const Request request = parse_request(line.text);
  if (const auto* iamat = std::get_if<IamAt>(&request)) {
    check_iamat(fields, *iamat, received);
  } else if (const auto* whatsat = std::get_if<WhatsAt>(&request)) {
    check_whatsat(fields, *whatsat);
  } else if (const auto* at = std::get_if<At>(&request)) {
    const Request again = parse_request(at->record.at_line);
    const auto* same = std::get_if<At>(&again);
    require(same != nullptr && herd::fuzz::same_record(same->record, at->record),
            "an AT line re-parses to its record");
  }
}

void run(std::string_view stream, herd::fuzz::Random& random) {
  const std::vector<Line> lines = herd::fuzz::split_in_reads(stream, random);
  require(lines == contract_lines(stream), "lines do not depend on how reads fall");
  const Timestamp received = herd::fuzz::random_clock(random);
  for (const Line& line : lines) check_line(line, received);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::uint64_t hash = herd::fuzz::hash_bytes(input);
  herd::fuzz::Random random(hash);
  run(input, random);
  // The 16 KiB pass costs a hundred short ones; one input in four is enough to reach every
  // branch of the limit.
  if (random.below(4) != 0) return 0;

  // Filler lengths around the limit, at a place and of a kind the input decides.
  const std::size_t at = static_cast<std::size_t>(random.below(size + 1));
  const std::size_t length = kMaxLine - 8 + static_cast<std::size_t>(random.below(16));
  static constexpr char kFiller[] = {'x', '\r', ' '};
  const char filler = kFiller[random.below(sizeof kFiller)];
  std::string inflated(input.substr(0, at));
  inflated.append(length, filler);
  inflated.append(input.substr(at));
  run(inflated, random);
  return 0;
}
