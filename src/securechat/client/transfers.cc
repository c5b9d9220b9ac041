#include "securechat/client/transfers.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "securechat/wire/nick.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

std::string Shown(std::string_view s) { return EscapeForDisplay(s); }

// ShownHash is the SHA-256 as key fingerprints are shown: "SHA256:" and unpadded base64.
std::string ShownHash(std::string_view hash) {
  Sha256Digest digest{};
  std::copy_n(hash.begin(), std::min(hash.size(), digest.size()), digest.begin());
  return FingerprintText(digest);
}

std::string_view AsText(absl::Span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

absl::Span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Why is a status's message, escaped for display (it may hold a path as typed).
std::string Why(const absl::Status& s) {
  const absl::string_view m = s.message();
  return Shown(std::string_view(m.data(), m.size()));
}

// BaseName is the last part of a path as typed ("report.pdf" of "~/docs/report.pdf").
std::string_view BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Bar is a progress bar of kBarCells cells, "[####------]", in plain ASCII: it draws the same
// on every terminal and font.
constexpr uint64_t kBarCells = 10;
std::string Bar(uint64_t done, uint64_t size) {
  const uint64_t full = size == 0 ? kBarCells : std::min(done, size) * kBarCells / size;
  return Cat("[", std::string(full, '#'), std::string(kBarCells - full, '-'), "]");
}

}  // namespace

struct FileTransfers::Transfer {
  enum class State {
    kHashing,     // ours: the file is being read to hash it; nothing sent yet
    kAwaitingId,  // ours: FILE_OFFER sent, FILE_OFFERED not yet received
    kOffered,     // ours: waiting for the receiver; theirs: waiting for /accept or /decline
    kStreaming,   // ours: being sent; theirs: being received
    kSent,        // ours: every byte sent, waiting for the receiver's check (FILE_END done)
  };
  Dir dir = Dir::kOut;
  State state = State::kAwaitingId;
  uint64_t number = 0;        // the user's number for it
  uint32_t tag = 0;           // ours: the offer's tag
  uint32_t id = 0;            // the server's; 0 until FILE_OFFERED
  bool cancel_on_id = false;  // ours: /cancel before FILE_OFFERED: cancel once the id comes
  std::string peer;           // a valid nick
  std::string name;           // as offered (theirs: shown escaped)
  uint64_t size = 0;
  std::string hash;   // 32 bytes
  uint64_t done = 0;  // bytes sent, or written
  uint64_t start_ms = 0;
  uint64_t tenths_shown = 0;           // Progress's last 10% step shown
  std::unique_ptr<FileReader> reader;  // ours
  std::unique_ptr<TempFile> temp;      // theirs, while received
  std::unique_ptr<Sha256> hasher;      // ours while hashed; theirs while received
  uint64_t hashed = 0;                 // ours: bytes hashed so far
  std::string folder;                  // theirs: where it is received

  bool live() const { return id != 0; }
  std::string Label() const { return Cat("file ", number, ": "); }
};

FileTransfers::FileTransfers(Host host) : host_(std::move(host)) {}
FileTransfers::~FileTransfers() = default;

uint64_t FileTransfers::Now() const { return host_.clock ? host_.clock() : 0; }

void FileTransfers::Show(std::string text) {
  host_.show(DisplayLine::Kind::kNotice, std::move(text));
}

void FileTransfers::ShowError(std::string text) {
  host_.show(DisplayLine::Kind::kError, std::move(text));
}

FileTransfers::Transfer* FileTransfers::FindByNumber(std::string_view word) {
  uint64_t n = 0;
  if (!absl::SimpleAtoi(absl::string_view(word.data(), word.size()), &n)) {
    return nullptr;
  }
  for (const auto& t : transfers_) {
    if (t->number == n && !t->cancel_on_id) {
      return t.get();
    }
  }
  return nullptr;
}

FileTransfers::Transfer* FileTransfers::FindByTag(uint32_t tag) {
  for (const auto& t : transfers_) {
    if (t->dir == Dir::kOut && t->state == Transfer::State::kAwaitingId && t->tag == tag) {
      return t.get();
    }
  }
  return nullptr;
}

