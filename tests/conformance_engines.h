// The engines the Store conformance suites run over, each a real one (memory, a SQLite file, a
// database on a PostgreSQL 15 server, tables on moto's DynamoDB API), and the fixture that gives
// each test a fresh, empty store of one of them. Used by store_conformance_test.cc (behaviour)
// and store_contract_test.cc (the calling contract of store/store.h) in one test binary.
//
// The moto and PostgreSQL servers are started on first use, once per binary; if one cannot
// start, every test of that engine fails with the reason (never skips). Not thread-safe: call
// from the test's main thread.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.h"
#include "tests/moto_server.h"

namespace footfall::store::conformance {

namespace fs = std::filesystem;

// How to get a fresh instance of one engine.
struct Engine {
  std::string name;
  // Returns a store URI for a fresh, empty database in `dir`.
  std::function<std::string(const fs::path& dir)> fresh_uri;
  // Whether each visit's returned total is exact (false for sharded counters, where the total
  // returned is the visit's shard plus a concurrent read of the others).
  bool exact_totals = true;
  // For engines whose aggregates are written later (DynamoDB fed by its stream): brings them up
  // to date with every visit recorded so far. Called before statistics are read.
  std::function<void(Store& store, const std::string& uri)> settle = nullptr;
};

void PrintTo(const Engine& engine, std::ostream* out);
std::string EngineName(const ::testing::TestParamInfo<Engine>& info);

// The binary's moto_server (started on first use), or null after a failure it reports.
const testing::MotoServer* Moto();
// A fresh database on the binary's PostgreSQL server, as a store URI.
std::string FreshPostgresDatabase(const fs::path& dir);

// A visit of site a.example, path /p, at 2026-11-25T10:00Z, by one visitor; `i` makes its
// visit_id (a UUIDv7 of that time).
Visit ConformanceVisit(int i);

extern const Engine kMemory, kSqlite, kPostgres, kDynamoDb, kDynamoDbSharded, kDynamoDbStream;

// A fresh store of GetParam() in its own temp directory, removed afterwards.
class StoreConformanceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<Store> Open();
  static Visit MakeVisit(int i) { return ConformanceVisit(i); }
  void Settle();

  fs::path dir_;
  std::string uri_;
  std::unique_ptr<Store> store_;
};

}  // namespace footfall::store::conformance
