#include "sensor/capture.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace kizuna::sensor {

struct CaptureReader::Classic {
  ~Classic() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
  uint64_t file_size = 0;  // at open: a record running past it is damaged
  uint64_t offset = 0;     // of buffer[0] in the file
  std::vector<uint8_t> buffer;
  size_t begin = 0, end = 0;  // the unread bytes of buffer
  bool eof = false;
  bool swapped = false;  // written on a host of the other byte order
  bool nanoseconds = false;
  uint32_t snaplen = 0;
  uint32_t max_caplen = 0;  // longer records are damaged: max(snaplen, 262144), kMaxRecord at most

  // The 16-byte record header at `begin` (which the caller made sure is
  // there), in host byte order: seconds, fraction, caplen, length.
  void RecordHeader(uint32_t record[4]) const {
    std::memcpy(record, buffer.data() + begin, 16);
    if (swapped) {
      for (int i = 0; i < 4; ++i) record[i] = __builtin_bswap32(record[i]);
    }
  }
  // Hands out the record at `begin` (whole in the buffer) and moves past it.
  void Take(const uint32_t record[4], Frame* frame) {
    frame->data = buffer.data() + begin + 16;
    frame->caplen = record[2];
    frame->length = record[3];
    frame->ts_us = int64_t{record[0]} * 1000000 + (nanoseconds ? record[1] / 1000 : record[1]);
    begin += 16 + size_t{record[2]};
  }

  // Makes at least `n` unread bytes available (fewer only at the end of
  // the file); false on a read error.
  bool Want(size_t n) {
    if (end - begin >= n || eof) return true;
    // The unread tail to the front, the buffer grown for a long record.
    std::memmove(buffer.data(), buffer.data() + begin, end - begin);
    offset += begin;
    end -= begin;
    begin = 0;
    if (buffer.size() < n) buffer.resize(n);
    while (end < n && !eof) {
      const ssize_t got = ::read(fd, buffer.data() + end, buffer.size() - end);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return false;
      if (got == 0) eof = true;
      end += static_cast<size_t>(got);
    }
    return true;
  }
};

struct CaptureReader::Handle {
  ~Handle() {
    if (pcap != nullptr) pcap_close(pcap);
  }
  pcap_t* pcap = nullptr;
};

// libpcap reports DLT_ values; DLT_RAW differs between systems.
LinkType LinkTypeOfDlt(int dlt) {
  switch (dlt) {
    case DLT_NULL:
      return LinkType::kNull;
    case DLT_EN10MB:
      return LinkType::kEthernet;
    case 12:  // DLT_RAW on most systems
    case 14:  // DLT_RAW on OpenBSD
    case 101:
      return LinkType::kRaw;
    case DLT_LOOP:
      return LinkType::kLoop;
    case DLT_LINUX_SLL:
      return LinkType::kLinuxSll;
    case DLT_IPV4:
      return LinkType::kIpv4;
    case DLT_IPV6:
      return LinkType::kIpv6;
    case DLT_LINUX_SLL2:
      return LinkType::kLinuxSll2;
    default:
      return static_cast<LinkType>(0xFFFFFFFFu);  // decodes as kUnsupportedLink
  }
}

namespace {

uint32_t Swap32(uint32_t v) { return __builtin_bswap32(v); }

constexpr size_t kClassicBlock = 256 << 10;
constexpr uint32_t kMaxRecord = 64 << 20;  // bytes of one frame, at most

}  // namespace

