// ChatService against a real, freshly migrated PostgreSQL database with a hub that records what
// is published: who may open, read and write which chat, idempotent sends, history pages that
// stay exact under concurrent sends, read markers, the send rate limit and offline notifications.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "modules/chats/send_limiter.hpp"
#include "modules/chats/service.hpp"
#include "modules/notifications/service.hpp"
#include "modules/users/accounts.hpp"
#include "modules/users/service.hpp"
#include "recording_hub.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/storage/local_store.hpp"
#include "system.hpp"
#include "test_database.hpp"

namespace reelhub::chats {
namespace {

using reelhub::testing::RecordingHub;

class ChatServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  auth::AuthUser make_user(const std::string& prefix = "u") {
    const std::string name = prefix + "_" + random_hex(5);
    const auto account = accounts_.create({name, name + "@example.com", "not-a-real-hash", auth::Role::viewer});
    return auth::AuthUser{account.id, account.username, account.role, "session"};
  }

  Chat direct(const auth::AuthUser& a, const auth::AuthUser& b) {
    return service_.create(a, {.type = ChatType::direct, .member_ids = {b.id}}).chat;
  }

  /// A group of `owner` that each of `members` joined by accepting their invitation.
  Chat group(const auth::AuthUser& owner, const std::vector<auth::AuthUser>& members, const std::string& title = "g") {
    std::vector<std::int64_t> ids;
    for (const auto& m : members) ids.push_back(m.id);
    const Chat chat = service_.create(owner, {.type = ChatType::group, .member_ids = ids, .title = title}).chat;
    for (const auto& m : members) service_.accept(m, chat.id);
    return chat;
  }

  static std::vector<std::string> texts(const std::vector<Message>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.text);
    return out;
  }

  static void expect_error(ErrorCode code, const std::function<void()>& fn, const std::string& what) {
    try {
      fn();
      ADD_FAILURE() << what << ": no error";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), code) << what << ": " << e.what();
    }
  }

  static std::vector<std::int64_t> seqs(const std::vector<Message>& messages) {
    std::vector<std::int64_t> out;
    for (const auto& m : messages) out.push_back(m.seq);
    return out;
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 4}, metrics_};
  // Where the users service keeps avatars, which these tests never upload.
  reelhub::testing::TempDir avatar_dir_{"reelhub-chats-avatars"};
  storage::LocalStore avatar_store_{avatar_dir_.path(), storage::UrlSigner("unused"), ""};
  users::Accounts accounts_{pool_};
  RecordingHub hub_;
  notifications::NotificationService notifications_{pool_, hub_};
  ChatService service_{pool_, hub_, notifications_, RateRule{1000, 60}};
};

TEST_F(ChatServiceTest, DirectChatIsOpenedOncePerPair) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");

  const Opened first = service_.create(alice, {.type = ChatType::direct, .member_ids = {bob.id}});
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.chat.type, ChatType::direct);
  EXPECT_FALSE(first.chat.title);
  EXPECT_EQ(first.chat.created_by, alice.id);
  ASSERT_EQ(first.chat.members.size(), 2u);
  std::set<std::string> names{first.chat.members[0].username, first.chat.members[1].username};
  EXPECT_EQ(names, (std::set<std::string>{alice.username, bob.username}));
  EXPECT_FALSE(first.chat.last_message);
  EXPECT_EQ(first.chat.unread_count, 0);

  // Bob opening it, listing Alice too, finds the same chat.
  const Opened again = service_.create(bob, {.type = ChatType::direct, .member_ids = {alice.id, bob.id}});
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.chat.id, first.chat.id);
}

TEST_F(ChatServiceTest, ConcurrentOpensOfOnePairMakeOneChat) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  std::vector<std::string> ids(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { ids[i] = direct(i % 2 ? alice : bob, i % 2 ? bob : alice).id; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
}

TEST_F(ChatServiceTest, CreateRefusesBadMembers) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const auto carol = make_user("carol");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.create(alice, {.type = ChatType::direct, .member_ids = {alice.id}}); }, "only self");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.create(alice, {.type = ChatType::direct, .member_ids = {bob.id, carol.id}}); },
               "direct with two others");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.create(alice, {.type = ChatType::direct, .member_ids = {bob.id}, .title = "x"}); },
               "direct with a title");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.create(alice, {.type = ChatType::group, .member_ids = {}}); }, "empty group");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.create(alice, {.type = ChatType::group, .member_ids = {bob.id, 999999999}}); },
               "unknown member");
}

