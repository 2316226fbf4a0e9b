// How a module that sends e-mail (alerting, coordination) reads its mail
// settings from its own section of kizuna.toml, so every module takes the
// same keys with the same checks:
//   smtp_url          smtp://host:port or smtps://host:port; no e-mail without it
//   smtp_from         the From ("kizuna JP-CERT <alerts@example.jp>"); needed with smtp_url
//   smtp_username, smtp_password_file   AUTH (the password is read from the
//                     file, relative to the node directory, never logged)
//   smtp_starttls (true), smtp_allow_plain_remote (false), smtp_ca_file
//   pgp_key, gnupg_home   sign (PGP/MIME) with this key's fingerprint
//
// Functions only; plain values.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "mail/mail.h"
#include "node/config_section.h"

namespace kizuna::mail {

struct MailSettings {
  bool configured = false;  // smtp_url given
  SmtpConfig smtp;
  std::string from;
  std::optional<Signer> signer;
  std::string password_file;  // smtp_password_file as written
};

// Reads the keys above from `section` into *mail (failures recorded in the
// section, naming the key).
void ReadMailSettings(node::ConfigSection& section, MailSettings* mail);

// Reads mail->password_file (when set; relative to `node_dir`) into
// mail->smtp.password, without its line end. `section` names the section
// in the error.
Status LoadMailPassword(const std::string& node_dir, std::string_view section, MailSettings* mail);

}  // namespace kizuna::mail