FileTransfers::Transfer* FileTransfers::FindById(uint32_t id, Dir dir) {
  for (const auto& t : transfers_) {
    if (id != 0 && t->id == id && t->dir == dir) {
      return t.get();
    }
  }
  return nullptr;
}

size_t FileTransfers::Count(Dir dir) const {
  return static_cast<size_t>(std::count_if(transfers_.begin(), transfers_.end(),
                                           [dir](const auto& t) { return t->dir == dir; }));
}

void FileTransfers::Erase(const Transfer* t) {
  // The temporary file of a transfer that ends here is removed with it (TempFile).
  std::erase_if(transfers_, [t](const auto& p) { return p.get() == t; });
  status_ms_ = 0;  // the status changes at once
}

bool FileTransfers::Command(std::string_view command, std::string_view rest) {
  const auto word = [&rest] {
    const size_t end = rest.find(' ');
    std::string_view w = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return w;
  };
  if (command == "send") {
    Send(rest);
  } else if (command == "accept" || command == "decline" || command == "cancel") {
    const std::string_view n = word();
    Transfer* t = FindByNumber(n);
    if (n.empty() || (command != "accept" && !rest.empty())) {
      host_.refuse(command == "accept" ? "usage: /accept N [FOLDER]"
                                       : Cat("usage: /", command, " N"));
    } else if (t == nullptr) {
      host_.refuse(Cat("no file ", Shown(n), "; /transfers lists them"));
    } else if (command != "cancel" &&
               (t->dir != Dir::kIn || t->state != Transfer::State::kOffered)) {
      host_.refuse(Cat("file ", t->number, " is not an offer waiting for your answer; /cancel ",
                       t->number, " stops it"));
    } else if (command == "accept") {
      Accept(*t, rest.empty() ? download_dir_ : std::string(rest));
    } else {
      Cancel(*t);
    }
  } else if (command == "transfers") {
    List();
  } else {
    return false;
  }
  return true;
}

