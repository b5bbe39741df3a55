// Must not compile: db and auth are siblings above core.
#include "reelhub/auth/tokens.hpp"
