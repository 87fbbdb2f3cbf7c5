using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>Writes a lane bit mask as bool bytes (0 or 1), lane k at byte k.</summary>
internal static class BoolBytes
{
    // Entry m holds, in byte k, bit k of m. Stored as little-endian words (x64 and Arm64).
    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (int m = 0; m < 256; m++)
            for (int k = 0; k < 8; k++)
                if ((m >> k & 1) != 0) table[m] |= 1UL << (8 * k);
        return table;
    }

    /// <summary>Stores <paramref name="count"/> bytes (4 or a multiple of 8) for the low bits of <paramref name="bits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(ulong bits, int count, ref byte destination)
    {
        var table = Table;
        if (count == 4)
        {
            Unsafe.WriteUnaligned(ref destination, (uint)table[(int)(bits & 0xF)]);
            return;
        }
        for (int k = 0; k < count; k += 8)
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, k), table[(int)(bits >> k & 0xFF)]);
    }
}
