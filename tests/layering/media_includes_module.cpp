// Must not compile: media is below the modules and knows none of them.
#include "modules/streams/service.hpp"
