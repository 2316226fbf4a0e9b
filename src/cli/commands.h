// Subcommands of `kizuna` that live outside main.cc: `demo` (three federated
// nodes on loopback). A capability's own subcommands come from its platform
// module (e.g. `peer …` from federation/module.h), see daemon::NodeModules. Each Add…Command
// registers its subcommand on the app; its callback stores the exit code in *code.
#pragma once

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace kizuna::cli {

// Prints `status` as one line on stderr ("kizuna: …"); returns the exit code
// (2 for bad input, 1 otherwise).
int Fail(const Status& status);

void AddDemoCommand(CLI::App& app, int* code);
// `sensor report` and `sensor synth` (sensor.cc): darknet captures, no node.
void AddSensorCommands(CLI::App& app, int* code);
// `kizuna sensor upload|run` (sensor_upload.cc), under the `sensor` command.
void AddSensorUploadCommands(CLI::App* sensor, int* code);

}  // namespace kizuna::cli
