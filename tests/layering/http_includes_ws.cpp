// Must not compile: http offers an upgrade hook; it never knows the WebSocket hub behind it.
#include "reelhub/ws/live_hub.hpp"
