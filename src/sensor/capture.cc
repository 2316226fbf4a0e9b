#include "sensor/capture.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace kizuna::sensor {

struct CaptureReader::Mapped {
  ~Mapped() {
    if (data != nullptr) ::munmap(const_cast<uint8_t*>(data), size);
  }
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t at = 24;        // the next record
  bool swapped = false;  // written on a host of the other byte order
  bool nanoseconds = false;
  uint32_t snaplen = 0;
  size_t released = 0;  // pages before this are dropped from the mapping
};

struct CaptureReader::Handle {
  ~Handle() {
    if (pcap != nullptr) pcap_close(pcap);
  }
  pcap_t* pcap = nullptr;
};

namespace {

// libpcap reports DLT_ values; DLT_RAW differs between systems.
LinkType LinkOf(int dlt) {
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

uint32_t Swap32(uint32_t v) { return __builtin_bswap32(v); }

}  // namespace

// A classic pcap file, mapped: null when `path` is not one (pcapng, a pipe,
// too short), so that libpcap reads it (and reports what is wrong with it).
std::unique_ptr<CaptureReader::Mapped> CaptureReader::MapClassicPcap(const std::string& path,
                                                                     uint32_t* link) {
  if (path == "-") return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size < 24) {
    ::close(fd);
    return nullptr;
  }
  uint32_t header[6];
  if (::pread(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
    ::close(fd);
    return nullptr;
  }
  auto mapped = std::make_unique<Mapped>();
  switch (header[0]) {
    case 0xA1B2C3D4:
      break;
    case 0xA1B23C4D:
      mapped->nanoseconds = true;
      break;
    case 0xD4C3B2A1:
      mapped->swapped = true;
      break;
    case 0x4D3CB2A1:
      mapped->swapped = mapped->nanoseconds = true;
      break;
    default:
      ::close(fd);
      return nullptr;
  }
  const size_t size = static_cast<size_t>(info.st_size);
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return nullptr;
  ::madvise(p, size, MADV_SEQUENTIAL);
  mapped->data = static_cast<const uint8_t*>(p);
  mapped->size = size;
  mapped->snaplen = mapped->swapped ? Swap32(header[4]) : header[4];
  // The low 16 bits are the link type (the upper ones say FCS lengths).
  *link = (mapped->swapped ? Swap32(header[5]) : header[5]) & 0xFFFF;
  return mapped;
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::Open(const std::string& path) {
  uint32_t link = 0;
  if (auto mapped = MapClassicPcap(path, &link)) {
    std::unique_ptr<CaptureReader> reader(new CaptureReader());
    reader->mapped_ = std::move(mapped);
    reader->link_ = LinkOf(static_cast<int>(link == 101 ? 12 : link));
    reader->size_ = reader->mapped_->size;
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
  reader->link_ = LinkOf(pcap_datalink(pcap));
  struct stat info {};
  if (path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
    reader->size_ = static_cast<uint64_t>(info.st_size);
  }
  return reader;
}

CaptureReader::~CaptureReader() = default;

bool CaptureReader::NextMapped(Frame* frame) {
  Mapped& m = *mapped_;
  if (m.at == m.size) return false;
  if (m.size - m.at < 16) {
    status_ = InvalidArgument("the capture is damaged: a record header cut off at byte " +
                              std::to_string(m.at));
    m.at = m.size;
    return false;
  }
  uint32_t record[4];
  std::memcpy(record, m.data + m.at, 16);
  if (m.swapped) {
    for (uint32_t& field : record) field = Swap32(field);
  }
  const uint32_t caplen = record[2];
  // A damaged length would read past the end (or far beyond the snap length).
  if (caplen > m.size - m.at - 16 || caplen > std::max<uint32_t>(m.snaplen, 262144)) {
    status_ =
        InvalidArgument("the capture is damaged: a record of " + std::to_string(caplen) +
                        " bytes at byte " + std::to_string(m.at) + " runs past " +
                        (caplen > m.size - m.at - 16 ? "the end of the file" : "the snap length"));
    m.at = m.size;
    return false;
  }
  frame->data = m.data + m.at + 16;
  frame->caplen = caplen;
  frame->length = record[3];
  frame->ts_us = int64_t{record[0]} * 1000000 + (m.nanoseconds ? record[1] / 1000 : record[1]);
  m.at += 16 + size_t{caplen};
  // What was read leaves the mapping as it goes (the previous frame stays
  // valid), so that memory stays flat however long the file.
  constexpr size_t kRelease = 32 << 20;
  if (m.at - m.released > 2 * kRelease) {
    ::madvise(const_cast<uint8_t*>(m.data) + m.released, kRelease, MADV_DONTNEED);
    m.released += kRelease;
  }
  return true;
}

bool CaptureReader::Next(Frame* frame) {
  if (mapped_) return NextMapped(frame);
  struct pcap_pkthdr* header;
  const u_char* data;
  const int got = pcap_next_ex(handle_->pcap, &header, &data);
  if (got == 1) {
    frame->data = data;
    frame->caplen = header->caplen;
    frame->length = header->len;
    frame->ts_us = int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec;
    return true;
  }
  if (got == PCAP_ERROR) {
    status_ = InvalidArgument(std::string("the capture is damaged: ") + pcap_geterr(handle_->pcap));
  }
  return false;  // PCAP_ERROR_BREAK: the end of the file
}

uint64_t CaptureReader::position() const {
  if (mapped_) return mapped_->at;
  FILE* file = pcap_file(handle_->pcap);
  if (file == nullptr) return 0;
  const long at = std::ftell(file);
  return at < 0 ? 0 : static_cast<uint64_t>(at);
}

}  // namespace kizuna::sensor
