/* Compiled as C and as C++ with -DMSSTORE_API=4242, the way Unreal's build tool defines
 * <MODULE>_API for the MsStore module: the msstore headers must neither redefine it (an error
 * under -Werror) nor depend on it, and must define their own MSSTORE_EXPORT. */
#ifdef __cplusplus
#include "msstore.hpp"
#else
#include "msstore.h"
#endif

#if !defined(MSSTORE_API) || MSSTORE_API != 4242
#error "the msstore headers changed MSSTORE_API"
#endif
#ifndef MSSTORE_EXPORT
#error "msstore.h does not define MSSTORE_EXPORT"
#endif

int main(void) { return msstore_version() == 0; }
