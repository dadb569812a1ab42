// Minimal stand-ins for the Unreal Engine types the MsStore plugin uses, so that
// scripts/test-unreal-compile.sh can compile every plugin .cpp with UBT's warning flags.
// Declarations only where nothing is called at run time: the result is compiled, never linked.
// Shapes follow UE 5.x (TCHAR is char16_t as on Linux, UTF8CHAR a distinct code-unit type,
// MoveTemp refuses const and rvalues, FString::Printf refuses an FString argument). This is NOT
// the engine: UHT, reflection and the real semantics are out of reach (see the plugin README).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// ---- platform types -------------------------------------------------------------------------
using int8 = std::int8_t;
using int16 = std::int16_t;
using int32 = std::int32_t;
using int64 = std::int64_t;
using uint8 = std::uint8_t;
using uint16 = std::uint16_t;
using uint32 = std::uint32_t;
using uint64 = std::uint64_t;
using TCHAR = char16_t;
using ANSICHAR = char;
enum UTF8CHAR : unsigned char {};
#define TEXT_PASTE(x) u##x
#define TEXT(x) TEXT_PASTE(x)
#define MAX_int32 (static_cast<int32>(0x7fffffff))
#define WITH_EDITOR 0
#define THIRD_PARTY_INCLUDES_START
#define THIRD_PARTY_INCLUDES_END
#define PURE_VIRTUAL(Func, ...) { __VA_ARGS__ }

// ---- templates ------------------------------------------------------------------------------
template <typename T>
std::remove_reference_t<T>&& MoveTemp(T&& Obj)
{
	using CastType = std::remove_reference_t<T>;
	static_assert(std::is_lvalue_reference_v<T>, "MoveTemp called on an rvalue");
	static_assert(!std::is_const_v<CastType>, "MoveTemp called on a const object");
	return static_cast<CastType&&>(Obj);
}
template <typename T>
T&& Forward(std::remove_reference_t<T>& Obj) { return static_cast<T&&>(Obj); }
template <typename T>
T&& Forward(std::remove_reference_t<T>&& Obj) { return static_cast<T&&>(Obj); }
template <typename T>
void Swap(T& A, T& B) { std::swap(A, B); }

struct FMath
{
	template <typename T> static constexpr T Max(T A, T B) { return A < B ? B : A; }
	template <typename T> static constexpr T Min(T A, T B) { return A < B ? A : B; }
};

// ---- strings --------------------------------------------------------------------------------
class FString
{
public:
	FString() = default;
	FString(const TCHAR* Text) : Data(Text ? Text : u"") {}
	FString(int32 Len, const TCHAR* Text) : Data(Text, static_cast<std::size_t>(Len)) {}
	const TCHAR* operator*() const { return Data.c_str(); }
	bool IsEmpty() const { return Data.empty(); }
	int32 Len() const { return static_cast<int32>(Data.size()); }
	bool operator==(const FString& Other) const { return Data == Other.Data; }
	bool operator!=(const FString& Other) const { return Data != Other.Data; }
	bool operator==(const TCHAR* Other) const { return Data == Other; }
	bool operator!=(const TCHAR* Other) const { return Data != Other; }

	// UE5 checks the arguments of Printf: %s takes a TCHAR pointer (*Str), never an FString.
	template <typename... ArgTypes>
	static FString Printf(const TCHAR* Format, ArgTypes&&... Args)
	{
		static_assert((!std::is_same_v<std::decay_t<ArgTypes>, FString> && ...), "pass *String, not an FString, to Printf");
		(void)sizeof...(Args);
		return FString(Format);
	}

private:
	std::u16string Data;
};

class FUTF8ToTCHAR
{
public:
	FUTF8ToTCHAR(const ANSICHAR* Source, int32 Length);
	FUTF8ToTCHAR(const UTF8CHAR* Source, int32 Length);
	const TCHAR* Get() const;
	int32 Length() const;
};

class FTCHARToUTF8
{
public:
	explicit FTCHARToUTF8(const TCHAR* Source);
	const UTF8CHAR* Get() const;
	int32 Length() const;
};

