// Must not compile: the composition root is above every module.
#include "app.hpp"
