// The reader, the writer, frame assembly and message layouts, attacked field by field.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/message.h"
#include "securechat/wire/reader.h"
#include "securechat/wire/text.h"
#include "securechat/wire/writer.h"
#include "support/test_util.h"

namespace securechat {
namespace {

using testing::Hex;

TEST(ReaderTest, FailedReadsLeaveCursorAndOutputUntouched) {
  const std::vector<uint8_t> data = Hex("0003616263ff");
  Reader r(data);
  uint64_t u64 = 42;
  EXPECT_FALSE(r.ReadU64(&u64));
  EXPECT_EQ(u64, 42u);
  EXPECT_EQ(r.remaining(), 6u);
  std::string_view s;
  ASSERT_TRUE(r.ReadStr(&s));
  EXPECT_EQ(s, "abc");
  uint16_t u16 = 7;
  EXPECT_FALSE(r.ReadU16(&u16));
  EXPECT_EQ(u16, 7);
  uint8_t u8;
  ASSERT_TRUE(r.ReadU8(&u8));
  EXPECT_EQ(u8, 0xff);
  EXPECT_TRUE(r.empty());
}

TEST(ReaderTest, StrWhoseLengthRunsPastTheEndConsumesNothing) {
  const std::vector<uint8_t> data = Hex("0009616263");
  Reader r(data);
  std::string_view s = "unchanged";
  EXPECT_FALSE(r.ReadStr(&s));
  EXPECT_EQ(s, "unchanged");
  EXPECT_EQ(r.remaining(), data.size());
  ByteView bytes;
  ASSERT_TRUE(r.ReadBytes(5, &bytes));
  EXPECT_FALSE(r.ReadBytes(1, &bytes));
  std::array<uint8_t, 1> fixed{9};
  EXPECT_FALSE(r.ReadFixed(&fixed));
  EXPECT_EQ(fixed[0], 9);
}

// SSH's strings have a u32 length; one that runs past the end, or a u32 cut short, consumes
// nothing. A length of 2^32 - 1 is refused without arithmetic overflow.
TEST(ReaderTest, SshStrReadsU32LengthAndFailsWithoutMoving) {
  const std::vector<uint8_t> data =
      Hex("00000003616263"
          "ffffffff00");
  Reader r(data);
  ByteView s;
  ASSERT_TRUE(r.ReadSshStr(&s));
  EXPECT_EQ(std::string(s.begin(), s.end()), "abc");
  const ByteView before = s;
  EXPECT_FALSE(r.ReadSshStr(&s));
  EXPECT_EQ(s.data(), before.data());
  EXPECT_EQ(r.remaining(), 5u);
  uint32_t u32 = 7;
  ASSERT_TRUE(r.ReadU32(&u32));
  EXPECT_EQ(u32, 0xffffffffu);
  EXPECT_FALSE(r.ReadU32(&u32));
  EXPECT_EQ(u32, 0xffffffffu);
  EXPECT_EQ(r.remaining(), 1u);

  std::vector<uint8_t> out;
  Writer w(&out);
  w.U32(0x01020304);
  EXPECT_EQ(out, Hex("01020304"));
}

TEST(WriterTest, FrameLengthComesFromWhatWasWritten) {
  std::vector<uint8_t> out = {0xAA};
  Writer w(&out);
  size_t f = w.BeginFrame(proto::FrameType::kAlert);
  w.U8(1);
  w.Str(std::string_view("full"));
  w.EndFrame(f);
  EXPECT_EQ(testing::ToHex(out),
            "aa03000007010004"
            "66756c6c");
  std::vector<uint8_t> big;
  Writer w2(&big);
  w2.U64(0x0102030405060708ull);
  w2.U16(0xBEEF);
  EXPECT_EQ(testing::ToHex(big), "0102030405060708beef");
}

// A record frame of the smallest legal size, built by hand.
std::vector<uint8_t> MinimalRecordFrame(uint8_t fill) {
  std::vector<uint8_t> frame = Hex("04000040");
  frame.resize(4 + 64, fill);
  return frame;
}

TEST(FrameAssemblerTest, StreamSplitAtEveryPointGivesTheSameFrames) {
  std::vector<uint8_t> stream = MinimalRecordFrame(1);
  std::vector<uint8_t> second = MinimalRecordFrame(2);
  stream.insert(stream.end(), second.begin(), second.end());
  const FramePolicy policy{FrameExpect::kRecord, 0};
  for (size_t split = 0; split <= stream.size(); ++split) {
    FrameAssembler assembler;
    std::vector<std::vector<uint8_t>> frames;
    for (ByteView chunk : {ByteView(stream).first(split), ByteView(stream).subspan(split)}) {
      while (true) {
        FrameResult r = assembler.Take(policy, &chunk);
        ASSERT_NE(r, FrameResult::kError);
        if (r == FrameResult::kNeedMore) break;
        frames.emplace_back(assembler.frame().begin(), assembler.frame().end());
      }
    }
    ASSERT_EQ(frames.size(), 2u) << "split at " << split;
    EXPECT_EQ(frames[0], MinimalRecordFrame(1));
    EXPECT_EQ(frames[1], MinimalRecordFrame(2));
  }
}

TEST(FrameAssemblerTest, OneByteAtATime) {
  const std::vector<uint8_t> frame = MinimalRecordFrame(7);
  FrameAssembler assembler;
  for (size_t i = 0; i < frame.size(); ++i) {
    ByteView one(&frame[i], 1);
    FrameResult r = assembler.Take(FramePolicy{FrameExpect::kRecord, 0}, &one);
    EXPECT_EQ(r, i + 1 == frame.size() ? FrameResult::kFrame : FrameResult::kNeedMore);
    EXPECT_TRUE(one.empty());
  }
}

TEST(FrameAssemblerTest, OversizedHeaderIsRejectedBeforeAnyBodyByteIsBuffered) {
  std::vector<uint8_t> attack = Hex("0400ffff");
  attack.resize(4 + 1000, 0x41);
  FrameAssembler assembler;
  ByteView in(attack);
  EXPECT_EQ(assembler.Take(FramePolicy{FrameExpect::kRecord, 0}, &in), FrameResult::kError);
  EXPECT_EQ(in.size(), 1000u) << "the body must not be consumed";
  EXPECT_EQ(assembler.buffered(), 4u);
  // The error is sticky.
  ByteView more(attack);
  EXPECT_EQ(assembler.Take(FramePolicy{FrameExpect::kRecord, 0}, &more), FrameResult::kError);
}

TEST(FrameAssemblerTest, GarbageHttpAndTlsAreRejectedOnTheHeader) {
  using namespace std::string_view_literals;
  for (std::string_view first : {"GET / HTTP/1.1\r\n"sv, "\x16\x03\x01\x02\x00\x01\x00\x01"sv,
                                 "\x01\x00\x00\x00"sv, "\x00\x00\x00\x00"sv}) {
    FrameAssembler assembler;
    ByteView in(reinterpret_cast<const uint8_t*>(first.data()), first.size());
    EXPECT_EQ(assembler.Take(FramePolicy{FrameExpect::kClientHello, 256}, &in), FrameResult::kError)
        << testing::ToHex(in);
  }
}

TEST(FrameHeaderTest, ClientHelloLengthFollowsTheKeySize) {
  FrameHeader h;
  for (size_t k : {256u, 384u, 512u}) {
    std::vector<uint8_t> header = {0x01, 0x00, static_cast<uint8_t>((65 + k) >> 8),
                                   static_cast<uint8_t>(65 + k)};
    EXPECT_TRUE(CheckFrameHeader(FramePolicy{FrameExpect::kClientHello, k}, header, &h));
    EXPECT_FALSE(CheckFrameHeader(FramePolicy{FrameExpect::kClientHello, k + 1}, header, &h));
    EXPECT_FALSE(CheckFrameHeader(FramePolicy{FrameExpect::kRecord, 0}, header, &h));
  }
  EXPECT_FALSE(CheckFrameHeader(FramePolicy{FrameExpect::kNothing, 0}, Hex("04000040"), &h));
  EXPECT_FALSE(CheckFrameHeader(FramePolicy{FrameExpect::kRecord, 0}, Hex("040000"), &h));
}

TEST(AlertTest, ReasonIsCutToTheProtocolLimit) {
  std::vector<uint8_t> out;
  AppendAlert(proto::AlertCode::kServerFull, std::string(300, 'r'), &out);
  ASSERT_EQ(out.size(), 4u + 3 + 256);
  AlertBody body;
  ASSERT_TRUE(DecodeAlert(ByteView(out).subspan(4), &body));
  EXPECT_EQ(body.code, 1);
  EXPECT_EQ(body.reason.size(), 256u);
}

// Every message kind: the encoded form decodes back to itself; each truncation and an extra
// trailing byte are malformed.
TEST(MessageTest, EveryTruncationAndTrailingByteIsMalformed) {
  std::vector<msg::ClientMessage> client = {msg::Join{"alice"},
                                            msg::Say{"hi"},
                                            msg::Whisper{"bob", "psst"},
                                            msg::Who{},
                                            msg::Nick{"al"},
                                            msg::Ping{"x"},
                                            msg::Bye{},
                                            msg::RoomJoin{"#dev", 7, 41},
                                            msg::RoomPart{"#dev"},
                                            msg::RoomList{},
                                            msg::RoomTopic{"#dev", "release friday"},
                                            msg::RoomSay{"#dev", 1, "waves"},
                                            msg::RoomWho{"#dev"}};
  for (const auto& m : client) {
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    msg::ClientMessage decoded;
    ASSERT_EQ(msg::DecodeClientMessage(bytes, &decoded), msg::DecodeStatus::kOk);
    std::vector<uint8_t> again;
    msg::EncodeMessage(decoded, &again);
    EXPECT_EQ(again, bytes);
    for (size_t len = 0; len < bytes.size(); ++len) {
      if (len == 1 && bytes.size() == 1) continue;
      const auto status = msg::DecodeClientMessage(ByteView(bytes).first(len), &decoded);
      if (len == 0 || bytes.size() > 1) {
        EXPECT_EQ(status, msg::DecodeStatus::kMalformed) << testing::ToHex(bytes) << " @" << len;
      }
    }
    bytes.push_back(0);
    EXPECT_EQ(msg::DecodeClientMessage(bytes, &decoded), msg::DecodeStatus::kMalformed);
  }
  std::vector<msg::ServerMessage> server = {msg::Welcome{"alice", "motd", 3},
                                            msg::Chat{"bob", 1, 99, "hi"},
                                            msg::Notice{"n"},
                                            msg::Users{0, {"a", "b"}},
                                            msg::Pong{"x"},
                                            msg::Error{proto::ErrorCode::kNickTaken, 0, "t"},
                                            msg::MemberJoined{"carol"},
                                            msg::MemberLeft{"dave"},
                                            msg::MemberRenamed{"bob", "robert"},
                                            msg::RoomJoined{"#dev", "release friday", 2},
                                            msg::RoomJoined{"#dev", "", 1},
                                            msg::RoomEvent{"#dev", 3, "bob", "release friday"},
                                            msg::RoomEvent{"#dev", 1, "carol", ""},
                                            msg::RoomInfo{"#dev", 2, "release", 1},
                                            msg::RoomUsers{"#dev", 0, {"a", "b"}}};
  for (const auto& m : server) {
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    msg::ServerMessage decoded;
    ASSERT_EQ(msg::DecodeServerMessage(bytes, &decoded), msg::DecodeStatus::kOk);
    std::vector<uint8_t> again;
    msg::EncodeMessage(decoded, &again);
    EXPECT_EQ(again, bytes);
    for (size_t len = 0; len < bytes.size(); ++len) {
      EXPECT_EQ(msg::DecodeServerMessage(ByteView(bytes).first(len), &decoded),
                msg::DecodeStatus::kMalformed)
          << testing::ToHex(bytes) << " @" << len;
    }
    bytes.push_back(0);
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &decoded), msg::DecodeStatus::kMalformed);
  }
}

