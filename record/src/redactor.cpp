#include "proctape/record/redactor.h"

#include <re2/re2.h>

namespace proctape::record {

// std::regex, used before, recursed per character (a 30 KB argument
// overflowed the stack) and, even breadth-first, searched from every start
// position: ".*secret" over 20 KB of one argument took 10.5 s, on the enricher's
// real-time thread. RE2 is linear in the text. Latin-1 makes it match bytes:
// a command line need not be UTF-8, and a secret in it must not slip past a
// pattern because of one invalid byte.
Result<Redactor> Redactor::create(const std::vector<std::string>& patterns) {
  Redactor redactor;
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_log_errors(false);
  for (const auto& pattern : patterns) {
    if (pattern.empty()) return Error{"--redact '': an empty pattern matches nothing; give what to hide"};
    auto compiled = std::make_shared<const RE2>(pattern, options);
    if (!compiled->ok())
      return Error{"--redact '" + pattern + "' is no valid regular expression (RE2 syntax: no back-references "
                   "or look-around): " + compiled->error()};
    redactor.patterns_.push_back(std::move(compiled));
  }
  return redactor;
}

std::string Redactor::apply(const std::string& text) const {
  std::string out = text;
  for (const auto& pattern : patterns_) {
    std::string next;
    size_t copied = 0;
    size_t from = 0;
    re2::StringPiece match;
    while (from <= out.size() && pattern->Match(out, from, out.size(), RE2::UNANCHORED, &match, 1)) {
      size_t start = size_t(match.data() - out.data());
      if (match.empty()) {  // it would insert *** between every character: skip it
        from = start + 1;
        continue;
      }
      next.append(out, copied, start - copied).append("***");
      copied = from = start + match.size();
    }
    next.append(out, copied);
    out = std::move(next);
  }
  return out;
}

void Redactor::apply(std::vector<std::string>& args) const {
  if (empty()) return;
  for (auto& arg : args) arg = apply(arg);
}

void Redactor::apply(format::ProcessInfo& info) const {
  if (empty()) return;
  apply(info.argv);
  info.exe = apply(info.exe);
  info.cwd = apply(info.cwd);
  info.comm = apply(info.comm);  // the executable's name, up to 15 bytes of it
}

}  // namespace proctape::record
