// The places JSON a WHATSAT reply carries, shaped from the places source's own text.
//
// Google's bytes are kept as they came: only surplus `results` entries are cut out (with
// their commas) and runs of newlines collapsed. No JSON library re-serialises the text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herd::protocol {

// Keeps the first `bound` entries of the top-level `results` array. The text must be one
// JSON object (checked with a real parser); nullopt otherwise. A body without a `results`
// array, or with no more than `bound` entries, comes back unchanged.
std::optional<std::string> trim_results(std::string_view body, int bound);

// Every run of two or more newlines becomes one; trailing newlines go.
std::string collapse_newlines(std::string_view text);

// A body of the legacy shape for a failure the herd reports itself:
// `error_message`, `html_attributions` [], `results` [], `status`, in Google's layout.
std::string places_error_body(std::string_view status, std::string_view message);

}  // namespace herd::protocol