// The room messages' rules (PROTOCOL.md 6.13): ROOM_EVENT's event is 1 to 3, a topic is
// empty or a valid text of at most 1024 bytes, and every room field is a valid room.
TEST(MessageTest, RoomMessagesJudgeEventTopicAndRoom) {
  const std::string topic_max(proto::kMaxTopicLen, 't');
  const std::string topic_over(proto::kMaxTopicLen + 1, 't');
  const std::vector<msg::ServerMessage> valid = {
      msg::RoomEvent{"#dev", 1, "bob", ""},
      msg::RoomEvent{"#dev", 3, "bob", topic_max},
      msg::RoomJoined{"#dev", topic_max, 0},
      msg::RoomInfo{"#lobby", 65535, "", 0},
  };
  for (const auto& m : valid) {
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    msg::ServerMessage decoded;
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &decoded), msg::DecodeStatus::kOk)
        << testing::ToHex(bytes);
  }
  const std::vector<msg::ServerMessage> invalid = {
      msg::RoomEvent{"#dev", 0, "bob", ""},         msg::RoomEvent{"#dev", 4, "bob", ""},
      msg::RoomEvent{"#dev", 3, "bob", topic_over}, msg::RoomEvent{"dev", 1, "bob", ""},
      msg::RoomEvent{"#dev", 3, "bob", "a\x1b"},    msg::RoomJoined{"#", "", 1},
      msg::RoomJoined{"#dev", topic_over, 1},       msg::RoomInfo{"#dev", 1, "", 2},
      msg::RoomUsers{"#dev", 0, {"a b"}},           msg::RoomUsers{"#d ev", 0, {}},
  };
  for (const auto& m : invalid) {
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    msg::ServerMessage decoded;
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &decoded), msg::DecodeStatus::kMalformed)
        << testing::ToHex(bytes);
  }
}

