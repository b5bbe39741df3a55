// Must not compile: identity belongs to auth, below http; auth never reaches up for it.
#include "reelhub/http/message.hpp"
