// The record layer under attack: every bit flipped, every truncation, wrong sequence numbers,
// the other direction's keys, exhaustion of the sequence space.
#include "securechat/crypto/record.h"

#include <gtest/gtest.h>

#include <limits>

#include "securechat/crypto/constant_time.h"
#include "securechat/wire/frame.h"
#include "support/test_util.h"

namespace securechat {
namespace {

struct Keys {
  EncKey enc = EncKey::FromBytes(testing::Hex("000102030405060708090a0b0c0d0e0f"));
  MacKey mac = MacKey::FromBytes(
      testing::Hex("101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"));
};

class RecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sealer_.Init(keys_.enc, keys_.mac));
    ASSERT_TRUE(opener_.Init(keys_.enc, keys_.mac));
  }
  std::vector<uint8_t> Seal(std::string_view text) {
    std::vector<uint8_t> frame;
    EXPECT_TRUE(sealer_.Seal(testing::Bytes(text), rng_, &frame));
    return frame;
  }

  Keys keys_;
  ScriptedRandom rng_;
  RecordSealer sealer_;
  RecordOpener opener_;
  std::vector<uint8_t> plain_;
};

TEST_F(RecordTest, RoundTripAtEveryLengthAroundBlockBoundaries) {
  for (size_t len : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 1000u, 16383u, 16384u}) {
    std::vector<uint8_t> text(len, static_cast<uint8_t>(len));
    std::vector<uint8_t> frame;
    ASSERT_TRUE(sealer_.Seal(text, rng_, &frame));
    EXPECT_EQ(frame.size(), 4 + 16 + (len / 16 + 1) * 16 + 32);
    FrameHeader h;
    EXPECT_TRUE(
        CheckFrameHeader(FramePolicy{FrameExpect::kRecord, 0}, ByteView(frame).first(4), &h));
    ASSERT_TRUE(opener_.Open(frame, &plain_)) << len;
    EXPECT_EQ(plain_, text);
  }
}

TEST_F(RecordTest, EmptyAndOversizedPlaintextsAreRefused) {
  std::vector<uint8_t> frame = {0xEE};
  EXPECT_FALSE(sealer_.Seal({}, rng_, &frame));
  EXPECT_FALSE(sealer_.Seal(std::vector<uint8_t>(16385, 1), rng_, &frame));
  EXPECT_EQ(frame, std::vector<uint8_t>{0xEE}) << "a refused seal appends nothing";
  EXPECT_EQ(sealer_.sequence(), 0u);
}

TEST_F(RecordTest, EveryFlippedBitIsRejected) {
  const std::vector<uint8_t> frame = Seal("flip me, if you can: forty bytes of text");
  for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
    std::vector<uint8_t> bad = frame;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    RecordOpener fresh;
    ASSERT_TRUE(fresh.Init(keys_.enc, keys_.mac));
    EXPECT_FALSE(fresh.Open(bad, &plain_)) << "bit " << bit;
    EXPECT_TRUE(plain_.empty()) << "nothing of a rejected record may come out";
  }
  EXPECT_TRUE(opener_.Open(frame, &plain_));
}

TEST_F(RecordTest, EveryTruncationIsRejected) {
  const std::vector<uint8_t> frame = Seal("truncate me at every length please");
  for (size_t len = 0; len < frame.size(); ++len) {
    RecordOpener fresh;
    ASSERT_TRUE(fresh.Init(keys_.enc, keys_.mac));
    EXPECT_FALSE(fresh.Open(ByteView(frame).first(len), &plain_)) << len;
  }
  std::vector<uint8_t> longer = frame;
  longer.push_back(0);
  EXPECT_FALSE(opener_.Open(longer, &plain_));
}

TEST_F(RecordTest, ReplayReorderAndDropFailOnTheSequenceNumber) {
  const auto r0 = Seal("zero");
  const auto r1 = Seal("one");
  const auto r2 = Seal("two");
  {
    RecordOpener o;
    ASSERT_TRUE(o.Init(keys_.enc, keys_.mac));
    ASSERT_TRUE(o.Open(r0, &plain_));
    EXPECT_FALSE(o.Open(r0, &plain_)) << "replay";
  }
  {
    RecordOpener o;
    ASSERT_TRUE(o.Init(keys_.enc, keys_.mac));
    EXPECT_FALSE(o.Open(r1, &plain_)) << "reorder or drop of record 0";
  }
  {
    RecordOpener o;
    ASSERT_TRUE(o.Init(keys_.enc, keys_.mac));
    ASSERT_TRUE(o.Open(r0, &plain_));
    EXPECT_FALSE(o.Open(r2, &plain_)) << "drop of record 1";
  }
}

