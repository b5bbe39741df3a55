// Must not compile: the job runner knows no table and no database; modules bring their SQL.
#include "reelhub/db/pool.hpp"