TEST_F(ChatServiceTest, UserWhoBlockedTheCallerCannotBeMessaged) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const auto carol = make_user("carol");
  users::UsersService users(pool_, avatar_store_);
  const Chat chat = direct(alice, bob);
  users.block(bob, alice.id);

  expect_error(ErrorCode::forbidden, [&] { direct(alice, bob); }, "opening a direct chat with a blocker");
  expect_error(ErrorCode::forbidden,
               [&] { service_.create(alice, {.type = ChatType::group, .member_ids = {carol.id, bob.id}}); },
               "a group with a blocker");
  expect_error(ErrorCode::forbidden, [&] { service_.send(alice, chat.id, "hi", std::nullopt); },
               "writing to a blocker");
  // The blocker may still write, and both still read.
  EXPECT_TRUE(service_.send(bob, chat.id, "bye", std::nullopt).created);
  EXPECT_EQ(service_.history(alice, chat.id, {}).messages.size(), 1u);

  users.unblock(bob, alice.id);
  EXPECT_TRUE(service_.send(alice, chat.id, "hi again", std::nullopt).created);
}

TEST_F(ChatServiceTest, SendStoresPublishesAndDeduplicatesRetries) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  hub_.set_online(bob.id, true);
  const Chat chat = direct(alice, bob);
  const std::string topic = "chat:" + chat.id;

  const Sent sent = service_.send(alice, chat.id, "hello", "c-1");
  EXPECT_TRUE(sent.created);
  EXPECT_EQ(sent.message.seq, 1);
  EXPECT_EQ(sent.message.sender_id, alice.id);
  EXPECT_EQ(sent.message.text, "hello");
  EXPECT_EQ(sent.message.client_msg_id, "c-1");
  EXPECT_EQ(sent.message.chat_id, chat.id);

  auto published = hub_.events(topic, "message.new");
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].data["id"], sent.message.id);
  EXPECT_EQ(published[0].data["text"], "hello");
  EXPECT_EQ(published[0].data["seq"], 1);

  const Sent retry = service_.send(alice, chat.id, "hello", "c-1");
  EXPECT_FALSE(retry.created);
  EXPECT_EQ(retry.message.id, sent.message.id);
  EXPECT_EQ(hub_.events(topic, "message.new").size(), 1u) << "a retry is not published again";
  expect_error(ErrorCode::conflict, [&] { service_.send(alice, chat.id, "other text", "c-1"); },
               "a reused client_msg_id with another text");

  // The key is the sender's: Bob may use the same one.
  EXPECT_TRUE(service_.send(bob, chat.id, "hello", "c-1").created);
  EXPECT_EQ(service_.history(alice, chat.id, {}).messages.size(), 2u);
}

TEST_F(ChatServiceTest, ConcurrentRetriesStoreOneMessage) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const Chat chat = direct(alice, bob);
  std::vector<Sent> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) threads.emplace_back([&] { result = service_.send(alice, chat.id, "once", "same"); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count_if(results.begin(), results.end(), [](const Sent& s) { return s.created; }), 1);
  for (const auto& r : results) EXPECT_EQ(r.message.id, results[0].message.id);
  EXPECT_EQ(service_.history(alice, chat.id, {}).messages.size(), 1u);
}

TEST_F(ChatServiceTest, TextRules) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const Chat chat = direct(alice, bob);
  for (const std::string& text : {std::string(), std::string(" \t\n "), std::string("\u3000\u200b\u00a0"),
                                  std::string(4001, 'a'), std::string("bell\a"), std::string("\xff\xfe")}) {
    expect_error(ErrorCode::validation_failed, [&] { service_.send(alice, chat.id, text, std::nullopt); },
                 "text '" + text.substr(0, 20) + "'");
  }
  std::string longest;
  for (int i = 0; i < 4000; ++i) longest += "\u00e9";  // two bytes each: the limit counts characters
  EXPECT_TRUE(service_.send(alice, chat.id, longest, std::nullopt).created);
  EXPECT_TRUE(service_.send(alice, chat.id, "line one\nline two\ttabbed", std::nullopt).created);
}

