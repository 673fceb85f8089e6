#include "store/open_store.h"

#include <charconv>
#include <cstdlib>
#include <string>

#include "store/dynamodb/dynamodb_store.h"
#include "store/memory_store.h"
#if FOOTFALL_WITH_POSTGRES
#include "store/postgres/postgres_store.h"
#endif
#include "store/sqlite/sqlite_store.h"

namespace footfall::store {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string FirstSet(std::initializer_list<std::string> values) {
  for (const std::string& value : values) {
    if (!value.empty()) return value;
  }
  return "";
}

StatusOr<dynamodb::DynamoDbOptions> ParseDynamoDbUri(std::string_view uri) {
  std::string_view rest = uri.substr(std::string_view("dynamodb://").size());
  const size_t question = rest.find('?');
  dynamodb::DynamoDbOptions options;
  options.table = std::string(rest.substr(0, question));
  if (options.table.empty()) {
    return InvalidArgumentError("store URI '" + std::string(uri) + "' has no table name");
  }
  std::string region, endpoint, shards, aggregates;
  std::string_view query = question == std::string_view::npos ? "" : rest.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (name == "region") {
      region = value;
    } else if (name == "endpoint") {
      endpoint = value;
    } else if (name == "shards") {
      shards = value;
    } else if (name == "aggregates") {
      aggregates = value;
    } else {
      return InvalidArgumentError("store URI has unknown parameter '" + std::string(name) +
                                  "' (known: region, endpoint, shards, aggregates)");
    }
  }
  options.region = FirstSet({region, Env("AWS_REGION"), Env("AWS_DEFAULT_REGION")});
  options.endpoint =
      FirstSet({endpoint, Env("AWS_ENDPOINT_URL_DYNAMODB"), Env("AWS_ENDPOINT_URL")});
  shards = FirstSet({shards, Env("FOOTFALL_COUNTER_SHARDS"), "1"});
  auto [end, ec] = std::from_chars(shards.data(), shards.data() + shards.size(),
                                   options.counter_shards);
  if (ec != std::errc() || end != shards.data() + shards.size()) {
    return InvalidArgumentError("counter shards '" + shards + "' is not a number");
  }
  aggregates = FirstSet({aggregates, Env("FOOTFALL_AGGREGATES"), "inline"});
  if (aggregates != "inline" && aggregates != "stream") {
    return InvalidArgumentError("aggregates '" + aggregates + "' is neither inline (the store "
                                "writes them) nor stream (the table's stream consumer does)");
  }
  options.aggregates_from_stream = aggregates == "stream";
  options.credentials.access_key_id = Env("AWS_ACCESS_KEY_ID");
  options.credentials.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  options.credentials.session_token = Env("AWS_SESSION_TOKEN");
  options.ca_file = FirstSet({Env("FOOTFALL_CA_FILE"), Env("SSL_CERT_FILE")});
  if (options.credentials.access_key_id.empty() && options.credentials.secret_access_key.empty()) {
    // No static keys: a role, as the AWS SDKs find one (web identity, container credentials,
    // EC2 instance metadata), refreshed before it expires.
    aws::CredentialsProviderOptions provider_options;
    provider_options.region = options.region;
    provider_options.ca_file = options.ca_file;
    ASSIGN_OR_RETURN(options.credentials_provider,
                     aws::CredentialsProvider::FromEnvironment(std::move(provider_options)));
  }
  return options;
}

bool IsPostgresUri(std::string_view uri) {
  return uri.starts_with("postgres://") || uri.starts_with("postgresql://");
}

#if FOOTFALL_WITH_POSTGRES
postgres::PostgresOptions PostgresOptionsFor(std::string_view uri) {
  postgres::PostgresOptions options;
  options.uri = std::string(uri);
  return options;
}
#else
Status PostgresNotBuilt() {
  return UnimplementedError("this footfall was built without the PostgreSQL store");
}
#endif

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view uri) {
  if (uri == "memory:") return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
  if (uri.starts_with("sqlite:")) {
    std::string_view path = uri.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty()) return InvalidArgumentError("store URI '" + std::string(uri) + "' has no path");
    sqlite::SqliteOptions options;
    options.path = std::string(path);
    ASSIGN_OR_RETURN(std::unique_ptr<sqlite::SqliteStore> sqlite_store,
                     sqlite::SqliteStore::Open(std::move(options)));
    return std::unique_ptr<Store>(std::move(sqlite_store));
  }
  if (uri.starts_with("dynamodb://")) {
    ASSIGN_OR_RETURN(dynamodb::DynamoDbOptions options, ParseDynamoDbUri(uri));
    ASSIGN_OR_RETURN(std::unique_ptr<dynamodb::DynamoDbStore> dynamodb_store,
                     dynamodb::DynamoDbStore::Open(std::move(options)));
    return std::unique_ptr<Store>(std::move(dynamodb_store));
  }
  if (IsPostgresUri(uri)) {
#if FOOTFALL_WITH_POSTGRES
    ASSIGN_OR_RETURN(std::unique_ptr<postgres::PostgresStore> postgres_store,
                     postgres::PostgresStore::Open(PostgresOptionsFor(uri)));
    return std::unique_ptr<Store>(std::move(postgres_store));
#else
    return PostgresNotBuilt();
#endif
  }
  return InvalidArgumentError("unknown store URI '" + std::string(uri) +
                              "' (expected sqlite:PATH, postgres://..., dynamodb://TABLE or "
                              "memory:)");
}

Status MigrateStore(std::string_view uri) {
  if (IsPostgresUri(uri)) {
#if FOOTFALL_WITH_POSTGRES
    return postgres::PostgresStore::Migrate(PostgresOptionsFor(uri));
#else
    return PostgresNotBuilt();
#endif
  }
  if (uri.starts_with("dynamodb://")) {
    ASSIGN_OR_RETURN(dynamodb::DynamoDbOptions options, ParseDynamoDbUri(uri));
    ASSIGN_OR_RETURN(std::unique_ptr<dynamodb::DynamoDbStore> dynamodb_store,
                     dynamodb::DynamoDbStore::Open(std::move(options)));
    return dynamodb_store->CreateTable(kNoDeadline);
  }
  return OpenStore(uri).status();
}

}  // namespace footfall::store
