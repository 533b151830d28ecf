#include "protocol/places_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <utility>
#include <vector>

#include "json/styled_writer.hpp"

namespace herd::protocol {

namespace {

// A scanner over text already known to be valid JSON: it only finds where values begin and
// end, so that surplus results can be cut out without touching any other byte.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void advance() { ++pos_; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  // Skips one value of any kind, nested containers included.
  void skip_value() {
    const char first = peek();
    if (first == '"') {
      skip_string();
    } else if (first == '{' || first == '[') {
      std::size_t depth = 0;
      while (!at_end()) {
        const char c = peek();
        if (c == '"') {
          skip_string();
          continue;
        }
        ++pos_;
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && --depth == 0) return;
      }
    } else {
      while (!at_end() && peek() != ',' && peek() != ']' && peek() != '}' && peek() != ' ' &&
             peek() != '\t' && peek() != '\n' && peek() != '\r') {
        ++pos_;
      }
    }
  }

  void skip_string() {
    ++pos_;  // the opening quote
    while (!at_end()) {
      const char c = text_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '"') {
        return;
      }
    }
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool is_results_key(std::string_view token) {
  if (token.find('\\') == std::string_view::npos) return token == "\"results\"";
  // A key spelt with escapes: let the real parser decode it.
  boost::system::error_code error;
  const auto key = boost::json::parse(token, error);
  return !error && key.is_string() && key.get_string() == "results";
}

// The byte range [first, second) that cuts a `results` array starting at the scanner's
// position down to `bound` elements; an empty range when nothing is to go.
std::pair<std::size_t, std::size_t> surplus_of_array(Scanner& scanner, std::size_t bound) {
  scanner.advance();  // '['
  const std::size_t after_open = scanner.pos();
  std::size_t count = 0;
  std::size_t keep_end = after_open;
  std::size_t last_end = after_open;
  scanner.skip_space();
  while (!scanner.at_end() && scanner.peek() != ']') {
    scanner.skip_value();
    ++count;
    last_end = scanner.pos();
    if (count == bound) keep_end = last_end;
    scanner.skip_space();
    if (scanner.peek() == ',') {
      scanner.advance();
      scanner.skip_space();
    }
  }
  scanner.advance();  // ']'
  if (count <= bound) return {0, 0};
  return {keep_end, last_end};
}

}  // namespace

std::optional<std::string> trim_results(std::string_view body, int bound) {
  boost::system::error_code error;
  const auto parsed = boost::json::parse(body, error);
  if (error || !parsed.is_object()) return std::nullopt;

  const std::size_t keep = bound < 0 ? 0 : static_cast<std::size_t>(bound);
  std::vector<std::pair<std::size_t, std::size_t>> cuts;
  Scanner scanner(body);
  scanner.skip_space();
  scanner.advance();  // '{'
  scanner.skip_space();
  while (!scanner.at_end() && scanner.peek() != '}') {
    const std::size_t key_start = scanner.pos();
    scanner.skip_string();
    const std::string_view key = body.substr(key_start, scanner.pos() - key_start);
    scanner.skip_space();
    scanner.advance();  // ':'
    scanner.skip_space();
    if (scanner.peek() == '[' && is_results_key(key)) {
      const auto cut = surplus_of_array(scanner, keep);
      if (cut.second > cut.first) cuts.push_back(cut);
    } else {
      scanner.skip_value();
    }
    scanner.skip_space();
    if (scanner.peek() == ',') {
      scanner.advance();
      scanner.skip_space();
    }
  }

  std::string trimmed;
  trimmed.reserve(body.size());
  std::size_t from = 0;
  for (const auto& [first, second] : cuts) {
    trimmed.append(body.substr(from, first - from));
    from = second;
  }
  trimmed.append(body.substr(from));
  return trimmed;
}

std::string collapse_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n' && !out.empty() && out.back() == '\n') continue;
    out += c;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string places_error_body(std::string_view status, std::string_view message) {
  boost::json::object body;
  body["error_message"] = message;
  body["html_attributions"] = boost::json::array{};
  body["results"] = boost::json::array{};
  body["status"] = status;
  return json::write_styled(body);
}

}  // namespace herd::protocol