TEST_F(ChatServiceTest, MembershipIsCheckedOnEveryReadAndWrite) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const auto mallory = make_user("mallory");
  const Chat chat = direct(alice, bob);
  const Sent sent = service_.send(alice, chat.id, "private", std::nullopt);

  expect_error(ErrorCode::forbidden, [&] { service_.send(mallory, chat.id, "hi", std::nullopt); }, "send");
  expect_error(ErrorCode::forbidden, [&] { service_.history(mallory, chat.id, {}); }, "history");
  expect_error(ErrorCode::forbidden, [&] { service_.mark_read(mallory, chat.id, sent.message.id); }, "read");
  expect_error(ErrorCode::forbidden, [&] { service_.typing(mallory, chat.id); }, "typing");
  for (const std::string& id : {std::string("00000000-0000-4000-8000-000000000000"), std::string("not-a-uuid"),
                                std::string("1'; DROP TABLE chats; --")}) {
    expect_error(ErrorCode::not_found, [&] { service_.send(alice, id, "hi", std::nullopt); }, "send to " + id);
    expect_error(ErrorCode::not_found, [&] { service_.history(alice, id, {}); }, "history of " + id);
  }
  EXPECT_TRUE(service_.list(mallory, std::nullopt, 50).chats.empty());

  EXPECT_TRUE(service_.may_subscribe(alice, chat.id));
  EXPECT_TRUE(service_.may_subscribe(bob, chat.id));
  EXPECT_FALSE(service_.may_subscribe(mallory, chat.id));
  std::string upper = chat.id;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  EXPECT_FALSE(service_.may_subscribe(alice, upper)) << "events are published under the lower-case id only";
  EXPECT_FALSE(service_.may_subscribe(alice, "garbage"));
  // An upper-case id in a REST path is the same chat.
  EXPECT_EQ(service_.history(alice, upper, {}).messages.size(), 1u);
}

TEST_F(ChatServiceTest, HistoryPagesBackwardsAndReplaysForwards) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const Chat chat = direct(alice, bob);
  std::vector<Message> sent;
  for (int i = 1; i <= 7; ++i) sent.push_back(service_.send(i % 2 ? alice : bob, chat.id, "m" + std::to_string(i), std::nullopt).message);

  auto page = service_.history(alice, chat.id, {.limit = 3});
  EXPECT_EQ(seqs(page.messages), (std::vector<std::int64_t>{7, 6, 5}));
  ASSERT_TRUE(page.next_cursor);
  page = service_.history(alice, chat.id, {.before = page.next_cursor, .limit = 3});
  EXPECT_EQ(seqs(page.messages), (std::vector<std::int64_t>{4, 3, 2}));
  page = service_.history(alice, chat.id, {.before = page.next_cursor, .limit = 3});
  EXPECT_EQ(seqs(page.messages), (std::vector<std::int64_t>{1}));
  EXPECT_FALSE(page.next_cursor);

  page = service_.history(bob, chat.id, {.after = sent[1].id, .limit = 3});
  EXPECT_EQ(seqs(page.messages), (std::vector<std::int64_t>{3, 4, 5}));
  ASSERT_TRUE(page.next_cursor);
  page = service_.history(bob, chat.id, {.after = page.next_cursor, .limit = 3});
  EXPECT_EQ(seqs(page.messages), (std::vector<std::int64_t>{6, 7}));
  EXPECT_FALSE(page.next_cursor);
  EXPECT_TRUE(service_.history(bob, chat.id, {.after = sent.back().id}).messages.empty());

  expect_error(ErrorCode::validation_failed,
               [&] { service_.history(alice, chat.id, {.before = sent[3].id, .after = sent[1].id}); }, "both cursors");
  expect_error(ErrorCode::validation_failed, [&] { service_.history(alice, chat.id, {.before = "nope"}); },
               "a cursor that is no message id");
  const Chat other = direct(alice, make_user("carol"));
  expect_error(ErrorCode::validation_failed, [&] { service_.history(alice, other.id, {.after = sent[0].id}); },
               "a message of another chat");
}

