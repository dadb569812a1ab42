// Stand-ins for UObject and the reflection macros (UHT is not run: the macros expand to nothing).
#pragma once

#include "CoreMinimal.h"

#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define UMETA(...)
#define GENERATED_BODY()
#define GENERATED_USTRUCT_BODY()

class UClass;

class UObject
{
public:
	// Each stand-in base declares Super as itself, so `Super::` in a subclass names its base the
	// way UHT's generated body does.
	using Super = UObject;
	virtual ~UObject() = default;
	virtual class UWorld* GetWorld() const;
};

template <typename T>
T* NewObject(UObject* Outer = nullptr);

template <typename T>
const T* GetDefault();

template <typename To, typename From>
To* Cast(From* Source)
{
	static_assert(std::is_base_of_v<UObject, To>, "Cast needs a UObject type");
	(void)Source;
	return nullptr;  // the stand-in has no RTTI-free type registry; never run
}

/** Weak reference to a UObject; Get() is null once the object is destroyed. */
template <typename T>
class TWeakObjectPtr
{
public:
	TWeakObjectPtr() = default;
	TWeakObjectPtr(const T* Object) : Raw(const_cast<T*>(Object)) {}
	template <typename U, typename = std::enable_if_t<std::is_convertible_v<U*, T*>>>
	TWeakObjectPtr(const TWeakObjectPtr<U>& Other) : Raw(Other.Get()) {}
	T* Get() const { return Raw; }
	bool IsValid() const { return Raw != nullptr; }

private:
	T* Raw = nullptr;
};
