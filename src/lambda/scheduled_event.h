// Recognises the event EventBridge (CloudWatch Events) sends for a scheduled rule, which the
// Terraform module uses to run footfall's maintenance hourly whatever the traffic. Pure;
// thread-safe. Events are untrusted input: only two string fields are looked at.
#pragma once

#include <string_view>

namespace footfall::lambda {

// True when `event_json` is an EventBridge scheduled event: a JSON object with
// "source": "aws.events" and "detail-type": "Scheduled Event".
bool IsScheduledEvent(std::string_view event_json);

}  // namespace footfall::lambda