TEST_F(ChatServiceTest, ConcurrentSendsGetGaplessSeqsInCommitOrder) {
  const auto owner = make_user("owner");
  std::vector<auth::AuthUser> writers;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    writers.push_back(make_user("w"));
    ids.push_back(writers.back().id);
  }
  const Chat chat = group(owner, writers, "busy");

  // A reader replaying with `after` while writers send must never skip a message: every page
  // continues exactly where the last one ended.
  const Message first = service_.send(owner, chat.id, "start", std::nullopt).message;
  std::atomic<bool> done{false};
  std::vector<std::int64_t> replayed{first.seq};
  std::thread reader([&] {
    std::string after = first.id;
    while (true) {
      const bool writers_finished = done.load();
      const MessagePage page = service_.history(owner, chat.id, {.after = after, .limit = 5});
      for (const auto& m : page.messages) replayed.push_back(m.seq);
      if (!page.messages.empty()) after = page.messages.back().id;
      else if (writers_finished) break;
    }
  });
  std::vector<std::thread> threads;
  for (const auto& writer : writers) {
    threads.emplace_back([&, writer] {
      for (int i = 0; i < 10; ++i) service_.send(writer, chat.id, "x", std::nullopt);
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  reader.join();

  std::vector<std::int64_t> expected;
  for (std::int64_t i = 1; i <= 41; ++i) expected.push_back(i);
  EXPECT_EQ(replayed, expected);
  std::vector<std::int64_t> published;
  for (const auto& e : hub_.events("chat:" + chat.id, "message.new")) published.push_back(e.data["seq"]);
  std::sort(published.begin(), published.end());
  EXPECT_EQ(published, expected);
}

TEST_F(ChatServiceTest, ReadMarkersAndUnreadCounts) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const Chat chat = direct(alice, bob);
  std::vector<Message> sent;
  for (int i = 0; i < 5; ++i) sent.push_back(service_.send(alice, chat.id, "m" + std::to_string(i), std::nullopt).message);

  auto bobs = service_.list(bob, std::nullopt, 50).chats;
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].unread_count, 5);
  ASSERT_TRUE(bobs[0].last_message);
  EXPECT_EQ(bobs[0].last_message->id, sent.back().id);
  EXPECT_EQ(service_.list(alice, std::nullopt, 50).chats[0].unread_count, 0) << "own messages are read";

  const ReadReceipt receipt = service_.mark_read(bob, chat.id, sent[2].id);
  EXPECT_EQ(receipt.last_read_seq, 3);
  EXPECT_EQ(receipt.unread_count, 2);
  auto reads = hub_.events("chat:" + chat.id, "message.read");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].data["user_id"], bob.id);
  EXPECT_EQ(reads[0].data["message_id"], sent[2].id);

  // Never backwards, and nothing to announce.
  const ReadReceipt older = service_.mark_read(bob, chat.id, sent[0].id);
  EXPECT_EQ(older.last_read_seq, 3);
  EXPECT_EQ(older.unread_count, 2);
  EXPECT_EQ(hub_.events("chat:" + chat.id, "message.read").size(), 1u);
  EXPECT_EQ(service_.list(bob, std::nullopt, 50).chats[0].unread_count, 2);

  // Replying reads everything before the reply.
  service_.send(bob, chat.id, "ok", std::nullopt);
  EXPECT_EQ(service_.list(bob, std::nullopt, 50).chats[0].unread_count, 0);
  EXPECT_EQ(service_.list(alice, std::nullopt, 50).chats[0].unread_count, 1);

  expect_error(ErrorCode::validation_failed, [&] { service_.mark_read(bob, chat.id, "nope"); }, "bad message id");
}

