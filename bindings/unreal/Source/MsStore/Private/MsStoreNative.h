// Copyright msstore contributors. MIT licence.
// The one place the plugin includes the native headers, plus string conversions.

#pragma once

#include "CoreMinimal.h"

#if WITH_MSSTORE
THIRD_PARTY_INCLUDES_START
#include "msstore.hpp"
THIRD_PARTY_INCLUDES_END

namespace MsStoreNative
{
	inline FString ToFString(std::string_view Utf8)
	{
		const FUTF8ToTCHAR Converted(Utf8.data(), static_cast<int32>(Utf8.size()));
		return FString(Converted.Length(), Converted.Get());
	}

	inline std::string ToUtf8(const FString& Text)
	{
		const FTCHARToUTF8 Converted(*Text);
		// Get() is a UTF8CHAR pointer in UE5 (a distinct code-unit type), a char one before.
		return std::string(reinterpret_cast<const char*>(Converted.Get()), static_cast<std::size_t>(Converted.Length()));
	}

	inline FDateTime ToDateTime(const msstore::Timestamp& Time)
	{
		const int64 UnixMs = std::chrono::duration_cast<std::chrono::milliseconds>(Time.time_since_epoch()).count();
		return FDateTime(1970, 1, 1) + FTimespan::FromMilliseconds(static_cast<double>(UnixMs));
	}
}
#endif