// A classic pcap file, opened for reading past its header: null when `path`
// is not one (pcapng, a pipe, too short), so that libpcap reads it (and
// reports what is wrong with it).
std::unique_ptr<CaptureReader::Classic> CaptureReader::OpenClassicPcap(const std::string& path,
                                                                       uint32_t* link) {
  if (path == "-") return nullptr;
  auto classic = std::make_unique<Classic>();
  classic->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (classic->fd < 0) return nullptr;
  struct stat info {};
  uint32_t header[6];
  if (::fstat(classic->fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size < 24 ||
      ::pread(classic->fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
    return nullptr;
  }
  switch (header[0]) {
    case 0xA1B2C3D4:
      break;
    case 0xA1B23C4D:
      classic->nanoseconds = true;
      break;
    case 0xD4C3B2A1:
      classic->swapped = true;
      break;
    case 0x4D3CB2A1:
      classic->swapped = classic->nanoseconds = true;
      break;
    default:
      return nullptr;
  }
  ::posix_fadvise(classic->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (::lseek(classic->fd, 24, SEEK_SET) != 24) return nullptr;
  classic->file_size = static_cast<uint64_t>(info.st_size);
  classic->offset = 24;
  classic->buffer.resize(kClassicBlock);
  classic->snaplen = classic->swapped ? Swap32(header[4]) : header[4];
  classic->max_caplen = std::min(std::max<uint32_t>(classic->snaplen, 262144), kMaxRecord);
  // The low 16 bits are the link type (the upper ones say FCS lengths).
  *link = (classic->swapped ? Swap32(header[5]) : header[5]) & 0xFFFF;
  return classic;
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::Open(const std::string& path) {
  uint32_t link = 0;
  if (auto classic = OpenClassicPcap(path, &link)) {
    std::unique_ptr<CaptureReader> reader(new CaptureReader());
    reader->size_ = classic->file_size;
    reader->classic_ = std::move(classic);
    reader->link_ = LinkTypeOfDlt(static_cast<int>(link == 101 ? 12 : link));
    return reader;
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, error);
  if (pcap == nullptr) {
    return InvalidArgument("cannot read " + path + " as a pcap or pcapng capture: " + error);
  }
  std::unique_ptr<CaptureReader> reader(new CaptureReader());
  reader->handle_ = std::make_unique<Handle>();
  reader->handle_->pcap = pcap;
  reader->link_ = LinkTypeOfDlt(pcap_datalink(pcap));
  struct stat info {};
  if (path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
    reader->size_ = static_cast<uint64_t>(info.st_size);
  }
  return reader;
}

CaptureReader::~CaptureReader() = default;

bool CaptureReader::NextClassic(Frame* frame) {
  Classic& c = *classic_;
  // Most records are whole in the buffer and pass the checks below: taken
  // at once (Want would have nothing to do).
  if (c.end - c.begin >= 16) {
    uint32_t record[4];
    c.RecordHeader(record);
    const uint32_t caplen = record[2];
    if (caplen <= c.max_caplen && c.end - c.begin - 16 >= caplen &&
        c.offset + c.begin + 16 + caplen <= c.file_size) {
      c.Take(record, frame);
      return true;
    }
  }
  return NextClassicChecked(frame);
}

bool CaptureReader::NextClassicChecked(Frame* frame) {
  Classic& c = *classic_;
  auto damaged = [&](const std::string& what) {
    status_ = InvalidArgument("the capture is damaged: " + what);
    c.begin = c.end;
    c.eof = true;
    return false;
  };
  if (!c.Want(16)) return damaged(std::string("reading failed: ") + std::strerror(errno));
  if (c.end - c.begin == 0) return false;  // the end of the file
  const uint64_t at = c.offset + c.begin;
  if (c.end - c.begin < 16) {
    return damaged("a record header cut off at byte " + std::to_string(at));
  }
  uint32_t record[4];
  c.RecordHeader(record);
  const uint32_t caplen = record[2];
  // A damaged length would read past the end (or far beyond the snap length).
  const bool past_end = at + 16 + caplen > c.file_size;
  if (past_end || caplen > c.max_caplen) {
    return damaged("a record of " + std::to_string(caplen) + " bytes at byte " +
                   std::to_string(at) + " runs past " +
                   (past_end ? "the end of the file" : "the snap length"));
  }
  if (!c.Want(16 + size_t{caplen})) {
    return damaged(std::string("reading failed: ") + std::strerror(errno));
  }
  if (c.end - c.begin < 16 + size_t{caplen}) {
    return damaged("the file ended inside the record at byte " + std::to_string(at));
  }
  c.Take(record, frame);
  return true;
}

bool CaptureReader::Next(Frame* frame) {
  if (classic_) return NextClassic(frame);
  struct pcap_pkthdr* header;
  const u_char* data;
  const int got = pcap_next_ex(handle_->pcap, &header, &data);
  if (got == 1) {
    frame->data = data;
    frame->caplen = header->caplen;
    frame->length = header->len;
    // (A pcapng block may say any 64-bit time: kept to year 9999, so that
    // the microseconds cannot overflow.)
    const int64_t seconds = std::clamp<int64_t>(header->ts.tv_sec, 0, 253402300799);
    frame->ts_us = seconds * 1000000 + header->ts.tv_usec;
    return true;
  }
  if (got == PCAP_ERROR) {
    status_ = InvalidArgument(std::string("the capture is damaged: ") + pcap_geterr(handle_->pcap));
  }
  return false;  // PCAP_ERROR_BREAK: the end of the file
}

uint64_t CaptureReader::position() const {
  if (classic_) return classic_->offset + classic_->begin;
  FILE* file = pcap_file(handle_->pcap);
  if (file == nullptr) return 0;
  const long at = std::ftell(file);
  return at < 0 ? 0 : static_cast<uint64_t>(at);
}

}  // namespace kizuna::sensor