TEST_F(ChatServiceTest, ListIsOrderedByActivityAndPaged) {
  const auto me = make_user("me");
  std::vector<Chat> chats;
  for (int i = 0; i < 5; ++i) chats.push_back(direct(me, make_user("peer")));
  service_.send(me, chats[1].id, "bump", std::nullopt);  // most recent activity now

  auto page = service_.list(me, std::nullopt, 2);
  ASSERT_EQ(page.chats.size(), 2u);
  EXPECT_EQ(page.chats[0].id, chats[1].id);
  std::vector<std::string> seen;
  for (const auto& c : page.chats) seen.push_back(c.id);
  while (page.next_cursor) {
    page = service_.list(me, page.next_cursor, 2);
    for (const auto& c : page.chats) seen.push_back(c.id);
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5u);
  expect_error(ErrorCode::validation_failed, [&] { service_.list(me, "garbage", 2); }, "bad cursor");
}

TEST_F(ChatServiceTest, SendRateLimitAnswers429WithRetryAfter) {
  ChatService limited{pool_, hub_, notifications_, RateRule{3, 60}};
  const auto alice = make_user("alice");
  const Chat chat = direct(alice, make_user("bob"));
  for (int i = 0; i < 3; ++i) limited.send(alice, chat.id, "m", std::nullopt);
  try {
    limited.send(alice, chat.id, "one too many", std::nullopt);
    ADD_FAILURE() << "no 429";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::rate_limited);
    EXPECT_GE(e.retry_after(), 1);
    EXPECT_LE(e.retry_after(), 20);
  }
  EXPECT_EQ(service_.history(alice, chat.id, {}).messages.size(), 3u) << "the refused message was not stored";
}

TEST_F(ChatServiceTest, TokenBucketRefillsAtLimitPerWindow) {
  SendLimiter limiter(RateRule{2, 10});  // bursts of 2, one token every 5 s
  const auto t0 = SendLimiter::Clock::now();
  EXPECT_EQ(limiter.take(1, t0), 0);
  EXPECT_EQ(limiter.take(1, t0), 0);
  EXPECT_EQ(limiter.take(1, t0), 5);
  EXPECT_EQ(limiter.take(2, t0), 0) << "budgets are per user";
  EXPECT_EQ(limiter.take(1, t0 + std::chrono::seconds(3)), 2);
  EXPECT_EQ(limiter.take(1, t0 + std::chrono::seconds(5)), 0);
  EXPECT_EQ(limiter.take(1, t0 + std::chrono::seconds(5)), 5);
  EXPECT_EQ(limiter.take(1, t0 + std::chrono::hours(1)), 0) << "a full bucket holds no more than the burst";
  EXPECT_EQ(limiter.take(1, t0 + std::chrono::hours(1)), 0);
  EXPECT_GT(limiter.take(1, t0 + std::chrono::hours(1)), 0);
  SendLimiter unlimited(RateRule{0, 60});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.take(1, t0), 0);
}

TEST_F(ChatServiceTest, DirectMessageToAnOfflineUserBecomesANotification) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const Chat chat = direct(alice, bob);

  hub_.set_online(bob.id, true);
  service_.send(alice, chat.id, "you are online", std::nullopt);
  EXPECT_TRUE(notifications_.list(bob, {}).notifications.empty());

  hub_.set_online(bob.id, false);
  const Sent sent = service_.send(alice, chat.id, std::string(150, 'z'), std::nullopt);
  const auto stored = notifications_.list(bob, {}).notifications;
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].type, notifications::Type::direct_message);
  EXPECT_EQ(stored[0].data["chat_id"], chat.id);
  EXPECT_EQ(stored[0].data["message_id"], sent.message.id);
  EXPECT_EQ(stored[0].data["sender_id"], alice.id);
  EXPECT_EQ(stored[0].data["sender_username"], alice.username);
  EXPECT_EQ(stored[0].data["preview"], std::string(100, 'z') + "\u2026");

  // Group messages are not notified (the group's invitation is).
  const auto carol = make_user("carol");
  const Chat crew = group(alice, {carol});
  service_.send(alice, crew.id, "hi group", std::nullopt);
  const auto carols = notifications_.list(carol, {}).notifications;
  ASSERT_EQ(carols.size(), 1u);
  EXPECT_EQ(carols[0].type, notifications::Type::chat_invite);
}

