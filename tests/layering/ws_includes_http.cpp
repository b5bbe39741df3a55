// Must not compile: ws and http are siblings; the composition root connects them.
#include "reelhub/http/message.hpp"
