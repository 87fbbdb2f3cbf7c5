namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// A C# number used with a tensor of dtype <paramref name="like"/>, as the 0-d tensor PyTorch makes
    /// of a Python scalar: the tensor's own dtype when that is floating point or when the value is
    /// integral (int64 beside a bool tensor); float32 otherwise, so an int tensor minus 0.5 is float.
    /// </summary>
    internal static Tensor ScalarOperand(double value, DType like)
    {
        DType dtype;
        if (like.IsFloatingPoint()) dtype = like;
        else if (!double.IsInteger(value)) dtype = DType.Float32;
        else dtype = like == DType.Bool ? DType.Int64 : like;
        return CachedScalar(value, dtype);
    }

    /// <summary>
    /// Recently used scalar operands of this thread, direct-mapped by value and dtype, so a loop
    /// computing <c>x * 0.5 + 1</c> allocates only its results. The tensors never leave the
    /// operators (no caller can write into them) and belong to no scope.
    /// </summary>
    [ThreadStatic] private static ScalarCacheEntry[]? _scalarCache;
    private const int ScalarCacheSize = 32;   // the hash keeps the top 5 bits

    private struct ScalarCacheEntry
    {
        internal long Bits;
        internal DType DType;
        internal Tensor? Tensor;
    }

    private static Tensor CachedScalar(double value, DType dtype)
    {
        var cache = _scalarCache ??= new ScalarCacheEntry[ScalarCacheSize];
        long bits = BitConverter.DoubleToInt64Bits(value);
        ulong hash = ((ulong)bits + (ulong)dtype) * 0x9E3779B97F4A7C15UL;
        ref var entry = ref cache[(int)(hash >> 59)];
        if (entry.Tensor is { IsDisposed: false } cached && entry.Bits == bits && entry.DType == dtype) return cached;
        // An evicted operand is left to the garbage collector, not disposed: a graph may still hold it.
        entry.Tensor = Scalar(value, dtype).DetachFromScope();
        entry.Bits = bits;
        entry.DType = dtype;
        return entry.Tensor;
    }

    /// <summary>This tensor when it is floating point, else converted to float32 (PyTorch's rule for math functions of integer tensors).</summary>
    internal Tensor AsFloatingPoint() => DType.IsFloatingPoint() ? this : To(DType.Float32);
}
