#include "alerts/text.h"

#include <cstring>

#include "alerts/observation.h"
#include "common/json_string.h"

namespace kizuna::alerts {
namespace {

// `text` cut to at most `max` bytes at a UTF-8 character boundary.
std::string_view CutUtf8(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

constexpr std::string_view kTruncated = "\"_truncated\":true";
// Room kept for ",\"_truncated\":true}".
constexpr size_t kReserve = kTruncated.size() + 2;

}  // namespace

EvidenceWriter::EvidenceWriter(std::string* out) : out_(out) {
  out_->clear();
  out_->push_back('{');
}

std::string EvidenceWriter::EscapedKey(std::string_view key) {
  std::string out;
  AppendJsonString(CutUtf8(key, kMaxKeyBytes), &out);
  out.push_back(':');
  return out;
}

void EvidenceWriter::StartField(std::string_view key) {
  if (!empty_) out_->push_back(',');
  const std::string_view k = CutUtf8(key, kMaxKeyBytes);
  if (k.size() < key.size()) truncated_ = true;
  AppendJsonString(k, out_);
  out_->push_back(':');
}

void EvidenceWriter::EndField(size_t mark) {
  if (out_->size() + kReserve > kMaxEvidenceBytes) {
    out_->resize(mark);
    truncated_ = true;
    return;
  }
  empty_ = false;
}

void EvidenceWriter::AddString(std::string_view key, std::string_view value) {
  const size_t mark = out_->size();
  StartField(key);
  const std::string_view v = CutUtf8(value, kMaxValueBytes);
  if (v.size() < value.size()) truncated_ = true;
  AppendJsonString(v, out_);
  EndField(mark);
}

void EvidenceWriter::AddStringEscapedKey(std::string_view escaped_key, std::string_view value) {
  const size_t mark = out_->size();
  if (!empty_) out_->push_back(',');
  out_->append(escaped_key);
  const std::string_view v = CutUtf8(value, kMaxValueBytes);
  if (v.size() < value.size()) truncated_ = true;
  AppendJsonString(v, out_);
  EndField(mark);
}

void EvidenceWriter::AddRaw(std::string_view key, std::string_view json) {
  if (json.size() > kMaxValueBytes) {
    truncated_ = true;
    return;
  }
  const size_t mark = out_->size();
  StartField(key);
  out_->append(json);
  EndField(mark);
}

void EvidenceWriter::Finish() {
  if (truncated_) {
    if (!empty_) out_->push_back(',');
    out_->append(kTruncated);
  }
  out_->push_back('}');
}

std::string PackCsvColumns(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    uint64_t n = name.size();
    while (n >= 0x80) {
      out.push_back(static_cast<char>((n & 0x7F) | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
    out.append(name);
  }
  return out;
}

bool CsvEvidence::SetColumns(std::string_view packed_columns) {
  if (packed_columns == columns_ && !keys_.empty()) return true;
  keys_.clear();
  columns_.clear();
  std::string_view rest = packed_columns;
  while (!rest.empty()) {
    uint64_t n = 0;
    int shift = 0;
    for (;;) {
      if (rest.empty() || shift > 28) return false;
      const auto byte = static_cast<uint8_t>(rest.front());
      rest.remove_prefix(1);
      n |= static_cast<uint64_t>(byte & 0x7F) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (n > rest.size()) return false;
    keys_.push_back(EvidenceWriter::EscapedKey(rest.substr(0, n)));
    rest.remove_prefix(n);
  }
  columns_.assign(packed_columns);
  return true;
}

void CsvEvidence::RenderFields(const std::vector<std::string_view>& fields,
                               std::string* json) const {
  EvidenceWriter evidence(json);
  for (size_t i = 0; i < fields.size() && i < keys_.size(); ++i) {
    if (!Trim(fields[i]).empty()) evidence.AddStringEscapedKey(keys_[i], fields[i]);
  }
  evidence.Finish();
}

bool CsvEvidence::Render(std::string_view packed_columns, std::string_view record,
                         std::string* json) {
  if (!SetColumns(packed_columns)) return false;
  if (!SplitCsv(record, &fields_, &scratch_) || fields_.size() != keys_.size()) return false;
  RenderFields(fields_, json);
  return true;
}

}  // namespace kizuna::alerts
