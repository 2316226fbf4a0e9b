#include "sensor/capture.h"

#include <pcap/pcap.h>
#include <sys/stat.h>

namespace kizuna::sensor {

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

}  // namespace

Result<std::unique_ptr<CaptureReader>> CaptureReader::Open(const std::string& path) {
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

bool CaptureReader::Next(Frame* frame) {
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
  FILE* file = pcap_file(handle_->pcap);
  if (file == nullptr) return 0;
  const long at = std::ftell(file);
  return at < 0 ? 0 : static_cast<uint64_t>(at);
}

}  // namespace kizuna::sensor