// ---- group consent, leaving and blocks (hardening issue 9, item 8)

TEST_F(ChatServiceTest, GroupMembersJoinOnlyByAcceptingTheirInvitation) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const auto carol = make_user("carol");
  const Chat chat = service_.create(alice, {.type = ChatType::group, .member_ids = {bob.id, carol.id}, .title = "t"}).chat;
  ASSERT_EQ(chat.members.size(), 1u);
  EXPECT_EQ(chat.members[0].id, alice.id);
  ASSERT_EQ(chat.invited.size(), 2u);
  EXPECT_EQ(chat.invited[0].username, bob.username);

  for (const auto& invitee : {bob, carol}) {
    expect_error(ErrorCode::forbidden, [&] { service_.history(invitee, chat.id, {}); }, "history before accepting");
    expect_error(ErrorCode::forbidden, [&] { service_.send(invitee, chat.id, "hi", std::nullopt); }, "send");
    EXPECT_FALSE(service_.may_subscribe(invitee, chat.id));
    const auto invites = service_.invites(invitee);
    ASSERT_EQ(invites.size(), 1u);
    EXPECT_EQ(invites[0].chat_id, chat.id);
    EXPECT_EQ(invites[0].invited_by, alice.id);
    EXPECT_EQ(invites[0].inviter_username, alice.username);
    const auto notes = notifications_.list(invitee, {}).notifications;
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].type, notifications::Type::chat_invite);
    EXPECT_EQ(notes[0].data["chat_id"], chat.id);
  }

  service_.send(alice, chat.id, "history", std::nullopt);
  const Chat joined = service_.accept(bob, chat.id);
  EXPECT_EQ(joined.members.size(), 2u);
  EXPECT_EQ(joined.unread_count, 0) << "joining marks the history read";
  EXPECT_EQ(service_.history(bob, chat.id, {}).messages.size(), 1u);
  EXPECT_TRUE(service_.may_subscribe(bob, chat.id));
  EXPECT_TRUE(service_.invites(bob).empty());
  ASSERT_EQ(hub_.events("chat:" + chat.id, "member.joined").size(), 1u);
  expect_error(ErrorCode::not_found, [&] { service_.accept(bob, chat.id); }, "accepting twice");

  service_.decline(carol, chat.id);
  expect_error(ErrorCode::forbidden, [&] { service_.history(carol, chat.id, {}); }, "history after declining");
  expect_error(ErrorCode::not_found, [&] { service_.accept(carol, chat.id); }, "accepting a declined invitation");
  expect_error(ErrorCode::not_found, [&] { service_.decline(carol, chat.id); }, "declining twice");
}

TEST_F(ChatServiceTest, InvitationRules) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const auto carol = make_user("carol");
  const auto blocker = make_user("blocker");
  users::UsersService users(pool_, avatar_store_);
  users.block(blocker, alice.id);
  const Chat chat = group(alice, {bob});

  EXPECT_TRUE(service_.invite(bob, chat.id, carol.id).created) << "any member may invite";
  EXPECT_FALSE(service_.invite(alice, chat.id, carol.id).created) << "pending already: not sent twice";
  EXPECT_EQ(notifications_.list(carol, {}).notifications.size(), 1u);
  expect_error(ErrorCode::forbidden, [&] { service_.invite(alice, chat.id, blocker.id); }, "inviting a blocker");
  expect_error(ErrorCode::forbidden,
               [&] { service_.create(alice, {.type = ChatType::group, .member_ids = {bob.id, blocker.id}}); },
               "a new group with a blocker");
  EXPECT_TRUE(service_.invites(blocker).empty());
  expect_error(ErrorCode::forbidden, [&] { service_.invite(carol, chat.id, blocker.id); }, "an invitee is no member");
  expect_error(ErrorCode::conflict, [&] { service_.invite(alice, chat.id, bob.id); }, "a member already");
  expect_error(ErrorCode::conflict, [&] { service_.invite(alice, chat.id, alice.id); }, "oneself");
  expect_error(ErrorCode::validation_failed, [&] { service_.invite(alice, chat.id, 999999999); }, "unknown user");
  expect_error(ErrorCode::conflict, [&] { service_.invite(alice, direct(alice, bob).id, carol.id); }, "a direct chat");
  expect_error(ErrorCode::not_found,
               [&] { service_.invite(alice, "00000000-0000-4000-8000-000000000000", carol.id); }, "unknown chat");
}

