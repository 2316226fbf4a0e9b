#include "stix/stix.h"
