// Redactor: replaces every match of the --redact patterns with "***" in
// command lines before anything is written (CI command lines carry tokens).
//
// Patterns are ECMAScript regular expressions matched within each argument
// separately (and within exe and cwd), so "--token=\S+" or "ghp_[A-Za-z0-9]+"
// work; a secret passed as the argument after a flag is matched by its own shape.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "proctape/format/records.h"
#include "proctape/format/result.h"

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
  std::vector<std::regex> patterns_;
};

}  // namespace proctape::record
