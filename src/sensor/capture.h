// Reading packet captures: pcap and pcapng files, one frame at a time, with
// the link type mapped to ours and the timestamp in microseconds. A classic
// pcap file (either byte order, micro- or nanosecond timestamps) is read in
// blocks of 256 KiB and its records taken in place (libpcap reads each
// record with two freads; a mapping would crash on SIGBUS if the file shrank
// under it, as rotating captures do; a block that small is still in cache
// when its frames are decoded, 8 MiB were not); pcapng files and pipes go
// through libpcap. The handles stay inside (capture.cc).
// A CaptureReader is used by one thread at a time; it owns its handle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "sensor/packet.h"

namespace kizuna::sensor {

struct Frame {
  const uint8_t* data = nullptr;  // valid until the next Next()
  size_t caplen = 0;              // bytes captured
  size_t length = 0;              // bytes on the wire
  int64_t ts_us = 0;              // microseconds since the epoch
};

// libpcap's DLT_ value as the LinkType Decode takes (unknown ones decode
// as kUnsupportedLink).
LinkType LinkTypeOfDlt(int dlt);

class CaptureReader {
 public:
  // Opens a pcap or pcapng file ("-": standard input). A file whose link
  // type kizuna cannot decode opens, and every frame decodes as
  // kUnsupportedLink.
  static Result<std::unique_ptr<CaptureReader>> Open(const std::string& path);
  ~CaptureReader();

  LinkType link() const { return link_; }
  // The next frame; false at the end of the file or on an error (then
  // status() says which: a file cut short mid-record is an error).
  bool Next(Frame* frame);
  const Status& status() const { return status_; }
  // Bytes read so far and the file's size (0 when unknown: a pipe).
  uint64_t position() const;
  uint64_t size() const { return size_; }

 private:
  struct Handle;
  struct Classic;
  CaptureReader() = default;
  static std::unique_ptr<Classic> OpenClassicPcap(const std::string& path, uint32_t* link);
  bool NextClassic(Frame* frame);         // a record whole in the buffer at once, else:
  bool NextClassicChecked(Frame* frame);  // reads on as needed, reports damage
  std::unique_ptr<Handle> handle_;        // libpcap's, when the file is not mapped
  std::unique_ptr<Classic> classic_;
  LinkType link_ = LinkType::kEthernet;
  uint64_t size_ = 0;
  Status status_;
};

}  // namespace kizuna::sensor
