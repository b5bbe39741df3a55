// Must compile: the control for the probes that must not. A module sees every layer below it
// and the other modules' headers.
#include "modules/kit/context.hpp"
#include "modules/users/accounts.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/media/live_playlist.hpp"
#include "reelhub/ws/hub.hpp"
