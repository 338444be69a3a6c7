#include "proctape/record/redactor.h"

namespace proctape::record {

// libstdc++ matches by default with a depth-first executor that recurses once
// per character a loop consumes: "token=\S+" over an argument of 30 KB or more
// overflowed the enricher's stack (any user's long command line crashed a
// system-wide recorder). __polynomial, libstdc++'s flag for its breadth-first
// executor, keeps the stack flat and the time linear in the text, at the
// price of back-references, which are refused here.
constexpr auto kSyntax = std::regex::ECMAScript | std::regex::optimize | std::regex_constants::__polynomial;

Result<Redactor> Redactor::create(const std::vector<std::string>& patterns) {
  Redactor redactor;
  for (const auto& pattern : patterns) {
    if (pattern.empty()) return Error{"--redact '': an empty pattern matches nothing; give what to hide"};
    try {
      redactor.patterns_.emplace_back(pattern, kSyntax);
    } catch (const std::regex_error& e) {
      return Error{"--redact '" + pattern + "' is no valid regular expression (ECMAScript syntax, without "
                   "back-references): " + e.what()};
    }
  }
  return redactor;
}

std::string Redactor::apply(const std::string& text) const {
  std::string out = text;
  for (const auto& pattern : patterns_) {
    // An empty match would insert *** between every character: skip those.
    std::string next;
    auto begin = out.cbegin();
    for (std::sregex_iterator it(out.begin(), out.end(), pattern), end; it != end; ++it) {
      if (it->length(0) == 0) continue;
      next.append(begin, (*it)[0].first).append("***");
      begin = (*it)[0].second;
    }
    next.append(begin, out.cend());
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
