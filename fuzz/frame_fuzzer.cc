// Fuzzes frame reassembly: one byte stream, cut at points the fuzzer chooses, goes through a
// FrameAssembler under every FramePolicy (and two policy sequences a real connection uses).
// The frames that come out must be exactly those a one-piece walk of the stream finds, a
// header must be judged before any byte of its body is taken, and the buffer must never hold
// more than one frame. Every header decision is also checked against the rules of
// PROTOCOL.md 3.3 and 4.8, restated here independently of the production code. ALERT bodies that
// decode must encode back to the same frame.
//
// Input: n = u8 % 16, then n u16 cut lengths, then the stream.
#include <algorithm>
#include <vector>

#include "fuzz_util.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/protocol.h"

namespace securechat::fuzz {
namespace {

// SpecAllows restates PROTOCOL.md 3.3 with the numbers written out, as an oracle that does
// not share code (or constants) with CheckFrameHeader.
bool SpecAllows(const FramePolicy& policy, ByteView header) {
  const uint8_t type = header[0];
  const uint8_t flags = header[1];
  const size_t len = static_cast<size_t>(header[2]) << 8 | header[3];
  if (flags != 0) {
    return false;
  }
  const bool hello = type == 0x01 &&
                     (policy.rsa_len == 256 || policy.rsa_len == 384 || policy.rsa_len == 512) &&
                     len == 65 + policy.rsa_len;
  switch (policy.expect) {
    case FrameExpect::kClientHelloOrKeyRequest:  // PROTOCOL.md 4.8
      return hello || (type == 0x05 && len == 0);
    case FrameExpect::kClientHello:
      return hello;
    case FrameExpect::kServerKey:
      return (type == 0x06 && len >= 256 && len <= 576) || (type == 0x03 && len >= 3 && len <= 259);
    case FrameExpect::kServerHello:
      return (type == 0x02 && len == 97) || (type == 0x03 && len >= 3 && len <= 259);
    case FrameExpect::kRecord:
      return type == 0x04 && len >= 64 && len <= 16448 && (len - 48) % 16 == 0;
    case FrameExpect::kNothing:
      return false;
  }
  return false;
}

// A policy for each frame of a connection: the same one throughout, or a handshake frame
// followed by records.
struct PolicyPlan {
  FramePolicy first;
  FramePolicy rest;
  FramePolicy For(size_t frame_index) const { return frame_index == 0 ? first : rest; }
};

enum class End { kNeedMore, kError };

struct Walk {
  std::vector<ByteView> frames;
  End end = End::kNeedMore;
  size_t stopped_at = 0;  // start of the frame that failed or is incomplete
};

// ReferenceWalk cuts the whole stream, given in one piece, into frames.
Walk ReferenceWalk(const PolicyPlan& plan, ByteView stream) {
  Walk w;
  size_t pos = 0;
  for (;;) {
    w.stopped_at = pos;
    const ByteView rest = stream.subspan(pos);
    if (rest.size() < 4) {
      return w;
    }
    const FramePolicy policy = plan.For(w.frames.size());
    FrameHeader h;
    const bool ok = CheckFrameHeader(policy, rest.first(4), &h);
    FUZZ_CHECK(ok == SpecAllows(policy, rest.first(4)));
    if (!ok) {
      w.end = End::kError;
      return w;
    }
    FUZZ_CHECK(static_cast<uint8_t>(h.type) == rest[0]);
    FUZZ_CHECK(h.body_len == (rest[2] << 8 | rest[3]));
    const size_t frame_len = 4 + size_t{h.body_len};
    FUZZ_CHECK(frame_len <= proto::kMaxFrameLen);
    if (rest.size() < frame_len) {
      return w;
    }
    w.frames.push_back(rest.first(frame_len));
    pos += frame_len;
  }
}

void CheckAlert(ByteView frame) {
  AlertBody alert;
  if (!DecodeAlert(frame.subspan(proto::kFrameHeaderLen), &alert)) {
    return;
  }
  FUZZ_CHECK(alert.reason.size() <= proto::kMaxAlertReasonLen);
  std::vector<uint8_t> again;
  AppendAlert(static_cast<proto::AlertCode>(alert.code), alert.reason, &again);
  FUZZ_CHECK(SameBytes(again, frame));
}

void RunPlan(const PolicyPlan& plan, const std::vector<size_t>& cuts, ByteView stream) {
  const Walk want = ReferenceWalk(plan, stream);
  FrameAssembler assembler;
  size_t frames = 0;
  size_t fed = 0;
  bool failed = false;
  size_t consumed_at_error = 0;
  size_t cut = 0;
  ByteView left = stream;
  while (!failed) {
    // The next piece: the next cut length, or everything that is left after the last cut.
    const size_t n = cut < cuts.size() ? std::min(cuts[cut], left.size()) : left.size();
    ByteView in = left.first(n);
    left.remove_prefix(n);
    fed += n;
    for (;;) {
      const FramePolicy policy = plan.For(frames);
      const FrameResult r = assembler.Take(policy, &in);
      FUZZ_CHECK(assembler.buffered() <= proto::kMaxFrameLen);
      if (r == FrameResult::kNeedMore) {
        FUZZ_CHECK(in.empty());
        break;
      }
      if (r == FrameResult::kError) {
        failed = true;
        consumed_at_error = fed - in.size();
        // The error is sticky and takes nothing more.
        const size_t before = in.size();
        FUZZ_CHECK(assembler.Take(policy, &in) == FrameResult::kError);
        FUZZ_CHECK(in.size() == before);
        break;
      }
      FUZZ_CHECK(frames < want.frames.size());
      FUZZ_CHECK(SameBytes(assembler.frame(), want.frames[frames]));
      FUZZ_CHECK(static_cast<uint8_t>(assembler.header().type) == want.frames[frames][0]);
      if (assembler.header().type == proto::FrameType::kAlert) {
        CheckAlert(assembler.frame());
      }
      ++frames;
      if (in.empty()) {
        break;
      }
    }
    if (cut >= cuts.size()) {
      break;
    }
    ++cut;
  }
  FUZZ_CHECK(frames == want.frames.size());
  if (want.end == End::kError) {
    // Rejected from its 4 header bytes: not one body byte was taken.
    FUZZ_CHECK(failed);
    FUZZ_CHECK(consumed_at_error == want.stopped_at + proto::kFrameHeaderLen);
  } else {
    FUZZ_CHECK(!failed);
    FUZZ_CHECK(assembler.buffered() == stream.size() - want.stopped_at);
  }
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat;
  using namespace securechat::fuzz;
  Input input(data, size);
  std::vector<size_t> cuts(input.U8() % 16);
  for (size_t& c : cuts) {
    c = input.U16();
  }
  const ByteView stream = input.Rest();

  // The last policy is corrupt (no such FrameExpect): it must accept nothing.
  const FramePolicy policies[] = {
      {FrameExpect::kClientHello, 256},
      {FrameExpect::kClientHello, 384},
      {FrameExpect::kClientHello, 512},
      {FrameExpect::kClientHello, 0},
      {FrameExpect::kClientHello, 320},
      {FrameExpect::kServerHello, 0},
      {FrameExpect::kRecord, 0},
      {FrameExpect::kNothing, 0},
      {FrameExpect::kClientHelloOrKeyRequest, 256},
      {FrameExpect::kClientHelloOrKeyRequest, 512},
      {FrameExpect::kServerKey, 0},
      {static_cast<FrameExpect>(0x7F), 0},
  };
  // A "header" of any length but 4 is refused, and leaves *out alone.
  for (size_t n : {size_t{0}, size_t{3}, size_t{5}}) {
    FrameHeader h{proto::FrameType::kAlert, 0xBEEF};
    const ByteView header = stream.first(std::min(n, stream.size()));
    if (header.size() != proto::kFrameHeaderLen) {
      FUZZ_CHECK(!CheckFrameHeader(policies[6], header, &h));
      FUZZ_CHECK(h.type == proto::FrameType::kAlert && h.body_len == 0xBEEF);
    }
  }
  for (const FramePolicy& p : policies) {
    RunPlan(PolicyPlan{p, p}, cuts, stream);
  }
  // A server's connection and a client's: one handshake frame, then records.
  RunPlan(PolicyPlan{policies[0], policies[6]}, cuts, stream);
  RunPlan(PolicyPlan{policies[5], policies[6]}, cuts, stream);
  // A server's connection that may start with KEY_REQUEST, then must see CLIENT_HELLO.
  RunPlan(PolicyPlan{policies[8], policies[0]}, cuts, stream);
  return 0;
}