TEST(MessageTest, UsersCountLargerThanTheBodyIsRejectedWithoutReserving) {
  msg::ServerMessage decoded;
  EXPECT_EQ(msg::DecodeServerMessage(Hex("8400ffff"), &decoded), msg::DecodeStatus::kMalformed);
}

// The membership messages byte for byte (PROTOCOL.md 6.8), and a bad case per nick field:
// short (empty), long (33 bytes), a byte outside the nick alphabet, and a trailing byte.
TEST(MessageTest, MembershipMessagesFieldByField) {
  const std::string nick32(proto::kMaxNickLen, 'n');
  const std::pair<msg::ServerMessage, const char*> valid[] = {
      {msg::MemberJoined{"alice"}, "880005616c696365"},
      {msg::MemberLeft{"bob"}, "890003626f62"},
      {msg::MemberRenamed{"bob", "robert"}, "8a0003626f620006726f62657274"},
      {msg::MemberJoined{nick32}, nullptr},
  };
  for (const auto& [m, hex] : valid) {
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    if (hex != nullptr) {
      EXPECT_EQ(testing::ToHex(bytes), hex);
    }
    msg::ServerMessage decoded;
    ASSERT_EQ(msg::DecodeServerMessage(bytes, &decoded), msg::DecodeStatus::kOk) << hex;
    EXPECT_EQ(msg::KindOf(decoded), msg::KindOf(m));
  }
  const std::string nick33(proto::kMaxNickLen + 1, 'n');
  const std::vector<msg::ServerMessage> invalid = {
      msg::MemberJoined{""},         msg::MemberJoined{nick33},       msg::MemberJoined{"a b"},
      msg::MemberLeft{""},           msg::MemberLeft{nick33},         msg::MemberLeft{"a\x1b"},
      msg::MemberRenamed{"", "bob"}, msg::MemberRenamed{nick33, "b"}, msg::MemberRenamed{"a!", "b"},
      msg::MemberRenamed{"bob", ""}, msg::MemberRenamed{"b", nick33}, msg::MemberRenamed{"b", "a!"},
  };
  for (const auto& m : invalid) {
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    msg::ServerMessage decoded;
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &decoded), msg::DecodeStatus::kMalformed)
        << testing::ToHex(bytes);
  }
  for (const char* trailing :
       {"880005616c69636500", "890003626f6200", "8a0003626f620006726f6265727400"}) {
    msg::ServerMessage decoded;
    EXPECT_EQ(msg::DecodeServerMessage(Hex(trailing), &decoded), msg::DecodeStatus::kMalformed)
        << trailing;
  }
}

