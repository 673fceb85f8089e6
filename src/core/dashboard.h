// The /dashboard page: footfall's statistics as one server-rendered HTML document with inline
// SVG charts — no JavaScript, no external CDN, no build step, readable on a phone. Every value
// that came from visitors (paths, referrers, user-agent families) is HTML-escaped. The page has
// one inline <style> block whose SHA-256 is in kDashboardContentSecurityPolicy, so the policy can
// forbid everything else (scripts included). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "store/store.h"

namespace footfall::core {

// The Content-Security-Policy the dashboard is served with.
const std::string& DashboardContentSecurityPolicy();

// Renders the dashboard for `query` and its answer.
std::string RenderDashboard(const store::StatsQuery& query, const store::Stats& stats);

}  // namespace footfall::core