// ---- containers -----------------------------------------------------------------------------
template <typename T>
class TArray
{
public:
	TArray() = default;
	int32 Num() const { return static_cast<int32>(Items.size()); }
	int32 Add(const T& Item) { Items.push_back(Item); return Num() - 1; }
	int32 Add(T&& Item) { Items.push_back(std::move(Item)); return Num() - 1; }
	void Empty() { Items.clear(); }
	T& operator[](int32 Index) { return Items[static_cast<std::size_t>(Index)]; }
	const T& operator[](int32 Index) const { return Items[static_cast<std::size_t>(Index)]; }
	T* begin() { return Items.data(); }
	T* end() { return Items.data() + Items.size(); }
	const T* begin() const { return Items.data(); }
	const T* end() const { return Items.data() + Items.size(); }

private:
	std::vector<T> Items;
};

template <typename K, typename V>
class TMap
{
public:
	V& Add(const K& Key, const V& Value) { return Items[Key] = Value; }
	V& Add(const K& Key, V&& Value) { return Items[Key] = std::move(Value); }
	V* Find(const K& Key)
	{
		auto It = Items.find(Key);
		return It == Items.end() ? nullptr : &It->second;
	}
	const V* Find(const K& Key) const
	{
		auto It = Items.find(Key);
		return It == Items.end() ? nullptr : &It->second;
	}
	int32 Remove(const K& Key) { return static_cast<int32>(Items.erase(Key)); }
	void Empty() { Items.clear(); }

private:
	std::map<K, V> Items;
};

// ---- smart pointers and functions -----------------------------------------------------------
enum class ESPMode : uint8 { NotThreadSafe = 0, ThreadSafe = 1 };

template <typename T, ESPMode Mode = ESPMode::ThreadSafe>
class TSharedRef;

template <typename T, ESPMode Mode = ESPMode::ThreadSafe>
class TSharedPtr
{
public:
	TSharedPtr() = default;
	TSharedPtr(std::nullptr_t) {}
	template <typename U, typename = std::enable_if_t<std::is_convertible_v<U*, T*>>>
	TSharedPtr(const TSharedPtr<U, Mode>& Other) : Ptr(Other.Std()) {}
	template <typename U, typename = std::enable_if_t<std::is_convertible_v<U*, T*>>>
	TSharedPtr(const TSharedRef<U, Mode>& Other) : Ptr(Other.Std()) {}
	explicit TSharedPtr(std::shared_ptr<T> InPtr) : Ptr(std::move(InPtr)) {}
	bool IsValid() const { return Ptr != nullptr; }
	explicit operator bool() const { return IsValid(); }
	T* Get() const { return Ptr.get(); }
	T* operator->() const { return Ptr.get(); }
	T& operator*() const { return *Ptr; }
	void Reset() { Ptr.reset(); }
	const std::shared_ptr<T>& Std() const { return Ptr; }

private:
	std::shared_ptr<T> Ptr;
};

/** Never null. */
template <typename T, ESPMode Mode>
class TSharedRef
{
public:
	template <typename U, typename = std::enable_if_t<std::is_convertible_v<U*, T*>>>
	TSharedRef(const TSharedRef<U, Mode>& Other) : Ptr(Other.Std()) {}
	explicit TSharedRef(std::shared_ptr<T> InPtr) : Ptr(std::move(InPtr)) {}
	T* operator->() const { return Ptr.get(); }
	T& operator*() const { return *Ptr; }
	T& Get() const { return *Ptr; }
	const std::shared_ptr<T>& Std() const { return Ptr; }

private:
	std::shared_ptr<T> Ptr;
};

template <typename T, ESPMode Mode = ESPMode::ThreadSafe, typename... ArgTypes>
TSharedRef<T, Mode> MakeShared(ArgTypes&&... Args)
{
	return TSharedRef<T, Mode>(std::make_shared<T>(std::forward<ArgTypes>(Args)...));
}

template <typename Signature>
class TFunction : public std::function<Signature>
{
public:
	using std::function<Signature>::function;
};