// The kinds a side knows are exactly those of its message table: every other byte is an
// unknown kind to it, whatever follows, including the gap 0x87 and the byte after 0x8A.
TEST(MessageTest, KnownKindsAreTheTable) {
  const std::vector<uint8_t> body = Hex("0005616c696365");
  for (int kind = 0; kind <= 0xFF; ++kind) {
    std::vector<uint8_t> bytes = {static_cast<uint8_t>(kind)};
    bytes.insert(bytes.end(), body.begin(), body.end());
    msg::ClientMessage c;
    msg::ServerMessage s;
    const bool client = msg::IsKnownKind(msg::kClientKinds, static_cast<uint8_t>(kind));
    const bool server = msg::IsKnownKind(msg::kServerKinds, static_cast<uint8_t>(kind));
    EXPECT_FALSE(client && server) << kind;
    EXPECT_EQ(msg::DecodeClientMessage(bytes, &c) == msg::DecodeStatus::kUnknownKind, !client)
        << kind;
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &s) == msg::DecodeStatus::kUnknownKind, !server)
        << kind;
  }
  EXPECT_EQ(msg::kClientKinds.size(), 25u);
  EXPECT_EQ(msg::kServerKinds.size(), 23u);
  // The kinds the v1 and membership vectors take as unknown stay unknown: 0x08 after the
  // first client kinds, 0x8B after the membership kinds.
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x08));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0x8B));
  // The ends of the range reserved for authentication stay unknown (the v1 vectors' cases).
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x20));
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x2F));
  EXPECT_TRUE(msg::IsKnownKind(msg::kClientKinds, 0x21));
  EXPECT_TRUE(msg::IsKnownKind(msg::kServerKinds, 0xA1));
  // The same for the range reserved for rooms and history (PROTOCOL.md 6.5, 6.11).
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x30));
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x3F));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0xB0));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0xBF));
  EXPECT_TRUE(msg::IsKnownKind(msg::kClientKinds, 0x31));
  EXPECT_TRUE(msg::IsKnownKind(msg::kClientKinds, 0x32));  // MODERATE (6.12)
  EXPECT_TRUE(msg::IsKnownKind(msg::kServerKinds, 0xB1));
  EXPECT_TRUE(msg::IsKnownKind(msg::kServerKinds, 0xB2));
  for (uint8_t kind = 0x33; kind <= 0x38; ++kind) {  // rooms (6.13)
    EXPECT_TRUE(msg::IsKnownKind(msg::kClientKinds, kind)) << int{kind};
  }
  for (uint8_t kind = 0xB3; kind <= 0xB6; ++kind) {
    EXPECT_TRUE(msg::IsKnownKind(msg::kServerKinds, kind)) << int{kind};
  }
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0x87));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0x8B));
  EXPECT_TRUE(msg::IsKnownKind(msg::kServerKinds, 0x8A));
  // File transfer (6.14): 0x11 to 0x15 and 0x91 to 0x95; the range's ends stay unknown (the
  // v1 vectors' unknown-kind-10 and unknown-kind-1f, and unknown-server-kind-10-reserved).
  for (uint8_t kind = 0x11; kind <= 0x15; ++kind) {
    EXPECT_TRUE(msg::IsKnownKind(msg::kClientKinds, kind)) << int{kind};
    EXPECT_TRUE(msg::IsKnownKind(msg::kServerKinds, kind + 0x80)) << int{kind};
  }
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x10));
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x16));
  EXPECT_FALSE(msg::IsKnownKind(msg::kClientKinds, 0x1F));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0x10));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0x90));
  EXPECT_FALSE(msg::IsKnownKind(msg::kServerKinds, 0x9F));
}

