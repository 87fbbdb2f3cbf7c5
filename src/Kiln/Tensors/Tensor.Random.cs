using System.Numerics.Tensors;
using Kiln.Kernels.Cpu;
using Kiln.Ops;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>Uniform values in [0, 1) (float32 unless <paramref name="dtype"/> says otherwise), from the stream seeded by <see cref="Engine.ManualSeed"/>.</summary>
    public static Tensor Rand(ReadOnlySpan<int> shape, DType dtype = DType.Float32)
    {
        RequireFloat("Rand", dtype);
        var recorder = TraceRecorder.Current;
        recorder?.DrawingRandom("Rand");
        var t = Empty(shape, dtype);
        FillUniform(t);
        recorder?.RecordRandom(RandomFillOp.Instance, new RandomFillOp.Attributes(t.ShapeArray, dtype, Normal: false), t);
        return t;
    }

    /// <summary>Standard normal values (mean 0, variance 1), float32 unless <paramref name="dtype"/> says otherwise.</summary>
    public static Tensor Randn(ReadOnlySpan<int> shape, DType dtype = DType.Float32)
    {
        RequireFloat("Randn", dtype);
        var recorder = TraceRecorder.Current;
        recorder?.DrawingRandom("Randn");
        var t = Empty(shape, dtype);
        FillNormal(t);
        recorder?.RecordRandom(RandomFillOp.Instance, new RandomFillOp.Attributes(t.ShapeArray, dtype, Normal: true), t);
        return t;
    }

    /// <summary>Fills a contiguous float tensor with uniform [0, 1) values from the stream (Rand's draw; a replayed RandomFill node's too).</summary>
    internal static void FillUniform(Tensor t)
    {
        if (t.DType == DType.Float32) FillRandom<float>(t, PhiloxRandom.FloatPerCounter, PhiloxRandom.FillUniform);
        else FillRandom<double>(t, PhiloxRandom.WidePerCounter, PhiloxRandom.FillUniform);
    }

    /// <summary>Fills a contiguous float tensor with standard normal values from the stream (Randn's draw).</summary>
    internal static void FillNormal(Tensor t)
    {
        if (t.DType == DType.Float32) FillRandom<float>(t, PhiloxRandom.FloatPerCounter, PhiloxRandom.FillNormal);
        else FillRandom<double>(t, PhiloxRandom.WidePerCounter, PhiloxRandom.FillNormal);
    }

    /// <summary>Uniform values in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor Uniform(double low, double high, ReadOnlySpan<int> shape, DType dtype = DType.Float32)
    {
        if (!(low <= high) || !double.IsFinite(high - low))
            throw new ArgumentException($"Uniform: needs finite low <= high, got [{low}, {high})");
        TraceRecorder.Current?.DrawingRandom("Uniform"); // scaled in place after the draw: not a graph op
        var t = Rand(shape, dtype);
        Affine(t, high - low, low);
        return t;
    }

    /// <summary>Normal values with mean <paramref name="mean"/> and standard deviation <paramref name="std"/>.</summary>
    public static Tensor Normal(double mean, double std, ReadOnlySpan<int> shape, DType dtype = DType.Float32)
    {
        if (!(std >= 0) || !double.IsFinite(std) || !double.IsFinite(mean))
            throw new ArgumentException($"Normal: needs a finite mean and a finite std >= 0, got mean {mean}, std {std}");
        TraceRecorder.Current?.DrawingRandom("Normal"); // shifted in place after the draw: not a graph op
        var t = Randn(shape, dtype);
        Affine(t, std, mean);
        return t;
    }

    /// <summary>Uniform integers in [<paramref name="low"/>, <paramref name="high"/>), int64 unless <paramref name="dtype"/> says otherwise.</summary>
    public static Tensor RandInt(long low, long high, ReadOnlySpan<int> shape, DType dtype = DType.Int64)
    {
        if (low >= high) throw new ArgumentException($"RandInt: low ({low}) must be less than high ({high})");
        if (dtype is not (DType.Int64 or DType.Int32 or DType.Float32 or DType.Float64))
            throw new ArgumentException($"RandInt: dtype must be int64, int32, float32 or float64, not {dtype.Name()}");
        if (dtype == DType.Int32 && (low < int.MinValue || high - 1 > int.MaxValue))
            throw new ArgumentException($"RandInt: [{low}, {high}) does not fit in int32");
        TraceRecorder.Current?.DrawingRandom("RandInt");
        ulong range = unchecked((ulong)high - (ulong)low);
        var t = Empty(shape, DType.Int64);
        FillRandom<long>(t, PhiloxRandom.WidePerCounter,
            (span, key, counter, first) => PhiloxRandom.FillIntegers(span, low, range, key, counter, first));
        if (dtype == DType.Int64) return t;
        using (t) return t.To(dtype);
    }

    /// <summary>Uniform integers in [0, <paramref name="high"/>), int64 unless <paramref name="dtype"/> says otherwise.</summary>
    public static Tensor RandInt(long high, ReadOnlySpan<int> shape, DType dtype = DType.Int64) => RandInt(0, high, shape, dtype);

    /// <summary>Uniform values in [0, 1) with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor RandLike(Tensor like) => Rand(like.ShapeArray, like.DType);

    /// <summary>Standard normal values with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor RandnLike(Tensor like) => Randn(like.ShapeArray, like.DType);

    private static void RequireFloat(string op, DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"{op}: dtype must be float32 or float64, not {dtype.Name()}");
    }

    private static void Affine(Tensor t, double scale, double shift)
    {
        if (t.DType == DType.Float32)
        {
            var s = t.Span<float>();
            TensorPrimitives.Multiply(s, (float)scale, s);
            TensorPrimitives.Add(s, (float)shift, s);
        }
        else
        {
            var s = t.Span<double>();
            TensorPrimitives.Multiply(s, scale, s);
            TensorPrimitives.Add(s, shift, s);
        }
    }

    private delegate void StreamFill<T>(Span<T> destination, ulong key, ulong counter, long first);

    // Chunks are a whole number of Philox groups; since every element depends only on its index in the
    // stream, splitting the work over threads changes nothing in the result.
    private const int RandomChunk = 64 * PhiloxRandom.GroupElements;

    private static unsafe void FillRandom<T>(Tensor t, int perCounter, StreamFill<T> fill) where T : unmanaged
    {
        int n = t.NumElements;
        var (key, counter) = RandomState.Reserve(PhiloxRandom.CountersFor(n, perCounter));
        if (n == 0) return;
        int chunks = (n + RandomChunk - 1) / RandomChunk;
        int threads = Math.Min(chunks, KilnEnvironment.NumThreads);
        if (threads <= 1)
        {
            fill(t.Span<T>(), key, counter, 0);
            return;
        }
        nint data = (nint)t.Pointer<T>();
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            long start = (long)c * RandomChunk;
            int length = (int)Math.Min(RandomChunk, n - start);
            fill(new Span<T>((T*)data + start, length), key, counter, start);
        });
    }
}
