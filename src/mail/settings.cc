#include "mail/settings.h"

#include <filesystem>
#include <fstream>

namespace kizuna::mail {

void ReadMailSettings(node::ConfigSection& section, MailSettings* mail) {
  std::string pgp_key, gnupg_home;
  section.String("smtp_url", &mail->smtp.url);
  section.String("smtp_from", &mail->from);
  section.String("smtp_username", &mail->smtp.username);
  section.String("smtp_password_file", &mail->password_file);
  section.Bool("smtp_starttls", &mail->smtp.starttls);
  section.Bool("smtp_allow_plain_remote", &mail->smtp.allow_plain_remote);
  section.String("smtp_ca_file", &mail->smtp.ca_file);
  section.String("pgp_key", &pgp_key);
  section.String("gnupg_home", &gnupg_home);
  mail->configured = !mail->smtp.url.empty();
  if (mail->configured) {
    if (mail->from.empty()) section.Fail("smtp_from", "needed with smtp_url");
    Status checked = CheckConfig(mail->smtp);
    if (!checked.ok()) section.Fail("smtp_url", checked.message());
  }
  if (!pgp_key.empty()) mail->signer = Signer{gnupg_home, pgp_key, ""};
}

Status LoadMailPassword(const std::string& node_dir, std::string_view section, MailSettings* mail) {
  if (mail->password_file.empty()) return Status::Ok();
  std::filesystem::path path(mail->password_file);
  if (path.is_relative()) path = std::filesystem::path(node_dir) / path;
  std::ifstream in(path);
  if (!in) {
    return InvalidArgument(std::string(section) + ".smtp_password_file: cannot read " +
                           path.string());
  }
  std::string password;
  std::getline(in, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) {
    password.pop_back();
  }
  mail->smtp.password = std::move(password);
  return Status::Ok();
}

}  // namespace kizuna::mail