// File transfer messages (PROTOCOL.md 6.14): the bytes of each, and the layout rules of the
// hash (32 bytes) and a chunk (1 to kMaxChunkLen bytes), which both directions share.
TEST(MessageTest, FileMessagesHaveTheirBytesAndTheirLayoutRules) {
  const std::string hash(proto::kFileHashLen, '\x11');
  const std::string hash_hex = std::string(2 * proto::kFileHashLen, '1');
  std::vector<uint8_t> bytes;
  msg::EncodeMessage(msg::ClientMessage(msg::FileOffer{7, "bob", "a.txt", 3, hash}), &bytes);
  EXPECT_EQ(testing::ToHex(bytes),
            "11"
            "00000007"
            "0003626f62"
            "0005612e747874"
            "0000000000000003"
            "0020" +
                hash_hex);
  msg::ClientMessage c;
  ASSERT_EQ(msg::DecodeClientMessage(bytes, &c), msg::DecodeStatus::kOk);
  EXPECT_EQ(std::get<msg::FileOffer>(c).name, "a.txt");
  bytes.clear();
  msg::EncodeMessage(msg::ClientMessage(msg::FileChunk{5, 16, "xyz"}), &bytes);
  EXPECT_EQ(testing::ToHex(bytes),
            "14"
            "00000005"
            "0000000000000010"
            "0003"
            "78797a");
  bytes.clear();
  msg::EncodeMessage(msg::ServerMessage(msg::FileEnd{5, 0, 1, ""}), &bytes);
  EXPECT_EQ(testing::ToHex(bytes),
            "95"
            "00000005"
            "00000000"
            "01"
            "0000");

  // Layout: a hash of 31 or 33 bytes, an empty chunk and one past kMaxChunkLen are malformed
  // both ways.
  for (size_t n : {proto::kFileHashLen - 1, proto::kFileHashLen + 1}) {
    bytes.clear();
    msg::EncodeMessage(msg::ClientMessage(msg::FileOffer{1, "bob", "a", 1, std::string(n, 'h')}),
                       &bytes);
    EXPECT_EQ(msg::DecodeClientMessage(bytes, &c), msg::DecodeStatus::kMalformed) << n;
  }
  const std::string longest(proto::kMaxChunkLen, 'd');
  const std::string too_long(proto::kMaxChunkLen + 1, 'd');
  for (const std::string* data : {&longest, &too_long}) {
    bytes.clear();
    msg::EncodeMessage(msg::ClientMessage(msg::FileChunk{1, 0, *data}), &bytes);
    EXPECT_EQ(msg::DecodeClientMessage(bytes, &c) == msg::DecodeStatus::kOk, data == &longest);
    // The longest chunk fills a record's plaintext exactly.
    if (data == &longest) {
      EXPECT_EQ(bytes.size(), proto::kMaxPlaintextLen);
    }
    bytes.clear();
    msg::ServerMessage s;
    msg::EncodeMessage(msg::ServerMessage(msg::FileData{1, 0, *data}), &bytes);
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &s) == msg::DecodeStatus::kOk, data == &longest);
  }
  bytes.clear();
  msg::EncodeMessage(msg::ClientMessage(msg::FileChunk{1, 0, ""}), &bytes);
  EXPECT_EQ(msg::DecodeClientMessage(bytes, &c), msg::DecodeStatus::kMalformed);

  // A server message is judged whole: FILE_INCOMING's name must be a valid file name, and
  // FILE_END's why 1 to 8 and its reason empty or a reason.
  msg::ServerMessage s;
  for (const char* name : {"report.pdf", ".hidden", "a b", "\xc3\xa9t\xc3\xa9.txt"}) {
    bytes.clear();
    msg::EncodeMessage(msg::ServerMessage(msg::FileIncoming{1, "alice", name, 3, hash}), &bytes);
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &s), msg::DecodeStatus::kOk) << name;
  }
  for (const std::string& name :
       {std::string(), std::string("."), std::string(".."), std::string("../etc/passwd"),
        std::string("a\\b"), std::string("\x1b]0;x\x07"), std::string("a\nb"),
        std::string(proto::kMaxFileNameLen + 1, 'n'),
        std::string("\xe2\x80\xae"
                    "fdp.exe")}) {
    bytes.clear();
    msg::EncodeMessage(msg::ServerMessage(msg::FileIncoming{1, "alice", name, 3, hash}), &bytes);
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &s), msg::DecodeStatus::kMalformed) << name;
  }
  EXPECT_TRUE(IsValidFileName(std::string(proto::kMaxFileNameLen, 'n')));
  for (const uint8_t why : {uint8_t{0}, uint8_t{proto::kMaxFileEnd + 1}}) {
    bytes.clear();
    msg::EncodeMessage(msg::ServerMessage(msg::FileEnd{1, 0, why, ""}), &bytes);
    EXPECT_EQ(msg::DecodeServerMessage(bytes, &s), msg::DecodeStatus::kMalformed) << int{why};
  }
  bytes.clear();
  msg::EncodeMessage(msg::ServerMessage(msg::FileEnd{1, 0, 8, std::string(257, 'r')}), &bytes);
  EXPECT_EQ(msg::DecodeServerMessage(bytes, &s), msg::DecodeStatus::kMalformed);
}