/** Move-only callable (may hold move-only state). */
template <typename Signature>
class TUniqueFunction;
template <typename R, typename... ArgTypes>
class TUniqueFunction<R(ArgTypes...)>
{
public:
	TUniqueFunction() = default;
	template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, TUniqueFunction>>>
	TUniqueFunction(F&& Fn) : Callable(std::make_unique<Holder<std::decay_t<F>>>(std::forward<F>(Fn))) {}
	TUniqueFunction(TUniqueFunction&&) = default;
	TUniqueFunction& operator=(TUniqueFunction&&) = default;
	TUniqueFunction(const TUniqueFunction&) = delete;
	TUniqueFunction& operator=(const TUniqueFunction&) = delete;
	R operator()(ArgTypes... Args) const { return Callable->Call(std::forward<ArgTypes>(Args)...); }
	explicit operator bool() const { return Callable != nullptr; }

private:
	struct Base
	{
		virtual ~Base() = default;
		virtual R Call(ArgTypes... Args) = 0;
	};
	template <typename F>
	struct Holder final : Base
	{
		explicit Holder(F&& InFn) : Fn(std::move(InFn)) {}
		explicit Holder(const F& InFn) : Fn(InFn) {}
		R Call(ArgTypes... Args) override { return Fn(std::forward<ArgTypes>(Args)...); }
		F Fn;
	};
	std::unique_ptr<Base> Callable;
};

// ---- time -----------------------------------------------------------------------------------
struct FTimespan
{
	static FTimespan FromMilliseconds(double Milliseconds);
};

struct FDateTime
{
	FDateTime() = default;
	FDateTime(int32 Year, int32 Month, int32 Day);
	FDateTime operator+(const FTimespan& Span) const;
	int64 Ticks = 0;
};

// ---- logging --------------------------------------------------------------------------------
namespace ELogVerbosity
{
	enum Type : uint8 { NoLogging, Fatal, Error, Warning, Display, Log, Verbose, VeryVerbose, All };
}
struct FLogCategoryBase
{
	const TCHAR* Name;
};
#define DECLARE_LOG_CATEGORY_EXTERN(Name, Default, Compile) extern struct FLogCategory##Name : FLogCategoryBase {} Name
#define DEFINE_LOG_CATEGORY(Name) FLogCategory##Name Name{{TEXT(#Name)}}
void UELogImpl(const FLogCategoryBase& Category, ELogVerbosity::Type Verbosity, const FString& Text);
#define UE_LOG(Category, Verbosity, Format, ...) UELogImpl(Category, ELogVerbosity::Verbosity, FString::Printf(Format, ##__VA_ARGS__))

// ---- delegates ------------------------------------------------------------------------------
class UObject;

/** A single-cast delegate (FTickerDelegate and friends). */
template <typename Signature>
class TDelegate;
template <typename R, typename... ArgTypes>
class TDelegate<R(ArgTypes...)>
{
public:
	template <typename F>
	static TDelegate CreateLambda(F&& Fn)
	{
		TDelegate Out;
		Out.Fn = std::forward<F>(Fn);
		return Out;
	}
	template <typename UserClass, typename F>
	static TDelegate CreateWeakLambda(UserClass* Object, F&& Fn)
	{
		(void)Object;
		return CreateLambda(std::forward<F>(Fn));
	}
	template <typename UserClass>
	static TDelegate CreateUObject(UserClass* Object, R (UserClass::*Method)(ArgTypes...))
	{
		static_assert(std::is_base_of_v<UObject, UserClass>, "CreateUObject needs a UObject");
		return CreateLambda([Object, Method](ArgTypes... Args) { return (Object->*Method)(std::forward<ArgTypes>(Args)...); });
	}
	R Execute(ArgTypes... Args) const { return Fn(std::forward<ArgTypes>(Args)...); }

private:
	std::function<R(ArgTypes...)> Fn;
};

/** A dynamic multicast delegate as DECLARE_DYNAMIC_MULTICAST_DELEGATE_* declares it. */
template <typename... ArgTypes>
class TMulticastScriptDelegateStub
{
public:
	void Broadcast(ArgTypes... Args) const;
	template <typename UserClass>
	void AddDynamic(UserClass* Object, void (UserClass::*Method)(ArgTypes...));
	void Clear();
};

#define DECLARE_DYNAMIC_MULTICAST_DELEGATE(Name) class Name : public TMulticastScriptDelegateStub<> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(Name, T1, N1) class Name : public TMulticastScriptDelegateStub<T1> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(Name, T1, N1, T2, N2) class Name : public TMulticastScriptDelegateStub<T1, T2> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_ThreeParams(Name, T1, N1, T2, N2, T3, N3) class Name : public TMulticastScriptDelegateStub<T1, T2, T3> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(Name, T1, N1, T2, N2, T3, N3, T4, N4) class Name : public TMulticastScriptDelegateStub<T1, T2, T3, T4> {}

#include "UObject/Object.h"
