// Must not compile: the storage layer knows no HTTP type; the files module serves its URLs.
#include "reelhub/http/message.hpp"