TEST_F(RecordTest, OtherDirectionsKeysDoNotOpen) {
  const auto frame = Seal("reflected");
  EncKey other_enc = EncKey::FromBytes(testing::Hex("ff0102030405060708090a0b0c0d0e0f"));
  MacKey other_mac = MacKey::FromBytes(std::vector<uint8_t>(32, 0x42));
  RecordOpener o;
  ASSERT_TRUE(o.Init(keys_.enc, other_mac));
  EXPECT_FALSE(o.Open(frame, &plain_));
  RecordOpener o2;
  ASSERT_TRUE(o2.Init(other_enc, keys_.mac));
  // The tag verifies, but the wrong AES key garbles the padding or the text: either way the
  // plaintext must not be the original.
  if (o2.Open(frame, &plain_)) {
    EXPECT_NE(plain_, testing::Bytes("reflected"));
  }
}

TEST_F(RecordTest, SequenceNumberNeverWraps) {
  sealer_.set_sequence_for_testing(std::numeric_limits<uint64_t>::max());
  opener_.set_sequence_for_testing(std::numeric_limits<uint64_t>::max());
  const auto last = Seal("the last record");
  ASSERT_TRUE(opener_.Open(last, &plain_));
  std::vector<uint8_t> frame;
  EXPECT_FALSE(sealer_.Seal(testing::Bytes("one more"), rng_, &frame));
  EXPECT_TRUE(frame.empty());
  EXPECT_FALSE(opener_.Open(last, &plain_));
}

TEST_F(RecordTest, TheFullSequenceNumberIsAuthenticated) {
  sealer_.set_sequence_for_testing(uint64_t{1} << 32);
  const auto frame = Seal("high bits");
  opener_.set_sequence_for_testing(0);
  EXPECT_FALSE(opener_.Open(frame, &plain_));
  RecordOpener o;
  ASSERT_TRUE(o.Init(keys_.enc, keys_.mac));
  o.set_sequence_for_testing(uint64_t{1} << 32);
  EXPECT_TRUE(o.Open(frame, &plain_));
}

TEST(PaddingTest, ConstantTimeCheckAgreesWithTheRule) {
  for (int pad = 0; pad <= 17; ++pad) {
    std::vector<uint8_t> block(32, 0xAA);
    for (int i = 0; i < std::min(pad, 32); ++i) {
      block[block.size() - 1 - i] = static_cast<uint8_t>(pad);
    }
    const size_t got = Pkcs7PaddingLen(block);
    EXPECT_EQ(got, pad >= 1 && pad <= 16 ? static_cast<size_t>(pad) : 0u) << pad;
  }
  std::vector<uint8_t> inconsistent(16, 4);
  inconsistent[13] = 5;
  EXPECT_EQ(Pkcs7PaddingLen(inconsistent), 0u);
  EXPECT_EQ(Pkcs7PaddingLen({}), 0u);
}

// The comparator reads eight bytes at a time and then the rest: a difference in any byte, of
// any length around those boundaries, must be seen, and different lengths never compare equal.
TEST(ConstantTimeEqualTest, SeesADifferenceInEveryByteAtEveryLength) {
  for (size_t len = 0; len <= 41; ++len) {
    std::vector<uint8_t> a(len), b(len);
    for (size_t i = 0; i < len; ++i) {
      a[i] = b[i] = static_cast<uint8_t>(i * 37 + 11);
    }
    EXPECT_TRUE(ConstantTimeEqual(a, b)) << len;
    for (size_t i = 0; i < len; ++i) {
      for (uint8_t bit = 1; bit != 0; bit = static_cast<uint8_t>(bit << 1)) {
        b[i] ^= bit;
        EXPECT_FALSE(ConstantTimeEqual(a, b)) << "length " << len << " byte " << i;
        b[i] ^= bit;
      }
    }
    if (len > 0) {
      EXPECT_FALSE(ConstantTimeEqual(a, ByteView(b).first(len - 1))) << len;
    }
  }
}

}  // namespace
}  // namespace securechat
