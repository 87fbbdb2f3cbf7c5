namespace Kiln.Tests;

/// <summary>Ways the tests build and compare tensors without going through the code under test where it matters.</summary>
internal static class TestTensors
{
    /// <summary>
    /// A copy of <paramref name="t"/> whose elements are not adjacent in memory: every value sits at an even
    /// position of a buffer twice as large, seen through doubled strides.
    /// </summary>
    internal static unsafe Tensor Strided(Tensor t)
    {
        var src = t.Contiguous();
        int size = t.DType.ElementSize();
        var buffer = Tensor.Zeros([Math.Max(1, t.NumElements) * 2], t.DType);
        byte* from = (byte*)src.DataPointer, to = (byte*)buffer.DataPointer;
        for (int i = 0; i < t.NumElements; i++)
            Buffer.MemoryCopy(from + (nint)i * size, to + (nint)2 * i * size, size, size);
        var strides = Shape.ContiguousStrides(t.ShapeArray);
        for (int i = 0; i < strides.Length; i++) strides[i] *= 2;
        var view = buffer.AsStrided(t.ShapeArray.ToArray(), strides, 0);
        Assert.False(view.IsContiguous && t.NumElements > 1);
        return view;
    }

    /// <summary>The values of any tensor as float64, read one element at a time through its strides.</summary>
    internal static unsafe double[] Values(Tensor t)
    {
        var result = new double[t.NumElements];
        var index = new int[t.Rank];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rem = flat, offset = t.StorageOffset;
            for (int d = t.Rank - 1; d >= 0; d--)
            {
                index[d] = rem % t.ShapeArray[d];
                rem /= t.ShapeArray[d];
                offset += index[d] * t.StridesArray[d];
            }
            void* p = (byte*)t.LiveStorage.Pointer + (nint)offset * t.DType.ElementSize();
            result[flat] = t.DType switch
            {
                DType.Float32 => *(float*)p,
                DType.Float64 => *(double*)p,
                DType.Int32 => *(int*)p,
                DType.Int64 => *(long*)p,
                DType.Bool => *(byte*)p,
                DType.UInt8 => *(byte*)p,
                DType.Int8 => *(sbyte*)p,
                _ => throw new InvalidOperationException(),
            };
        }
        return result;
    }

    internal static void AssertClose(double[] expected, double[] actual, double rtol, double atol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (double.IsInfinity(e) && e == a) continue;
            Assert.True(Math.Abs(e - a) <= atol + rtol * Math.Abs(e), $"{what}: element {i} is {a:G9}, expected {e:G9}");
        }
    }
}