TEST_F(ChatServiceTest, LeavingEndsMembershipAndTheLastOneDeletesTheGroup) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const Chat chat = group(alice, {bob});
  service_.leave(bob, chat.id);

  expect_error(ErrorCode::forbidden, [&] { service_.history(bob, chat.id, {}); }, "history after leaving");
  expect_error(ErrorCode::forbidden, [&] { service_.send(bob, chat.id, "hi", std::nullopt); }, "send after leaving");
  expect_error(ErrorCode::forbidden, [&] { service_.leave(bob, chat.id); }, "leaving twice");
  EXPECT_FALSE(service_.may_subscribe(bob, chat.id));
  const auto left = hub_.events("chat:" + chat.id, "member.left");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].data["user_id"], bob.id);
  EXPECT_EQ(left[0].audience.last_for.value_or(0), bob.id) << "the leaver's sockets are unsubscribed";

  expect_error(ErrorCode::conflict, [&] { service_.leave(alice, direct(alice, bob).id); }, "leaving a direct chat");
  service_.leave(alice, chat.id);
  expect_error(ErrorCode::not_found, [&] { service_.history(alice, chat.id, {}); }, "the emptied group is gone");
}

TEST_F(ChatServiceTest, BlocksHideGroupMessagesAndEventsBothWays) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");
  const auto carol = make_user("carol");
  users::UsersService users(pool_, avatar_store_);
  const Chat chat = group(alice, {bob, carol});
  users.block(bob, carol.id);

  const Sent from_carol = service_.send(carol, chat.id, "c", std::nullopt);
  const Sent from_bob = service_.send(bob, chat.id, "b", std::nullopt);
  service_.send(alice, chat.id, "a", std::nullopt);
  EXPECT_EQ(texts(service_.history(alice, chat.id, {}).messages), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(texts(service_.history(bob, chat.id, {}).messages), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(texts(service_.history(carol, chat.id, {}).messages), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(texts(service_.history(bob, chat.id, {.after = from_carol.message.id}).messages),
            (std::vector<std::string>{"b", "a"}));

  const auto events = hub_.events("chat:" + chat.id, "message.new");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].audience.hidden_from, std::vector<std::int64_t>{bob.id});
  EXPECT_EQ(events[1].audience.hidden_from, std::vector<std::int64_t>{carol.id});
  EXPECT_TRUE(events[2].audience.hidden_from.empty());
  service_.typing(carol, chat.id);
  EXPECT_EQ(hub_.events("chat:" + chat.id, "typing").back().audience.hidden_from, std::vector<std::int64_t>{bob.id});

  service_.send(carol, chat.id, "c2", std::nullopt);
  const auto bobs = service_.list(bob, std::nullopt, 50).chats;
  ASSERT_EQ(bobs.size(), 1u);
  ASSERT_TRUE(bobs[0].last_message);
  EXPECT_EQ(bobs[0].last_message->text, "a");
  EXPECT_EQ(bobs[0].unread_count, 1) << "Alice's message; Carol's are not counted";
  EXPECT_EQ(service_.mark_read(bob, chat.id, from_bob.message.id).unread_count, 1);

  users.unblock(bob, carol.id);
  EXPECT_EQ(service_.history(bob, chat.id, {}).messages.size(), 4u);
}

TEST_F(ChatServiceTest, TypingIsPublishedNotStored) {
  const auto alice = make_user("alice");
  const Chat chat = direct(alice, make_user("bob"));
  service_.typing(alice, chat.id);
  const auto events = hub_.events("chat:" + chat.id, "typing");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["user_id"], alice.id);
  EXPECT_EQ(events[0].data["username"], alice.username);
  EXPECT_TRUE(service_.history(alice, chat.id, {}).messages.empty());
}

}  // namespace
}  // namespace reelhub::chats
