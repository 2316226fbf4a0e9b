// BuildSignedMime: RFC 3156 PGP/MIME multipart/signed with a detached
// signature made by GPGME (which runs gpg and its agent for `gnupg_home`).
#include <gpgme.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "mail/mail.h"
#include "mail/mime.h"

namespace kizuna::mail {
namespace {

struct ContextDeleter {
  void operator()(gpgme_ctx_t ctx) const { gpgme_release(ctx); }
};
struct DataDeleter {
  void operator()(gpgme_data_t data) const { gpgme_data_release(data); }
};
struct KeyDeleter {
  void operator()(gpgme_key_t key) const { gpgme_key_unref(key); }
};
using Context = std::unique_ptr<std::remove_pointer_t<gpgme_ctx_t>, ContextDeleter>;
using Data = std::unique_ptr<std::remove_pointer_t<gpgme_data_t>, DataDeleter>;
using Key = std::unique_ptr<std::remove_pointer_t<gpgme_key_t>, KeyDeleter>;

std::string ErrorText(gpgme_error_t err) {
  char buf[256];
  gpgme_strerror_r(err, buf, sizeof buf);
  return std::string(buf) + " (" + gpgme_strsource(err) + ")";
}

Status Failed(const std::string& what, gpgme_error_t err) {
  return Internal("OpenPGP signing: " + what + ": " + ErrorText(err));
}

// GPGME needs its version checked once per process before any other call.
Status InitGpgme() {
  static std::once_flag once;
  static const char* version = nullptr;
  std::call_once(once, [] { version = gpgme_check_version(nullptr); });
  if (!version) return Internal("OpenPGP signing: GPGME could not be initialised");
  return Status::Ok();
}

// The passphrase by pinentry loopback; a key without one never asks.
gpgme_error_t Passphrase(void* hook, const char*, const char*, int prev_was_bad, int fd) {
  const auto* passphrase = static_cast<const std::string*>(hook);
  if (passphrase->empty() || prev_was_bad) return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
  std::string line = *passphrase + "\n";
  if (gpgme_io_writen(fd, line.data(), line.size()) != 0) return gpgme_error(GPG_ERR_EIO);
  return 0;
}

Result<std::string> ReadAll(gpgme_data_t data) {
  std::string out;
  if (gpgme_data_seek(data, 0, SEEK_SET) != 0)
    return Internal("OpenPGP signing: cannot read the signature");
  char buf[4096];
  ssize_t n;
  while ((n = gpgme_data_read(data, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) return Internal("OpenPGP signing: cannot read the signature");
  return out;
}

// A detached, armoured signature over `text` and the name of its hash.
Result<std::pair<std::string, std::string>> DetachedSignature(std::string_view text,
                                                              const Signer& signer) {
  KIZUNA_RETURN_IF_ERROR(InitGpgme());
  std::string fpr = signer.key_fingerprint;
  fpr.erase(std::remove(fpr.begin(), fpr.end(), ' '), fpr.end());
  if (fpr.size() < 40 || !std::all_of(fpr.begin(), fpr.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      })) {
    return InvalidArgument(
        "OpenPGP signing: key_fingerprint must be the key's full fingerprint (hex)");
  }
  gpgme_error_t err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
  if (err) return Failed("GnuPG (gpg) is not usable; install gnupg", err);
  gpgme_ctx_t raw_ctx = nullptr;
  if ((err = gpgme_new(&raw_ctx))) return Failed("gpgme_new", err);
  Context ctx(raw_ctx);
  if (!signer.gnupg_home.empty()) {
    err = gpgme_ctx_set_engine_info(ctx.get(), GPGME_PROTOCOL_OpenPGP, nullptr,
                                    signer.gnupg_home.c_str());
    if (err) return Failed("GnuPG home " + signer.gnupg_home, err);
  }
  gpgme_set_armor(ctx.get(), 1);
  gpgme_set_textmode(ctx.get(), 0);  // the text is canonical already: sign the bytes
  gpgme_set_pinentry_mode(ctx.get(), GPGME_PINENTRY_MODE_LOOPBACK);
  gpgme_set_passphrase_cb(ctx.get(), Passphrase, const_cast<std::string*>(&signer.passphrase));

  gpgme_key_t raw_key = nullptr;
  err = gpgme_get_key(ctx.get(), fpr.c_str(), &raw_key, /*secret=*/1);
  if (err) return Failed("no secret key " + fpr + " in the GnuPG home", err);
  Key key(raw_key);
  if (!key->can_sign || key->revoked || key->expired || key->disabled || key->invalid) {
    return FailedPrecondition("OpenPGP signing: key " + fpr +
                              " cannot sign (revoked, expired, disabled or not a signing key)");
  }
  if ((err = gpgme_signers_add(ctx.get(), key.get()))) return Failed("gpgme_signers_add", err);

  gpgme_data_t raw_in = nullptr, raw_out = nullptr;
  if ((err = gpgme_data_new_from_mem(&raw_in, text.data(), text.size(), /*copy=*/0))) {
    return Failed("gpgme_data_new_from_mem", err);
  }
  Data in(raw_in);
  if ((err = gpgme_data_new(&raw_out))) return Failed("gpgme_data_new", err);
  Data out(raw_out);
  if ((err = gpgme_op_sign(ctx.get(), in.get(), out.get(), GPGME_SIG_MODE_DETACH))) {
    return Failed("signing with " + fpr, err);
  }
  gpgme_sign_result_t result = gpgme_op_sign_result(ctx.get());
  if (!result || result->invalid_signers || !result->signatures) {
    std::string why = result && result->invalid_signers ? ErrorText(result->invalid_signers->reason)
                                                        : std::string("no signature made");
    return Internal("OpenPGP signing: key " + fpr + ": " + why);
  }
  const char* hash = gpgme_hash_algo_name(result->signatures->hash_algo);
  if (!hash) return Internal("OpenPGP signing: unknown hash algorithm");
  std::string micalg = std::string("pgp-") + hash;
  std::transform(micalg.begin(), micalg.end(), micalg.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  KIZUNA_ASSIGN_OR_RETURN(std::string signature, ReadAll(out.get()));
  return std::make_pair(internal::CanonicalLineEnds(signature), micalg);
}

}  // namespace

Result<std::string> BuildSignedMime(const Message& message, const Signer& signer) {
  KIZUNA_ASSIGN_OR_RETURN(std::string headers, internal::BuildHeaders(message));
  KIZUNA_ASSIGN_OR_RETURN(std::string content, internal::BuildContent(message));
  KIZUNA_ASSIGN_OR_RETURN(auto signature, DetachedSignature(content, signer));
  const std::string boundary = internal::NewBoundary();
  std::string out = headers;
  out += "Content-Type: multipart/signed; micalg=" + signature.second +
         ";\r\n protocol=\"application/pgp-signature\";\r\n boundary=\"" + boundary + "\"\r\n\r\n";
  out += "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n";
  // The signed text is everything between "--boundary CRLF" and the CRLF
  // that begins the next delimiter: `content` exactly.
  out += "--" + boundary + "\r\n" + content;
  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n";
  out += "Content-Description: OpenPGP digital signature\r\n";
  out += "Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n";
  out += signature.first;
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace kizuna::mail