TEST(TextTest, EscapeForDisplayNeutralisesTerminalControls) {
  EXPECT_EQ(EscapeForDisplay("plain é ✓"), "plain é ✓");
  EXPECT_EQ(EscapeForDisplay("\x1b[2J"), "\\x1B[2J");
  EXPECT_EQ(EscapeForDisplay("a\nb\tc\x7f"), "a\\x0Ab\\x09c\\x7F");
  EXPECT_EQ(EscapeForDisplay("\xc2\x9b"), "\\u{009B}");  // C1 CSI
  EXPECT_EQ(EscapeForDisplay("\xe2\x80\xae"
                             "abc"),
            "\\u{202E}abc");                                       // RLO
  EXPECT_EQ(EscapeForDisplay("\xff\xc0\xaf"), "\\xFF\\xC0\\xAF");  // not UTF-8
  EXPECT_EQ(EscapeForDisplay("back\\slash"), "back\\\\slash");
}

// Issue #10: code points a terminal draws as nothing could hide text or fake a layout. Each
// class is shown as an escape: the first and last of every range of Default_Ignorable and Cf
// code points, the line and paragraph separators; their neighbours are ordinary text.
TEST(TextTest, EscapeForDisplayShowsInvisibleCodePoints) {
  const std::pair<const char*, const char*> shown[] = {
      {"\u00AD", "\\u{00AD}"},      {"\u034F", "\\u{034F}"},      {"\u0600", "\\u{0600}"},
      {"\u0605", "\\u{0605}"},      {"\u061C", "\\u{061C}"},      {"\u06DD", "\\u{06DD}"},
      {"\u070F", "\\u{070F}"},      {"\u0890", "\\u{0890}"},      {"\u0891", "\\u{0891}"},
      {"\u08E2", "\\u{08E2}"},      {"\u115F", "\\u{115F}"},      {"\u1160", "\\u{1160}"},
      {"\u17B4", "\\u{17B4}"},      {"\u17B5", "\\u{17B5}"},      {"\u180B", "\\u{180B}"},
      {"\u180F", "\\u{180F}"},      {"\u200B", "\\u{200B}"},      {"\u200F", "\\u{200F}"},
      {"\u2028", "\\u{2028}"},      {"\u2029", "\\u{2029}"},      {"\u202A", "\\u{202A}"},
      {"\u2060", "\\u{2060}"},      {"\u2065", "\\u{2065}"},      {"\u206F", "\\u{206F}"},
      {"\u3164", "\\u{3164}"},      {"\uFE00", "\\u{FE00}"},      {"\uFE0F", "\\u{FE0F}"},
      {"\uFEFF", "\\u{FEFF}"},      {"\uFFA0", "\\u{FFA0}"},      {"\uFFF0", "\\u{FFF0}"},
      {"\uFFFB", "\\u{FFFB}"},      {"\U000110BD", "\\u{110BD}"}, {"\U000110CD", "\\u{110CD}"},
      {"\U00013430", "\\u{13430}"}, {"\U0001343F", "\\u{1343F}"}, {"\U0001BCA0", "\\u{1BCA0}"},
      {"\U0001BCA3", "\\u{1BCA3}"}, {"\U0001D173", "\\u{1D173}"}, {"\U0001D17A", "\\u{1D17A}"},
      {"\U000E0000", "\\u{E0000}"}, {"\U000E0041", "\\u{E0041}"}, {"\U000E01EF", "\\u{E01EF}"},
      {"\U000E0FFF", "\\u{E0FFF}"},
  };
  for (const auto& [raw, escaped] : shown) {
    EXPECT_EQ(EscapeForDisplay(Cat("a", raw, "b")), Cat("a", escaped, "b")) << escaped;
  }
  // Neighbours of the ranges, and ordinary letters, marks and symbols, are left alone.
  for (const char* kept : {"\u00AC", "\u00AE", "\u0301", "\u0606", "\u1161", "\u2010", "\u2027",
                           "\u202F", "\u2070", "\u3163", "\u3165", "\uFE10", "\uFFA1", "\uFFFC",
                           "\uFFFD", "\U0001F600", "\U000E1000", "\u65E5\u672C", "e\u0301"}) {
    EXPECT_EQ(EscapeForDisplay(Cat("a", kept, "b")), Cat("a", kept, "b")) << Cat(kept);
  }
  // A spoof hidden behind fillers and joiners is spelt out.
  EXPECT_EQ(EscapeForDisplay("hi\u3164\u3164\u200B-!- bob is now known as admin"),
            "hi\\u{3164}\\u{3164}\\u{200B}-!- bob is now known as admin");
}

