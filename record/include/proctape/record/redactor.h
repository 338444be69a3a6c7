// Redactor: replaces every match of the --redact patterns with "***" in
// command lines before anything is written (CI command lines carry tokens).
//
// Patterns are RE2 regular expressions (the common Perl/ECMAScript syntax,
// without back-references or look-around), matched byte-wise within each
// argument separately (and within exe, cwd and comm), so "--token=\S+" or
// "ghp_[A-Za-z0-9]+" work; a secret passed as the argument after a flag is
// matched by its own shape. RE2 takes time linear in the text whatever the
// pattern: the enricher applies them to any user's command lines.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proctape/format/records.h"
#include "proctape/format/result.h"

namespace re2 {
class RE2;
}

namespace proctape::record {

class Redactor {
 public:
  // Errors name the pattern that does not compile.
  static Result<Redactor> create(const std::vector<std::string>& patterns);
  Redactor() = default;

  bool empty() const { return patterns_.empty(); }
  // Returns `text` with every match of every pattern replaced by "***".
  std::string apply(const std::string& text) const;
  void apply(std::vector<std::string>& args) const;
  // argv, exe and cwd of one process.
  void apply(format::ProcessInfo& info) const;

 private:
  std::vector<std::shared_ptr<const re2::RE2>> patterns_;  // shared by copies: matching is const
};

}  // namespace proctape::record
