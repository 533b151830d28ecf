#include "json/styled_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

namespace herd::json {

namespace {

// JsonCpp's right margin: an array whose one-line form would reach it goes one element a line.
constexpr std::size_t kRightMargin = 74;
constexpr std::size_t kIndentWidth = 3;

void write_quoted(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        // '<' and '>' are escaped as Google does, so a body is safe to embed in HTML.
        if (byte < 0x20 || c == '<' || c == '>') {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void write_double(double number, std::string& out) {
  if (!std::isfinite(number)) {  // JSON has no spelling for these
    out += "null";
    return;
  }
  // to_chars with precision 16 prints what printf("%.16g") prints in the C locale, without
  // depending on the process's locale.
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::general, 16);
  out.append(buffer, result.ptr);
}

// A scalar or an empty container: text that never spans lines.
std::string write_flat(const boost::json::value& value) {
  std::string out;
  switch (value.kind()) {
    case boost::json::kind::null:
      out = "null";
      break;
    case boost::json::kind::bool_:
      out = value.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      out = std::to_string(value.get_int64());
      break;
    case boost::json::kind::uint64:
      out = std::to_string(value.get_uint64());
      break;
    case boost::json::kind::double_:
      write_double(value.get_double(), out);
      break;
    case boost::json::kind::string:
      write_quoted(value.get_string(), out);
      break;
    case boost::json::kind::array:
      out = "[]";
      break;
    case boost::json::kind::object:
      out = "{}";
      break;
  }
  return out;
}

bool is_nonempty_container(const boost::json::value& value) {
  return (value.is_array() && !value.get_array().empty()) ||
         (value.is_object() && !value.get_object().empty());
}

void new_line(std::size_t depth, std::string& out) {
  out += '\n';
  out.append(depth * kIndentWidth, ' ');
}

void write_value(const boost::json::value& value, std::size_t depth, std::string& out);

void write_object(const boost::json::object& object, std::size_t depth, std::string& out) {
  std::vector<const boost::json::key_value_pair*> members;
  members.reserve(object.size());
  for (const auto& member : object) members.push_back(&member);
  // string_view compares through char_traits<char>, which orders bytes as unsigned char.
  std::sort(members.begin(), members.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  out += '{';
  bool first = true;
  for (const auto* member : members) {
    if (!first) out += ',';
    first = false;
    new_line(depth + 1, out);
    write_quoted(member->key(), out);
    out += " : ";
    write_value(member->value(), depth + 1, out);
  }
  new_line(depth, out);
  out += '}';
}

void write_array(const boost::json::array& array, std::size_t depth, std::string& out) {
  bool multiline = array.size() * 3 >= kRightMargin;  // 25 elements or more
  for (const auto& element : array) {
    if (multiline) break;
    multiline = is_nonempty_container(element);
  }
  std::vector<std::string> flat;
  if (!multiline) {
    // The one-line form: "[ " + elements joined by ", " + " ]".
    std::size_t length = 4 + (array.size() - 1) * 2;
    for (const auto& element : array) {
      flat.push_back(write_flat(element));
      length += flat.back().size();
    }
    if (length < kRightMargin) {
      out += "[ ";
      for (std::size_t i = 0; i < flat.size(); ++i) {
        if (i > 0) out += ", ";
        out += flat[i];
      }
      out += " ]";
      return;
    }
  }
  out += '[';
  bool first = true;
  for (const auto& element : array) {
    if (!first) out += ',';
    first = false;
    new_line(depth + 1, out);
    write_value(element, depth + 1, out);
  }
  new_line(depth, out);
  out += ']';
}

void write_value(const boost::json::value& value, std::size_t depth, std::string& out) {
  if (value.is_array() && !value.get_array().empty()) {
    write_array(value.get_array(), depth, out);
  } else if (value.is_object() && !value.get_object().empty()) {
    write_object(value.get_object(), depth, out);
  } else {
    out += write_flat(value);
  }
}

}  // namespace

std::string write_styled(const boost::json::value& value) {
  std::string out;
  write_value(value, 0, out);
  out += '\n';
  return out;
}

}  // namespace herd::json
