using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// uint8 to float32 divided by 255 (torchvision's <c>ToTensor</c>) in one pass. Division is the slow
/// part (a 256-image batch: 33 µs dividing after a 12 µs conversion); x·(1/255) alone rounds differently
/// from x/255 for about half the byte values, but one fused multiply-add correction step,
/// q + (x − q·255)·(1/255), gives exactly the correctly rounded quotient for every byte value (a test
/// checks all 256), so the result has division's bits at multiplication's speed.
/// </summary>
internal static unsafe class ByteToUnitFloatKernel
{
    internal static void Convert(byte* source, float* destination, long count)
    {
        long i = 0;
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            var reciprocal = Vector256.Create(1f / 255f);
            var divisor = Vector256.Create(255f);
            for (; i + 8 <= count; i += 8)
            {
                var x = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(*(ulong*)(source + i)).AsByte()));
                var q = x * reciprocal;
                q = Fma.MultiplyAdd(Fma.MultiplyAddNegated(q, divisor, x), reciprocal, q);
                q.Store(destination + i);
            }
        }
        for (; i < count; i++) destination[i] = source[i] / 255f;
    }
}
