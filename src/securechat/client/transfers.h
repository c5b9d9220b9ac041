// FileTransfers: the client's side of file transfer (PROTOCOL.md 6.14), for ClientSession.
// It offers files (/send), answers offers (/accept, /decline), stops transfers (/cancel),
// lists them (/transfers), streams an accepted file in chunks only while the connection's
// unsent output is small, and writes a received file to a temporary file that gets its final
// name only once its size and SHA-256 are checked. Files are reached only through a FileSystem
// (client/files.h); what the server sends is checked before it is trusted and kept bounded.
#ifndef SECURECHAT_CLIENT_TRANSFERS_H_
#define SECURECHAT_CLIENT_TRANSFERS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/client/display.h"
#include "securechat/client/files.h"
#include "securechat/crypto/primitives.h"
#include "securechat/wire/message.h"

namespace securechat {

class FileTransfers {
 public:
  // What the transfers need from the session.
  struct Host {
    // Sends a message; false if the connection failed (the session has finished).
    std::function<bool(const msg::ClientMessage&)> send;
    // Shows a client line (text already escaped).
    std::function<void(DisplayLine::Kind, std::string)> show;
    // Shows why a typed command was not carried out, counted as a refused line.
    std::function<void(std::string)> refuse;
    // The bytes the connection holds that the socket has not taken yet.
    std::function<size_t()> unsent;
    // Monotonic milliseconds; empty: no speeds, no times, no in-place status.
    std::function<uint64_t()> clock;
  };

  // Offers from others kept at once (waiting for an answer or being received); more are
  // declined at once, saying so, so that a flood of offers costs a bounded amount.
  static constexpr size_t kMaxIncoming = 16;
  // Our own transfers at once, as a server allows by default (--max_transfers_per_client).
  static constexpr size_t kMaxOutgoing = 4;
  // Chunks are made only while the connection holds less than this unsent: a file is never
  // read faster than the network takes it, and chat lines typed meanwhile wait behind at most
  // this much.
  static constexpr size_t kMaxUnsent = 64 * 1024;
  // How much of a file is read at once to hash it, and at most in one turn of the loop: a large
  // file is hashed a piece at a time between everything else the client does (about a
  // millisecond per turn: `openssl speed -evp sha256` gives 1.7 GB/s here), so /send never
  // freezes the chat.
  static constexpr size_t kHashReadLen = 64 * 1024;
  static constexpr uint64_t kHashPerTurn = 1024 * 1024;
  // The in-place status (Status) changes at most this often.
  static constexpr uint64_t kStatusEveryMs = 250;

  explicit FileTransfers(Host host);
  ~FileTransfers();

  // Without a file system (the default) /send and /accept are refused and every offer is
  // declined. `files` must outlive the transfers; `download_dir` is where /accept without a
  // folder puts files.
  void set_files(FileSystem* files, std::string download_dir) {
    files_ = files;
    download_dir_ = std::move(download_dir);
  }
  // With `on`, progress is not printed as lines every 10% but kept in Status, which a terminal
  // shows in place.
  void set_progress_in_place(bool on) { progress_in_place_ = on; }

  // Command runs /send, /accept, /decline, /cancel and /transfers (`command` in lower case,
  // without its '/'); false if it is none of them.
  bool Command(std::string_view command, std::string_view rest);

  void HandleOffered(const msg::FileOffered& m);
  void HandleIncoming(const msg::FileIncoming& m);
  void HandleAccepted(const msg::FileAccepted& m);
  void HandleData(const msg::FileData& m);
  void HandleEnd(const msg::FileEnd& m);

  // Pump hashes the next kHashPerTurn bytes of a file about to be offered (and offers it once
  // it is hashed), then sends the next chunks of the files being sent while the connection's
  // unsent output is below kMaxUnsent, taking turns between them.
  void Pump();
  // WantsPump: Pump would hash or send something now.
  bool WantsPump() const;
  // Busy: a transfer of ours is offered or under way, or a file is being received; the session
  // does not say goodbye at the end of piped input until it is not.
  bool Busy() const;
  // NotRelayed takes the offers still waiting for their id as refused by a server that does not
  // know the file messages (its ERROR 8, PROTOCOL.md 6.14 "Compatibility"): they are dropped,
  // so that they hold no place and piped input can end. Returns whether there was one.
  bool NotRelayed();
  // ConnectionLost ends every transfer (the server ends them when a side leaves), saying so;
  // partial files are removed.
  void ConnectionLost();
  // Status is a short line about the transfers under way, with a bar ("file 3: [####------]
  // 42%, 882.0 kB of 2.1 MB, 1.2 MB/s, 3 s left"; "file 4: hashing [#---------] 12%, ..."
  // while a file is read before it is offered), changed at most every kStatusEveryMs; empty
  // when none is.
  std::string Status();

 private:
  struct Transfer;
  enum class Dir { kOut, kIn };

  // Find returns the transfer by the user's number, our offer's tag, or the server's id; null
  // if there is none.
  Transfer* FindByNumber(std::string_view word);
  Transfer* FindByTag(uint32_t tag);
  Transfer* FindById(uint32_t id, Dir dir);
  size_t Count(Dir dir) const;
  void Erase(const Transfer* t);

  void Send(std::string_view rest);
  // HashSome hashes up to `budget` more bytes of our file `t`, and offers it once the whole
  // file is hashed. False if `t` ended (erased: it could not be read, or changed) or the
  // connection failed. `typed`: called by /send itself, which refuses the line on failure.
  bool HashSome(Transfer& t, uint64_t budget, bool typed);
  bool StopHashing(Transfer& t, std::string_view why, bool typed);
  static uint64_t HashedPercent(const Transfer& t);
  void Accept(Transfer& t, std::string dir);
  // Cancel stops `t` at the user's word (or declines an offer to us).
  void Cancel(Transfer& t);
  void List();
  // Fail ends an incoming transfer that went wrong: its partial file removed, FILE_CANCEL with
  // `reason` (what the sender is told), and `why` shown here.
  void Fail(Transfer& t, std::string_view reason, std::string why);
  // Complete checks a file received in full, gives it its name and sends FILE_DONE.
  void Complete(Transfer& t);
  // Progress shows a line at every 10% (unless in place).
  void Progress(Transfer& t);
  // Rate is ", 1.2 MB/s, 3 s left" (or ", 1.2 MB/s" when done), empty without a clock.
  std::string Rate(const Transfer& t) const;
  void Show(std::string text);
  void ShowError(std::string text);
  uint64_t Now() const;

  Host host_;
  FileSystem* files_ = nullptr;
  std::string download_dir_;
  bool progress_in_place_ = false;
  std::vector<std::unique_ptr<Transfer>> transfers_;  // at most kMaxIncoming + kMaxOutgoing
  uint32_t next_tag_ = 1;
  uint64_t next_number_ = 1;
  size_t next_turn_ = 0;  // Pump's turn among the transfers
  std::string status_;
  uint64_t status_ms_ = 0;
  std::array<uint8_t, proto::kMaxChunkLen> chunk_{};
  std::vector<uint8_t> hash_buf_;  // kHashReadLen once a file was hashed
};

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_TRANSFERS_H_
