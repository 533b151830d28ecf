"""What a WHATSAT reply must hold, computed here from the upstream's bytes with small
logic of its own (cutting the text, not re-serialising), so the herd's own JSON code
is checked rather than copied."""
import json
import re

_RESULTS_OPEN = re.compile(rb'\n   "results" : \[')


def newline_rule(text: bytes) -> bytes:
    """Every run of two or more newlines becomes one; trailing newlines go."""
    return re.sub(rb"\n{2,}", b"\n", text).rstrip(b"\n")


def result_spans(text: bytes) -> list[tuple[int, int]]:
    """(start, end) byte offsets of each element of the top-level `results` array."""
    match = _RESULTS_OPEN.search(text)
    if match is None:
        raise ValueError("no top-level results array")
    decoded = text.decode("utf-8")
    # Work on str offsets, then map back to bytes.
    pos = len(text[:match.end()].decode("utf-8"))
    decoder = json.JSONDecoder()
    spans = []
    while True:
        while decoded[pos] in " \n":
            pos += 1
        if decoded[pos] == "]":
            break
        _, end = decoder.raw_decode(decoded, pos)
        spans.append((len(decoded[:pos].encode()), len(decoded[:end].encode())))
        pos = end
        while decoded[pos] in " \n":
            pos += 1
        if decoded[pos] == ",":
            pos += 1
    return spans


def bounded(text: bytes, bound: int) -> bytes:
    """Google's body with only the first `bound` results, still in Google's layout."""
    spans = result_spans(text)
    if bound >= len(spans):
        return text
    # Keep everything up to the end of the last kept element, then whatever followed the
    # last element (the newline and indent before `]`, and the rest of the document).
    return text[:spans[bound - 1][1]] + text[spans[-1][1]:]


def whatsat_reply(at_line: bytes, upstream_body: bytes, bound: int) -> bytes:
    return at_line + b"\n" + newline_rule(bounded(upstream_body, bound)) + b"\n\n"


_JSON_STRING = rb'"(?:[^"\\\x00-\x1f<>]|\\["\\/bfnrt]|\\u[0-9a-f]{4})+"'
UNKNOWN_ERROR_BODY = re.compile(
    rb'\{\n   "error_message" : ' + _JSON_STRING + rb',\n'
    rb'   "html_attributions" : \[\],\n'
    rb'   "results" : \[\],\n'
    rb'   "status" : "UNKNOWN_ERROR"\n\}')


def is_unknown_error_reply(reply: bytes, at_line: bytes) -> bool:
    head = at_line + b"\n"
    if not (reply.startswith(head) and reply.endswith(b"\n\n")):
        return False
    return UNKNOWN_ERROR_BODY.fullmatch(reply[len(head):-2]) is not None