void FileTransfers::Send(std::string_view rest) {
  const size_t space = rest.find(' ');
  const std::string_view to = rest.substr(0, space);
  const std::string_view path = space == std::string_view::npos ? "" : rest.substr(space + 1);
  if (to.empty() || path.empty()) {
    host_.refuse("usage: /send NICK PATH");
    return;
  }
  if (!IsValidNick(to)) {
    host_.refuse(Cat("not sent: a nick is 1 to ", proto::kMaxNickLen, " of A-Z a-z 0-9 _ . -"));
    return;
  }
  if (files_ == nullptr) {
    host_.refuse("not sent: this client cannot send files");
    return;
  }
  if (Count(Dir::kOut) >= kMaxOutgoing) {
    host_.refuse(Cat("not sent: you are already sending ", kMaxOutgoing,
                     " files; wait for one or /cancel it"));
    return;
  }
  uint64_t size = 0;
  absl::StatusOr<std::unique_ptr<FileReader>> reader =
      files_->OpenForReading(std::string(path), &size);
  if (!reader.ok()) {
    host_.refuse(Cat("not sent: ", Why(reader.status())));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->dir = Dir::kOut;
  t->state = Transfer::State::kHashing;
  t->number = next_number_++;
  t->peer = std::string(to);
  // The name the receiver sees is the safe form of ours: a valid file name on the wire.
  t->name = SafeFileName(BaseName(path));
  t->size = size;
  t->reader = std::move(*reader);
  t->hasher = std::make_unique<Sha256>();
  t->start_ms = Now();
  Transfer& sent = *t;
  transfers_.push_back(std::move(t));
  // A small file is hashed and offered at once; a large one in the turns of the loop (Pump),
  // so that chat goes on while it is read.
  if (!HashSome(sent, kHashPerTurn, /*typed=*/true)) {
    return;
  }
  if (sent.state == Transfer::State::kHashing) {
    Show(Cat(sent.Label(), "reading ", Shown(sent.name), " (", FormatBytes(size),
             ") to hash it before it is offered to ", sent.peer, "; /cancel ", sent.number,
             " stops it"));
  }
}

bool FileTransfers::HashSome(Transfer& t, uint64_t budget, bool typed) {
  // The SHA-256 of the whole file, read as it will be sent: in pieces, never whole in memory.
  std::vector<uint8_t>& buf = hash_buf_;
  buf.resize(kHashReadLen);
  bool end = false;
  for (uint64_t read = 0; read < budget && !end;) {
    const absl::StatusOr<size_t> got = t.reader->ReadAt(t.hashed, absl::MakeSpan(buf));
    if (!got.ok()) {
      return StopHashing(t, Why(got.status()), typed);
    }
    end = *got == 0;
    if (!t.hasher->Update(absl::MakeConstSpan(buf.data(), *got))) {
      return StopHashing(t, "OpenSSL failed to hash the file", typed);
    }
    t.hashed += *got;
    read += *got;
    end = end || t.hashed > t.size;  // it grew while it was read
  }
  if (!end) {
    return true;  // more in the next turn
  }
  Sha256Digest digest{};
  if (t.hashed != t.size || !t.hasher->Final(&digest)) {
    return StopHashing(t, Cat(Shown(t.name), " changed while it was read"), typed);
  }
  t.hasher.reset();
  t.hash = std::string(AsText(absl::MakeConstSpan(digest)));
  t.state = Transfer::State::kAwaitingId;
  t.tag = next_tag_++;
  if (next_tag_ == 0) {
    next_tag_ = 1;
  }
  status_ms_ = 0;
  if (!host_.send(msg::FileOffer{t.tag, t.peer, t.name, t.size, t.hash})) {
    return false;
  }
  Show(Cat("offering ", Shown(t.name), " (", FormatBytes(t.size), ") to ", t.peer, ": file ",
           t.number, ", /cancel ", t.number, " stops it"));
  return true;
}

bool FileTransfers::StopHashing(Transfer& t, std::string_view why, bool typed) {
  if (typed) {
    next_number_ = t.number;  // never shown: the next /send takes it
    host_.refuse(Cat("not sent: ", why));
  } else {
    ShowError(Cat(t.Label(), "not sent: ", why));
  }
  Erase(&t);
  return false;
}

void FileTransfers::Accept(Transfer& t, std::string folder) {
  if (files_ == nullptr) {
    host_.refuse("not accepted: this client cannot receive files");
    return;
  }
  const absl::StatusOr<uint64_t> free = files_->FreeBytes(folder);
  if (!free.ok()) {
    host_.refuse(Cat("not accepted: ", Why(free.status())));
    return;
  }
  if (*free < t.size) {
    host_.refuse(Cat("not accepted: ", Shown(t.name), " needs ", FormatBytes(t.size), " and ",
                     Shown(folder), " has ", FormatBytes(*free), " free; make room, or /accept ",
                     t.number, " FOLDER"));
    return;
  }
  absl::StatusOr<std::unique_ptr<TempFile>> temp = files_->CreateTemp(folder);
  if (!temp.ok()) {
    host_.refuse(Cat("not accepted: ", Why(temp.status())));
    return;
  }
  if (!host_.send(msg::FileAccept{t.id})) {
    return;
  }
  t.temp = std::move(*temp);
  t.hasher = std::make_unique<Sha256>();
  t.folder = std::move(folder);
  t.state = Transfer::State::kStreaming;
  t.start_ms = Now();
  status_ms_ = 0;
  Show(Cat(t.Label(), "receiving ", Shown(t.name), " (", FormatBytes(t.size), ") from ", t.peer,
           " into ", Shown(t.folder)));
  if (t.size == 0) {
    Complete(t);  // whole at once
  }
}

void FileTransfers::Cancel(Transfer& t) {
  t.temp.reset();  // the partial file is gone before anyone is told
  if (t.state == Transfer::State::kHashing) {
    Show(Cat(t.Label(), "cancelled ", Shown(t.name), " before it was offered"));
  } else if (t.dir == Dir::kIn && t.state == Transfer::State::kOffered) {
    host_.send(msg::FileCancel{t.id, ""});
    Show(Cat(t.Label(), "declined ", Shown(t.name), " from ", t.peer));
  } else if (t.id == 0) {
    // The server has not numbered our offer yet: it is cancelled as soon as it has.
    t.cancel_on_id = true;
    t.reader.reset();
    Show(Cat(t.Label(), "cancelled ", Shown(t.name)));
    return;
  } else {
    host_.send(msg::FileCancel{t.id, ""});
    Show(Cat(t.Label(), "cancelled ", Shown(t.name), t.dir == Dir::kOut ? " to " : " from ",
             t.peer));
  }
  Erase(&t);
}

void FileTransfers::List() {
  size_t shown = 0;
  for (const auto& p : transfers_) {
    const Transfer& t = *p;
    if (t.cancel_on_id) {
      continue;
    }
    ++shown;
    std::string what;
    const std::string size = FormatBytes(t.size);
    if (t.dir == Dir::kOut) {
      what = Cat(Shown(t.name), " (", size, ") to ", t.peer, ": ");
      switch (t.state) {
        case Transfer::State::kHashing:
          what += Cat("reading it to hash it, ", HashedPercent(t), "%");
          break;
        case Transfer::State::kAwaitingId:
        case Transfer::State::kOffered:
          what += "offered, waiting for an answer";
          break;
        case Transfer::State::kStreaming:
          what += Cat("sending, ", t.size == 0 ? 100 : t.done * 100 / t.size, "%", Rate(t));
          break;
        case Transfer::State::kSent:
          what += "sent, waiting for the receiver's check";
          break;
      }
    } else {
      what = Cat(Shown(t.name), " (", size, ") from ", t.peer, ": ");
      what += t.state == Transfer::State::kOffered
                  ? Cat("/accept ", t.number, " or /decline ", t.number)
                  : Cat("receiving, ", t.size == 0 ? 100 : t.done * 100 / t.size, "%", Rate(t));
    }
    Show(Cat(t.Label(), what));
  }
  if (shown == 0) {
    Show("no file transfers");
  }
}

void FileTransfers::HandleOffered(const msg::FileOffered& m) {
  Transfer* t = FindByTag(m.tag);
  if (m.id == 0 || FindById(m.id, Dir::kOut) != nullptr) {
    return;  // nothing a server could mean: a hostile server's
  }
  if (t == nullptr) {
    // An offer we no longer wait for (PROTOCOL.md 6.14): it would hold a place on the server
    // for a transfer nobody here follows.
    host_.send(msg::FileCancel{m.id, ""});
    return;
  }
  t->id = m.id;
  t->state = Transfer::State::kOffered;
  if (t->cancel_on_id) {
    host_.send(msg::FileCancel{t->id, ""});
    Erase(t);
  }
}

void FileTransfers::HandleIncoming(const msg::FileIncoming& m) {
  if (m.id == 0 || FindById(m.id, Dir::kIn) != nullptr) {
    return;  // an id the server already gave us: nothing it could mean
  }
  const std::string name = Shown(m.name);
  if (files_ == nullptr) {
    host_.send(msg::FileCancel{m.id, "this client does not take files"});
    Show(Cat(Shown(m.from), " offered ", name, "; declined: this client does not take files"));
    return;
  }
  if (Count(Dir::kIn) >= kMaxIncoming) {
    host_.send(msg::FileCancel{m.id, "too many offers waiting"});
    Show(Cat(Shown(m.from), " offered ", name, "; declined: ", kMaxIncoming,
             " offers are already waiting (/transfers lists them)"));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->dir = Dir::kIn;
  t->state = Transfer::State::kOffered;
  t->number = next_number_++;
  t->id = m.id;
  t->peer = std::string(m.from);
  t->name = SafeFileName(m.name);
  t->size = m.size;
  t->hash = std::string(m.hash);
  Show(Cat(t->peer, " offers ", name, " (", FormatBytes(m.size), ", ", ShownHash(m.hash),
           "): /accept ", t->number, " or /decline ", t->number));
  transfers_.push_back(std::move(t));
}

void FileTransfers::HandleAccepted(const msg::FileAccepted& m) {
  Transfer* t = FindById(m.id, Dir::kOut);
  if (t == nullptr || t->state != Transfer::State::kOffered) {
    return;
  }
  t->state = t->size == 0 ? Transfer::State::kSent : Transfer::State::kStreaming;
  t->start_ms = Now();
  status_ms_ = 0;
  Show(Cat(t->Label(), t->peer, " accepted ", Shown(t->name), "; sending"));
}

void FileTransfers::HandleData(const msg::FileData& m) {
  Transfer* t = FindById(m.id, Dir::kIn);
  if (t == nullptr) {
    return;  // one we ended: the server relayed it before it had our FILE_CANCEL
  }
  if (t->state != Transfer::State::kStreaming) {
    Fail(*t, "data before the offer was accepted", "data came before you accepted it");
    return;
  }
  if (m.offset != t->done) {
    Fail(*t, "data out of order",
         Cat("data came out of order (at ", m.offset, ", expected ", t->done, ")"));
    return;
  }
  if (m.data.size() > t->size - t->done) {
    Fail(*t, "more data than offered",
         Cat("more data came than the ", FormatBytes(t->size), " offered"));
    return;
  }
  if (const absl::Status written = t->temp->Write(AsBytes(m.data)); !written.ok()) {
    const bool full = absl::IsResourceExhausted(written);
    Fail(*t, full ? "the receiver's disk is full" : "the receiver cannot write the file",
         Cat("cannot write it: ", Why(written)));
    return;
  }
  if (!t->hasher->Update(AsBytes(m.data))) {
    Fail(*t, "the receiver cannot hash the file", "OpenSSL failed to hash it");
    return;
  }
  t->done += m.data.size();
  if (t->done == t->size) {
    Complete(*t);
  } else {
    Progress(*t);
  }
}

void FileTransfers::Complete(Transfer& t) {
  Sha256Digest digest{};
  if (!t.hasher->Final(&digest)) {
    Fail(t, "the receiver cannot hash the file", "OpenSSL failed to hash it");
    return;
  }
  if (AsText(absl::MakeConstSpan(digest)) != t.hash) {
    Fail(t, "the file does not match its SHA-256",
         Cat("what came does not match the offered SHA-256 (", ShownHash(t.hash), "): removed"));
    return;
  }
  if (const absl::Status synced = t.temp->Sync(); !synced.ok()) {
    Fail(t, "the receiver cannot write the file", Cat("cannot write it: ", Why(synced)));
    return;
  }
  const absl::StatusOr<std::string> path = t.temp->Publish(t.name);
  if (!path.ok()) {
    Fail(t, "the receiver cannot name the file", Cat("cannot name it: ", Why(path.status())));
    return;
  }
  t.temp.reset();
  Show(Cat(t.Label(), Shown(t.name), " from ", t.peer, " saved as ", Shown(*path), " (",
           FormatBytes(t.size), ", SHA-256 checked", Rate(t), ")"));
  host_.send(msg::FileDone{t.id});
  Erase(&t);
}

void FileTransfers::Fail(Transfer& t, std::string_view reason, std::string why) {
  t.temp.reset();  // removes the partial file
  if (t.live()) {
    host_.send(msg::FileCancel{t.id, reason});
  }
  ShowError(Cat(t.Label(), Shown(t.name), " from ", t.peer, " not kept: ", why));
  Erase(&t);
}

void FileTransfers::HandleEnd(const msg::FileEnd& m) {
  const auto why = static_cast<proto::FileEnd>(m.why);
  Transfer* t = nullptr;
  if (m.id == 0) {
    t = FindByTag(m.tag);
  } else {
    t = FindById(m.id, m.tag != 0 ? Dir::kOut : Dir::kIn);
  }
  if (t == nullptr || t->cancel_on_id) {
    if (t != nullptr) {
      Erase(t);
    }
    return;  // one we ended ourselves, or none of ours
  }
  t->temp.reset();  // the partial file is gone before anyone is told
  const std::string reason = m.reason.empty() ? "" : Cat(": ", Shown(m.reason));
  const std::string name = Shown(t->name);
  const std::string label = t->Label();
  const bool ours = t->dir == Dir::kOut;
  switch (why) {
    case proto::FileEnd::kDone:
      if (ours) {
        Show(Cat(label, t->peer, " has ", name, " (", FormatBytes(t->size), ", SHA-256 checked",
                 Rate(*t), ")"));
      } else {
        // A file we received whole was saved and forgotten (Complete): this one is not whole.
        // Only a server that breaks the protocol says so; its partial file is already gone.
        ShowError(Cat(label, name, " from ", t->peer,
                      " not kept: the server ended it as done before all of it came"));
      }
      break;
    case proto::FileEnd::kDeclined:
      Show(Cat(label, t->peer, " declined ", name, reason));
      break;
    case proto::FileEnd::kSenderCancelled:
      ShowError(Cat(label, t->peer, " cancelled ", name, reason));
      break;
    case proto::FileEnd::kReceiverCancelled:
      ShowError(Cat(label, t->peer, " stopped ", name, reason));
      break;
    case proto::FileEnd::kExpired:
      ShowError(Cat(label, "the offer of ", name, ours ? " to " : " from ", t->peer,
                    " expired unanswered"));
      break;
    case proto::FileEnd::kGone:
      ShowError(Cat(label, name, " stopped: ", t->peer, " left"));
      break;
    case proto::FileEnd::kBroken:
      ShowError(Cat(label, name, " stopped: the server says the data came out of order", reason));
      break;
    case proto::FileEnd::kRefused:
      ShowError(Cat(label, "the server refused the offer of ", name, " to ", t->peer, reason));
      break;
    case proto::FileEnd::kStalled:
      ShowError(
          Cat(label, name, " stopped: ",
              ours ? Cat(t->peer, " took no data for too long") : "we took no data for too long",
              reason));
      break;
    default:
      ShowError(Cat(label, name, " stopped by the server (", static_cast<int>(m.why), ")", reason));
      break;
  }
  Erase(t);
}

void FileTransfers::Progress(Transfer& t) {
  if (progress_in_place_ || t.size == 0) {
    return;
  }
  const uint64_t tenths = t.done / (t.size / 10 + (t.size % 10 != 0 ? 1 : 0));
  if (tenths <= t.tenths_shown || t.done == t.size) {
    return;
  }
  t.tenths_shown = tenths;
  Show(Cat(t.Label(), Shown(t.name), " ", t.done * 100 / t.size, "% (", FormatBytes(t.done), " of ",
           FormatBytes(t.size), Rate(t), ")"));
}

uint64_t FileTransfers::HashedPercent(const Transfer& t) {
  return t.size == 0 ? 100 : std::min(t.hashed, t.size) * 100 / t.size;
}

std::string FileTransfers::Rate(const Transfer& t) const {
  if (!host_.clock) {
    return "";
  }
  const uint64_t elapsed = std::max<uint64_t>(1, Now() - t.start_ms);
  const uint64_t per_second = t.done * 1000 / elapsed;
  std::string out = Cat(", ", FormatBytes(per_second), "/s");
  if (t.done < t.size && per_second > 0) {
    // Rounded up to a whole second: "0 s left" is not something a person can wait for.
    const uint64_t left_ms = (t.size - t.done) * 1000 / per_second;
    out += Cat(", ", FormatElapsed(std::max<uint64_t>(1, (left_ms + 999) / 1000) * 1000), " left");
  }
  return out;
}

void FileTransfers::Pump() {
  // The oldest file being hashed gets a bounded share of this turn.
  for (const auto& p : transfers_) {
    if (p->state == Transfer::State::kHashing) {
      HashSome(*p, kHashPerTurn, /*typed=*/false);
      break;  // HashSome may have erased it
    }
  }
  while (host_.unsent() < kMaxUnsent) {
    Transfer* t = nullptr;
    for (size_t i = 0; i < transfers_.size() && t == nullptr; ++i) {
      Transfer* c = transfers_[(next_turn_ + i) % transfers_.size()].get();
      if (c->dir == Dir::kOut && c->state == Transfer::State::kStreaming) {
        t = c;
        next_turn_ = (next_turn_ + i + 1) % transfers_.size();
      }
    }
    if (t == nullptr) {
      return;
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_.size(), t->size - t->done));
    const absl::StatusOr<size_t> got =
        t->reader->ReadAt(t->done, absl::MakeSpan(chunk_.data(), want));
    if (!got.ok() || *got == 0) {
      host_.send(msg::FileCancel{t->id, "the sender cannot read the file"});
      ShowError(Cat(t->Label(), Shown(t->name), " stopped: ",
                    got.ok() ? "the file got shorter while it was sent" : Why(got.status())));
      Erase(t);
      continue;
    }
    if (!host_.send(
            msg::FileChunk{t->id, t->done, AsText(absl::MakeConstSpan(chunk_.data(), *got))})) {
      return;
    }
    t->done += *got;
    if (t->done == t->size) {
      t->state = Transfer::State::kSent;
      t->reader.reset();
      status_ms_ = 0;
    } else {
      Progress(*t);
    }
  }
}

bool FileTransfers::WantsPump() const {
  const auto in = [this](Transfer::State state) {
    return std::any_of(transfers_.begin(), transfers_.end(),
                       [state](const auto& t) { return t->dir == Dir::kOut && t->state == state; });
  };
  return in(Transfer::State::kHashing) ||
         (host_.unsent() < kMaxUnsent && in(Transfer::State::kStreaming));
}

bool FileTransfers::Busy() const {
  return std::any_of(transfers_.begin(), transfers_.end(), [](const auto& t) {
    return t->dir == Dir::kOut || t->state == Transfer::State::kStreaming;
  });
}

bool FileTransfers::NotRelayed() {
  const size_t before = transfers_.size();
  std::erase_if(transfers_, [](const auto& t) {
    return t->dir == Dir::kOut && t->state == Transfer::State::kAwaitingId;
  });
  return transfers_.size() != before;
}

void FileTransfers::ConnectionLost() {
  for (const auto& t : transfers_) {
    t->temp.reset();  // the partial files are gone before anyone is told
  }
  for (const auto& t : transfers_) {
    if (!t->cancel_on_id) {
      ShowError(Cat(t->Label(), Shown(t->name), " stopped: the connection was lost"));
    }
  }
  transfers_.clear();  // partial files removed (TempFile)
  status_ms_ = 0;
}

std::string FileTransfers::Status() {
  if (!host_.clock) {
    return "";
  }
  const uint64_t now = Now();
  if (status_ms_ != 0 && now - status_ms_ < kStatusEveryMs) {
    return status_;
  }
  status_ms_ = std::max<uint64_t>(now, 1);
  status_.clear();
  size_t more = 0;
  for (const auto& p : transfers_) {
    const Transfer& t = *p;
    const bool hashing = t.state == Transfer::State::kHashing;
    if ((t.state != Transfer::State::kStreaming && !hashing) || t.size == 0) {
      continue;
    }
    if (!status_.empty()) {
      ++more;
      continue;
    }
    const uint64_t done = hashing ? std::min(t.hashed, t.size) : t.done;
    status_ = Cat(t.Label(), hashing ? "hashing " : "", Bar(done, t.size), " ", done * 100 / t.size,
                  "%, ", FormatBytes(done), " of ", FormatBytes(t.size), hashing ? "" : Rate(t));
  }
  if (more > 0) {
    status_ += Cat(" (+", more, ")");
  }
  return status_;
}

}  // namespace securechat
