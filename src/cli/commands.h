// Subcommands of `kizuna` that live outside main.cc: `peer …` (federation
// partners in kizuna.toml, their status and the audit log) and `demo`
// (three federated nodes on loopback). Each Add…Command registers its
// subcommand on the app; its callback stores the exit code in *code.
#pragma once

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace kizuna::cli {

// Prints `status` as one line on stderr ("kizuna: …"); returns the exit code
// (2 for bad input, 1 otherwise).
int Fail(const Status& status);

void AddPeerCommand(CLI::App& app, int* code);
void AddDemoCommand(CLI::App& app, int* code);

}  // namespace kizuna::cli
