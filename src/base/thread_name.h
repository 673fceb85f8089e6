// Names the calling thread (what `top -H`, `ps -L`, /proc/PID/task/*/comm and debuggers show), so
// an operator — and bench/run.sh, which reports CPU per thread — can tell footfall's threads apart.
#pragma once

#include <string_view>

namespace footfall {

// Names beyond 15 bytes (the kernel's limit) are cut. The main thread is best left unnamed: its
// name is the process's in `ps`.
void NameThisThread(std::string_view name);

}  // namespace footfall
