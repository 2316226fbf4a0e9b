// `kizuna peer add|remove|list|audit DIR …`: federation partners as [[peer]]
// entries of DIR/kizuna.toml (a running node follows the file), the status
// the running node persists for each, and the audit log. Registered by the
// peers module (federation/module.h) on the CLI application.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace kizuna::federation {

// Adds `peer` and its subcommands to `app`; a command's callback stores its
// exit code in *code.
void AddPeerCommands(CLI::App& app, int* code);

}  // namespace kizuna::federation
