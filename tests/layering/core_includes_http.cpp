// Must not compile: core is the bottom layer and sees no other layer's headers.
#include "reelhub/http/server.hpp"