// Issue #10: a run of spaces could pad a line to the terminal's width, so that its end shows
// as a row of its own. Every run of blanks (spaces and the other space separators) shows as
// one space; a single blank is kept as it is.
TEST(TextTest, EscapeForDisplayCollapsesRunsOfBlanks) {
  EXPECT_EQ(EscapeForDisplay(Cat("maintenance:", std::string(70, ' '), "-!- bob is admin")),
            "maintenance: -!- bob is admin");
  EXPECT_EQ(EscapeForDisplay("a  b   c"), "a b c");
  EXPECT_EQ(EscapeForDisplay("   lead and trail   "), " lead and trail ");
  EXPECT_EQ(EscapeForDisplay("a\u00A0\u3000 \u2003\u205F\u1680\u202Fb"), "a b");
  EXPECT_EQ(EscapeForDisplay("10\u00A0km, \u3000x"), "10\u00A0km, x");
  EXPECT_EQ(EscapeForDisplay("a \u200B b"), "a \\u{200B} b") << "an escape breaks the run";
  EXPECT_EQ(EscapeForDisplay("a \x01 b"), "a \\x01 b");
}

// IsValidText skips printable ASCII eight bytes at a time before it decodes UTF-8: each
// boundary byte or sequence must get the same verdict at every offset, inside a word, across
// two words, and in the tail.
TEST(TextTest, EveryByteIsJudgedAtEveryOffset) {
  struct Case {
    std::string_view bytes;
    bool valid;
  };
  const Case cases[] = {
      {std::string_view("\x00", 1), false},
      {"\x1f", false},
      {" ", true},
      {"~", true},
      {"\x7f", false},
      {"\x80", false},          // a continuation byte alone
      {"\xc2\x85", false},      // U+0085, a C1 control
      {"\xc2\xa0", true},       // U+00A0
      {"\xc3\xa9", true},       // é
      {"\xe2\x80\xae", false},  // U+202E, right-to-left override
      {"\xe2\x9c\x93", true},   // ✓
      {"\xed\xa0\x80", false},  // a surrogate
      {"\xf0\x9f\x98\x80", true},
      {"\xff", false},
  };
  for (const Case& c : cases) {
    for (size_t at = 0; at <= 24; ++at) {
      std::string text(24, 'x');
      text.insert(at, c.bytes);
      EXPECT_EQ(IsValidText(text), c.valid) << testing::ToHex(testing::Bytes(text)) << " @" << at;
    }
  }
}

