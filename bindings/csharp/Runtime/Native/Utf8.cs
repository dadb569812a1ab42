// UTF-8 strings across the boundary. Marshal.PtrToStringUTF8 is missing from some Unity
// profiles, so both directions are done by hand.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Msstore.Native
{
    internal static class Utf8
    {
        /// <summary>Copies a NUL-terminated UTF-8 string owned by the library; null for NULL.</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            if (len == 0) return string.Empty;
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>Native copies of the strings of one call, freed together when the call
    /// returns (the library copies whatever it keeps).</summary>
    internal sealed class NativeArena : IDisposable
    {
        private readonly List<KeyValuePair<IntPtr, int>> blocks = new List<KeyValuePair<IntPtr, int>>();

        /// <summary>A NUL-terminated UTF-8 copy of s; IntPtr.Zero for null.</summary>
        internal IntPtr Str(string s)
        {
            if (s == null) return IntPtr.Zero;
            // A strict encoder: a lone surrogate is a caller bug, reported rather than replaced.
            byte[] bytes = StrictUtf8.GetBytes(s);
            IntPtr p = Alloc(bytes.Length + 1);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            Marshal.WriteByte(p, bytes.Length, 0);
            return p;
        }

        /// <summary>An array of string pointers (entries may be null); IntPtr.Zero for null.</summary>
        internal IntPtr StrArray(IList<string> items)
        {
            if (items == null || items.Count == 0) return IntPtr.Zero;
            IntPtr arr = Alloc(IntPtr.Size * items.Count);
            for (int i = 0; i < items.Count; i++) Marshal.WriteIntPtr(arr, i * IntPtr.Size, Str(items[i]));
            return arr;
        }

        private IntPtr Alloc(int size)
        {
            IntPtr p = Marshal.AllocHGlobal(size);
            blocks.Add(new KeyValuePair<IntPtr, int>(p, size));
            return p;
        }

        public void Dispose()
        {
            foreach (var b in blocks)
            {
                Wipe(b.Key, b.Value);
                Marshal.FreeHGlobal(b.Key);
            }
            blocks.Clear();
        }

        // Some strings are secrets (a client secret, a private key): none stays in freed memory.
        private static void Wipe(IntPtr p, int size)
        {
            var zeros = new byte[Math.Min(size, 4096)];
            for (int off = 0; off < size; off += zeros.Length)
                Marshal.Copy(zeros, 0, IntPtr.Add(p, off), Math.Min(zeros.Length, size - off));
        }

        private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, true);
    }
}
