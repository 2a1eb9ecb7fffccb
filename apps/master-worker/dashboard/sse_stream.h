// An event stream as an HTTP response (cpprestsdk): a text/event-stream body fed through a
// producer/consumer buffer, flushed after every event, subscribed to the EventHub until the
// client goes.
#pragma once

#include <cpprest/http_msg.h>

#include <string>

#include "apps/master-worker/dashboard/events.h"

namespace corral::mw {

/// Answers `request` with an event stream that starts with `first` (framed events, may be
/// empty) and carries every event of `hub` until the client disconnects or the hub stops.
/// A client that reads nothing while 1 MiB waits for it is dropped.
void open_event_stream(const web::http::http_request& request, EventHub& hub,
                       const std::string& first);

}  // namespace corral::mw
