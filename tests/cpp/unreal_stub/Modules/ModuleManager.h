#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

#define IMPLEMENT_MODULE(ModuleImplClass, ModuleName) \
	extern "C" IModuleInterface* InitializeModule_##ModuleName() { return new ModuleImplClass(); }