TEST(TextTest, NickRules) {
  EXPECT_TRUE(IsValidNick("Az09_.-"));
  EXPECT_TRUE(IsValidNick(std::string(32, 'a')));
  EXPECT_FALSE(IsValidNick(std::string(33, 'a')));
  EXPECT_FALSE(IsValidNick(""));
  EXPECT_FALSE(IsValidNick("a b"));
  EXPECT_TRUE(IsReservedNick("sErVeR"));
  EXPECT_FALSE(IsReservedNick("servers"));
}

// SplitText: pieces of at most 4096 bytes, each a valid text, cut only between characters.
TEST(SplitTextTest, CutsBetweenCharactersAndRefusesBadLinesWhole) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(SplitText(""), V{});
  EXPECT_EQ(SplitText("hello"), V{"hello"});
  const std::string exact(proto::kMaxTextLen, 'a');
  EXPECT_EQ(SplitText(exact), V{exact});
  const std::string over = exact + "b";
  EXPECT_EQ(SplitText(over), (V{exact, "b"}));
  // A four-byte character that would straddle the limit starts the next piece.
  const std::string emoji = "\xf0\x9f\x98\x80";
  const std::string straddle = std::string(proto::kMaxTextLen - 2, 'a') + emoji + "z";
  const V pieces = SplitText(straddle);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0], std::string(proto::kMaxTextLen - 2, 'a'));
  EXPECT_EQ(pieces[1], emoji + "z");
  // Anything a text may not hold, anywhere, and nothing is sent.
  EXPECT_EQ(SplitText(over + "\x1b"), V{});
  EXPECT_EQ(SplitText(over + "\xff"), V{});
  EXPECT_EQ(SplitText("\xe2\x80\xae" + over), V{});
  const std::string long_line(3 * proto::kMaxTextLen + 5, 'c');  // the pieces view into it
  const V long_pieces = SplitText(long_line);
  EXPECT_EQ(long_pieces.size(), 4u);
  for (std::string_view piece : long_pieces) {
    EXPECT_TRUE(IsValidText(piece));
  }
}

}  // namespace
}  // namespace securechat
