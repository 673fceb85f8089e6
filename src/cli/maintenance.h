// Scheduling and reporting of the maintenance `footfall serve` runs whatever the traffic
// (core::Service::Maintain: old salts deleted, expired raw visits pruned). Pure functions except
// RunMaintenanceAndWait; thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "base/clock.h"
#include "core/service.h"

namespace footfall::cli {

// How long after `now` the next run is due: an hour, or 30 s past the next UTC midnight if that
// comes sooner (a day's salt must go as soon as its 48 hours are over).
std::chrono::seconds UntilNextMaintenance(TimePoint now);

// The log line of a run: {"level":"info"|"warn","msg":"maintenance","salts_deleted":n,
// "visits_pruned":m}, with "<step>_error" in place of a count for a step that failed.
std::string MaintenanceLine(const core::MaintenanceReport& report);

// Runs service.Maintain and waits for it (a store call has no deadline here: the store's own
// timeouts bound it).
core::MaintenanceReport RunMaintenanceAndWait(core::Service& service);

}  // namespace footfall::cli
